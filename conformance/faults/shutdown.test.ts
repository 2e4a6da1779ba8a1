// Graceful shutdown: on SIGTERM a slow upload in flight is finished and answered, then sluice
// exits 0 (and is not ready meanwhile); one that outlasts --shutdown-timeout is aborted, leaving
// no temp file and no object; a cluster's primary passes SIGTERM on and exits once its workers
// have.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { createBucket, simpleAuth, startSluice, waitFor, type Sluice } from '../lib/harness';
import { childrenOf, exitOf, isRunning } from '../lib/processes';
import { sleep } from './lib';

/** A PUT whose body arrives in `pieces` pieces, one every `everyMs`; resolves with its status (0: cut off). */
function slowPut(server: Sluice, path: string, body: Buffer, pieces: number, everyMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method: 'PUT', path, headers: { 'Content-Length': body.length, Authorization: simpleAuth() } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    const size = Math.ceil(body.length / pieces);
    let sent = 0;
    const timer = setInterval(() => {
      if (req.destroyed) return clearInterval(timer);
      req.write(body.subarray(sent, sent + size));
      sent += size;
      if (sent >= body.length) {
        clearInterval(timer);
        req.end();
      }
    }, everyMs);
  });
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');
const tempEntries = (server: Sluice): string[] => readdirSync(join(server.root, '.sluice', 'tmp'));

t.test('SIGTERM: a slow PUT in flight completes, then sluice exits 0', async (t) => {
  const server = await startSluice({ args: ['--admin-port', '0'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'drain');
  const admin = /metrics on http:\/\/127\.0\.0\.1:(\d+)\//;
  await waitFor(() => admin.test(server.output()), 'the admin port');
  const adminPort = admin.exec(server.output())![1];
  const body = Buffer.alloc(2 * 1024 * 1024, 'slow;');
  const put = slowPut(server, '/drain/slow', body, 16, 100); // about 1.6 s
  await waitFor(() => tempEntries(server).length === 1, 'the upload to be under way');
  const exited = exitOf(server.process);
  const signalled = Date.now();
  server.process.kill('SIGTERM');
  await sleep(200);
  const ready = await fetch(`http://127.0.0.1:${adminPort}/-/ready`);
  t.equal(ready.status, 503, 'not ready while it drains');
  t.equal(await ready.text(), 'not ready: shutting down\n');
  const status = await put;
  const answered = Date.now();
  t.equal(status, 200, 'the PUT in flight was finished and answered');
  const { code, at } = await exited;
  t.equal(code, 0, 'exit code 0');
  t.ok(at >= answered - 50, `exited after the answer (${answered - signalled} ms after SIGTERM, exit at ${at - signalled} ms)`);
  t.same(tempEntries(server), [], 'no temp file left');
  t.ok(existsSync(join(server.root, 'drain', 'slow')), 'the object is there');
  t.equal(md5(readFileSync(join(server.root, 'drain', 'slow'))), md5(body), 'whole');
  t.match(server.output(), /SIGTERM: stopping \(process \d+, 1 request\(s\) in flight/);
});

t.test('SIGTERM: a PUT that outlasts --shutdown-timeout is aborted and leaves nothing', async (t) => {
  const server = await startSluice({ args: ['--shutdown-timeout', '1sec'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'cut');
  const put = slowPut(server, '/cut/never', Buffer.alloc(4 * 1024 * 1024, 'x'), 40, 250); // about 10 s
  await waitFor(() => tempEntries(server).length === 1, 'the upload to be under way');
  const exited = exitOf(server.process);
  const signalled = Date.now();
  server.process.kill('SIGTERM');
  const { code, at } = await exited;
  t.equal(code, 0, 'exit code 0');
  const took = at - signalled;
  t.ok(took >= 900 && took < 6000, `after the timeout, not before and not much after (${took} ms)`);
  t.equal(await put, 0, 'the PUT was cut off');
  t.same(tempEntries(server), [], 'no temp file left');
  t.notOk(existsSync(join(server.root, 'cut', 'never')), 'no object');
  t.match(server.output(), /aborted 1 request\(s\) still in flight after 1000 ms/);
});

// SIGTERM to the primary alone (systemd's KillMode=mixed), and SIGINT to the whole process group
// (Ctrl-C in a terminal), which reaches each worker twice: from the terminal and from the primary.
for (const [how, signal] of [['SIGTERM to the primary', 'SIGTERM'], ['Ctrl-C (SIGINT to the process group)', 'SIGINT']] as const) {
  t.test(`a cluster, ${how}: the workers finish what is in flight, all exit 0`, async (t) => {
    const server = await startSluice({ args: ['--workers', '2'], wrapper: [] }); // a process group of its own
    t.teardown(() => server.stop());
    await waitFor(() => childrenOf(server.process.pid!).length === 2, 'two workers');
    const workers = childrenOf(server.process.pid!);
    await createBucket(server, 'cluster');
    const body = Buffer.alloc(1024 * 1024, 'w');
    const put = slowPut(server, '/cluster/slow', body, 10, 100);
    await waitFor(() => tempEntries(server).length === 1, 'the upload to be under way');
    const exited = exitOf(server.process);
    process.kill(signal === 'SIGINT' ? -server.process.pid! : server.process.pid!, signal);
    t.equal(await put, 200, 'the PUT in flight completes');
    t.equal((await exited).code, 0, 'the primary exits 0');
    t.ok(workers.every((pid) => !isRunning(pid)), 'after its workers');
    t.same(tempEntries(server), [], 'no temp file left');
    t.equal(md5(readFileSync(join(server.root, 'cluster', 'slow'))), md5(body), 'the object is whole');
  });
}
