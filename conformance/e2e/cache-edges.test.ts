// The cache tier at its edges: a copy that fails while its source is being read leaves no fill
// behind; conditional writes are decided once under every write type; `a:b` buckets and their
// parent share one copy; folder objects stay listed beside cache-only keys; the default size is
// kept across restarts; processes starting together on one cache count it right.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cacheBytes, copyPath, hasCopy, ledgerUsed, scratchDir, startCached } from '../lib/cache-helpers';
import { createBucket, errorCode, md5Hex, putObject, rawRequest, s3, waitFor, xmlValues } from '../lib/harness';
import { patternBytes } from '../lib/multipart-helpers';

const KiB = 1024;

t.test('a copy that fails while its source is being read leaves no fill and no reservation behind', async (t) => {
  const server = await startCached({ writeType: 'MUST_CACHE', size: '300KB' });
  t.teardown(() => server.stop());
  await createBucket(server, 'edge');
  // The source is in ROOT (written by another program), the cache mostly full of a pinned object.
  const source = patternBytes(200 * KiB, 1);
  writeFileSync(join(server.root, 'edge', 'src'), source);
  await putObject(server, 'edge', 'pinned', patternBytes(150 * KiB, 2));
  const copy = await s3(server, 'PUT', '/edge/dst', { headers: { 'x-amz-copy-source': '/edge/src' } });
  t.equal(copy.status, 507, 'the copy does not fit beside the pinned object');
  await new Promise((r) => setTimeout(r, 300));
  t.same(readdirSync(join(server.cacheDir, '.sluice', 'fills')), [], 'no fill announced');
  t.same(readdirSync(join(server.cacheDir, '.sluice', 'reservations')), [], 'no space held');
  const started = Date.now();
  const got = await s3(server, 'GET', '/edge/src');
  t.equal(md5Hex(got.body), md5Hex(source));
  t.ok(Date.now() - started < 3000, `the source reads at once afterwards (${Date.now() - started} ms)`);
});

t.test('If-None-Match: * lets exactly one of concurrent writers win, under every write type', async (t) => {
  for (const writeType of ['THROUGH', 'CACHE_THROUGH', 'MUST_CACHE', 'ASYNC_THROUGH']) {
    const server = await startCached({ writeType });
    t.teardown(() => server.stop());
    await createBucket(server, 'cond');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s3(server, 'PUT', '/cond/once', { headers: { 'If-None-Match': '*' }, body: patternBytes(64 * KiB, i) })),
    );
    const statuses = answers.map((a) => a.status).sort();
    t.same(statuses, [200, 412, 412, 412, 412, 412, 412, 412], `${writeType}: one 200, the others 412`);
    const winner = answers.findIndex((a) => a.status === 200);
    t.equal(md5Hex((await s3(server, 'GET', '/cond/once')).body), md5Hex(patternBytes(64 * KiB, winner)), `${writeType}: the winner's bytes`);
    const current = String((await s3(server, 'HEAD', '/cond/once')).headers.etag);
    t.equal((await s3(server, 'PUT', '/cond/once', { headers: { 'If-Match': '"0123"' }, body: 'x' })).status, 412, `${writeType}: If-Match another ETag`);
    t.equal((await s3(server, 'PUT', '/cond/once', { headers: { 'If-Match': current }, body: 'y' })).status, 200, `${writeType}: If-Match its ETag`);
  }
});

t.test('a sub-directory bucket and its parent name one file: one copy, one ledger entry', async (t) => {
  const server = await startCached({ writeType: 'THROUGH' });
  t.teardown(() => server.stop());
  await createBucket(server, 'outer');
  mkdirSync(join(server.root, 'outer', 'inner'));
  writeFileSync(join(server.root, 'outer', 'inner', 'k'), patternBytes(100 * KiB, 3));
  await s3(server, 'GET', '/outer/inner/k');
  await waitFor(() => hasCopy(server.cacheDir, 'outer', 'inner/k'), 'the copy');
  await s3(server, 'GET', '/outer:inner/k');
  await new Promise((r) => setTimeout(r, 200));
  t.ok(existsSync(copyPath(server.cacheDir, 'outer:inner', 'k')), 'the same copy, by either name');
  t.equal(cacheBytes(server.cacheDir), 100 * KiB, 'held once');
  t.equal(ledgerUsed(server.cacheDir), 100 * KiB);
});

t.test('with S3 semantics, a folder object in ROOT stays listed beside cache-only keys below it', async (t) => {
  const root = scratchDir(t);
  const through = await startCached({ root, writeType: 'THROUGH', keepRoot: true, args: ['--list-directories=false'] });
  t.teardown(() => through.stop());
  await createBucket(through, 'fold');
  t.equal((await s3(through, 'PUT', '/fold/d/', { body: '' })).status, 200);
  const must = await startCached({ root, writeType: 'MUST_CACHE', keepRoot: true, args: ['--list-directories=false'] });
  t.teardown(() => must.stop());
  await putObject(must, 'fold', 'd/x', 'cache-only');
  const listed = await s3(must, 'GET', '/fold?list-type=2');
  t.same(xmlValues(listed.text, 'Key'), ['d/', 'd/x']);
});

t.test('the default size is chosen once and kept: a restart does not shrink the cache', async (t) => {
  const cacheDir = scratchDir(t, 'sluice-cache-');
  const root = scratchDir(t);
  const capacity = async (server: { port: number; url: string; endpoint: string; output(): string }): Promise<number> => {
    const text = (await rawRequest(server, 'GET', '/-/metrics')).text;
    return Number(/^sluice_cache_capacity_bytes (\d+)/m.exec(text)?.[1]);
  };
  const first = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', size: '', keepRoot: true });
  const chosen = await capacity(first);
  t.ok(chosen > 0, `a size was chosen (${chosen} bytes)`);
  await createBucket(first, 'kept');
  for (let i = 0; i < 4; i++) await putObject(first, 'kept', `k${i}`, patternBytes(256 * KiB, i));
  await first.stop();
  const second = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', size: '' });
  t.teardown(() => second.stop());
  t.equal(await capacity(second), chosen, 'the same size after a restart');
  for (let i = 0; i < 4; i++) t.ok(hasCopy(cacheDir, 'kept', `k${i}`), `k${i} still cached`);
});

t.test('processes starting together on one cache dir count it right', async (t) => {
  const cacheDir = scratchDir(t, 'sluice-cache-');
  const root = scratchDir(t);
  const seed = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', keepRoot: true });
  await createBucket(seed, 'many');
  for (let i = 0; i < 40; i++) await putObject(seed, 'many', `s${i}`, patternBytes(8 * KiB, i));
  seed.process.kill('SIGKILL'); // the next start recounts
  await new Promise((r) => seed.process.once('exit', r));
  const servers = await Promise.all([0, 1, 2].map(() => startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', keepRoot: true })));
  t.teardown(() => Promise.all(servers.map((s) => s.stop())));
  await Promise.all(servers.map((s, i) => Promise.all(Array.from({ length: 10 }, (_, j) => putObject(s, 'many', `n${i}-${j}`, patternBytes(16 * KiB, j))))));
  t.equal(ledgerUsed(cacheDir), cacheBytes(cacheDir), `the ledger counts the ${cacheBytes(cacheDir)} bytes there`);
  t.equal(errorCode(await s3(servers[0]!, 'GET', '/many/nothing')), 'NoSuchKey');
});
