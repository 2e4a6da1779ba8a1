// kill -9 in the middle of 50 concurrent overwrites of the same keys: after a restart every object
// is one whole version (its bytes match its ETag and one version that was written), the temp
// files of the dead process are swept, and a multipart upload in progress is intact. The same kill
// of a cluster's primary: its orphaned workers stop at once and leave no temp files behind.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { s3, startSluice, tempDir, waitFor, xmlValue, xmlValues, type Sluice } from '../lib/harness';
import { childrenOf, isRunning } from '../lib/processes';
import { sleep } from './lib';

const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const WRITERS = 50;

/** Version v of a key: a few MiB whose content says which key and version it is. */
function version(key: string, v: number): Buffer {
  const size = (1 + (v % 4)) * 1024 * 1024 + v;
  const body = Buffer.alloc(size, `${key}:${v};`);
  return body;
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function put(server: Sluice, key: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method: 'PUT', path: `/crash/${key}`, headers: { 'Content-Length': body.length, Authorization: 'AWS4-HMAC-SHA256 Credential=crash/x' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    // Written slowly in pieces, so that the kill lands while bodies are in flight.
    let offset = 0;
    const step = (): void => {
      if (offset >= body.length) return void req.end();
      const piece = body.subarray(offset, offset + 256 * 1024);
      offset += piece.length;
      if (req.write(piece)) setTimeout(step, 5);
      else req.once('drain', () => setTimeout(step, 5));
    };
    step();
  });
}

/** The bucket and each key's first version; returns the MD5s of the versions written, by key. */
async function firstVersions(t: tap.Test, server: Sluice): Promise<Map<string, Set<string>>> {
  t.equal((await s3(server, 'PUT', '/crash', { user: 'crash' })).status, 200);
  const written = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set<string>()]));
  for (const key of KEYS) {
    const body = version(key, 1000);
    written.get(key)!.add(md5(body));
    t.equal(await put(server, key, body), 200, `first version of ${key}`);
  }
  return written;
}

/** WRITERS concurrent overwrites, each version recorded in `written`; resolves with their statuses. */
function overwrites(server: Sluice, written: Map<string, Set<string>>): Promise<number[]> {
  return Promise.all(
    Array.from({ length: WRITERS }, (_, i) => {
      const key = KEYS[i % KEYS.length]!;
      const body = version(key, i);
      written.get(key)!.add(md5(body));
      return put(server, key, body);
    }),
  );
}

/** Every key reads as one whole version that was written, its bytes matching its ETag. */
async function everyObjectWhole(t: tap.Test, server: Sluice, written: Map<string, Set<string>>): Promise<void> {
  for (const key of KEYS) {
    const res = await s3(server, 'GET', `/crash/${key}`, { user: 'crash' });
    t.equal(res.status, 200, `${key} is readable`);
    const digest = md5(res.body);
    t.ok(written.get(key)!.has(digest), `${key} is one whole version that was written`);
    const etag = String(res.headers.etag).replace(/"/g, '');
    if (/^[0-9a-f]{32}$/.test(etag)) t.equal(etag, digest, `${key}: its bytes match its ETag`);
  }
}

t.test('kill -9 during concurrent overwrites', async (t) => {
  const root = tempDir();
  const first = await startSluice({ root, args: ['--access-log=false'] });
  const written = await firstVersions(t, first);
  const created = await s3(first, 'POST', '/crash/big?uploads', { user: 'crash' });
  const uploadId = xmlValue(created.text, 'UploadId')!;
  const part1 = Buffer.alloc(5 * 1024 * 1024, 'part-one;');
  t.equal((await s3(first, 'PUT', `/crash/big?partNumber=1&uploadId=${uploadId}`, { user: 'crash', body: part1 })).status, 200);

  const writes = overwrites(first, written);
  await sleep(400);
  first.process.kill('SIGKILL');
  const statuses = await writes;
  t.ok(statuses.some((s) => s === 0), 'the kill interrupted writes in flight');
  await first.stop();

  const second = await startSluice({ root, args: ['--access-log=false'] });
  t.teardown(() => second.stop());
  t.same(readdirSync(join(root, '.sluice', 'tmp')), [], 'the dead process\'s temp files were swept at start');
  await everyObjectWhole(t, second, written);
  const parts = await s3(second, 'GET', `/crash/big?uploadId=${uploadId}`, { user: 'crash' });
  t.same(xmlValues(parts.text, 'PartNumber'), ['1'], 'the upload in progress kept its part');
  const part2 = Buffer.from('the last part');
  t.equal((await s3(second, 'PUT', `/crash/big?partNumber=2&uploadId=${uploadId}`, { user: 'crash', body: part2 })).status, 200);
  const complete = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${md5(part1)}"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"${md5(part2)}"</ETag></Part></CompleteMultipartUpload>`;
  const done = await s3(second, 'POST', `/crash/big?uploadId=${uploadId}`, { user: 'crash', body: complete });
  t.equal(done.status, 200, 'the upload completes after the restart');
  const big = await s3(second, 'GET', '/crash/big', { user: 'crash' });
  t.equal(md5(big.body), md5(Buffer.concat([part1, part2])), 'and holds its parts');
});

t.test('kill -9 of a cluster\'s primary with writers running, and an immediate restart', async (t) => {
  const root = tempDir();
  const first = await startSluice({ root, args: ['--workers', '2', '--access-log=false'] });
  t.teardown(() => first.stop());
  await waitFor(() => childrenOf(first.process.pid!).length === 2, 'two workers');
  const orphans = childrenOf(first.process.pid!);
  const written = await firstVersions(t, first);
  const writes = overwrites(first, written);
  const tmp = join(root, '.sluice', 'tmp');
  await waitFor(() => readdirSync(tmp).length >= 10, 'writes to be under way');
  first.process.kill('SIGKILL');
  const statuses = await writes;
  t.ok(statuses.some((s) => s === 0), `the kill cut writes off (${statuses.filter((s) => s === 0).length} of ${WRITERS})`);

  const second = await startSluice({ root, args: ['--workers', '2', '--access-log=false'] });
  t.teardown(() => second.stop());
  const started = Date.now();
  await waitFor(() => readdirSync(tmp).length === 0, 'no temp files', 5000);
  t.pass(`no temp files left ${Date.now() - started} ms after the restart`);
  await waitFor(() => orphans.every((pid) => !isRunning(pid)), 'the orphaned workers to be gone', 5000);
  t.pass('the orphaned workers stopped');
  await everyObjectWhole(t, second, written);
});
