// A cache-tier server killed and restarted with the same pid, as in a container where sluice is
// pid 1 after every restart: what the dead process left (a fill in progress, the space it held)
// must not pass for the new process's own.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { hasCopy, scratchDir, startCached } from '../lib/cache-helpers';
import { createBucket, md5Hex, putObject, run, s3, type Sluice } from '../lib/harness';
import { MiB, patternBytes } from '../lib/multipart-helpers';

/** Starts a GET and reads a little of it, then stops reading (the socket stays open). */
function stalledGet(server: Sluice, path: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    socket.once('data', () => {
      socket.pause();
      resolve(() => socket.destroy());
    });
    socket.on('error', reject);
  });
}

t.test('kill -9 of a pid-1 sluice mid-fill, restarted as pid 1 again: its fill and its space are not taken for alive', async (t) => {
  const probe = await run('unshare', ['-pf', '--mount-proc', 'true']);
  if (probe.code !== 0) {
    t.plan(0, `no pid namespaces here (unshare -pf: ${probe.stderr.trim()}); needs root and util-linux`);
    return;
  }
  const root = scratchDir(t);
  const cacheDir = scratchDir(t, 'sluice-cache-');
  // Its own pid namespace: sluice is pid 1 there, as in a container.
  const wrapper = ['unshare', '-pf', '--mount-proc'];
  const first = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', size: '64MB', keepRoot: true, wrapper });
  await createBucket(first, 'pid');
  const big = patternBytes(20 * MiB, 1);
  writeFileSync(join(root, 'pid', 'big'), big); // by another program: in ROOT, not cached
  const hangUp = await stalledGet(first, '/pid/big');
  await new Promise((r) => setTimeout(r, 300)); // the fill is announced and its 20 MiB held
  await first.stop(); // SIGKILL to the whole namespace
  hangUp();

  const second = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', size: '64MB', wrapper });
  t.teardown(() => second.stop());
  t.match(second.output(), /serving/, 'the second one is pid 1 too, in a namespace of its own');
  const started = Date.now();
  const got = await s3(second, 'GET', '/pid/big');
  t.equal(md5Hex(got.body), md5Hex(big), 'the dead fill is not followed: the GET reads ROOT');
  t.ok(Date.now() - started < 10_000, `and does not wait for it (${Date.now() - started} ms)`);
  // 50 MiB fit in 64 only if the dead process's 20 MiB are not counted any more.
  await putObject(second, 'pid', 'fifty', patternBytes(50 * MiB, 2));
  t.ok(hasCopy(cacheDir, 'pid', 'fifty'), 'the space the dead process held is free again');
});
