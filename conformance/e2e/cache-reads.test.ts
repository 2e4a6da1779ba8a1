// The cache tier on reads: a miss fills a copy while the client reads, a hit is served from it, a
// copy is never served once its under-store file changed, the cache never outgrows its size and
// evicts the least recently used copies first, concurrent misses read the under store once, and
// two processes share one cache dir.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import t from 'tap';
import { cacheBytes, copyPath, hasCopy, ledgerUsed, scratchDir, startCached, type CachedSluice } from '../lib/cache-helpers';
import { createBucket, md5Hex, objectPath, putObject, s3, startSluice, startSmallObjectThread, waitFor, type Sluice } from '../lib/harness';
import { patternBytes } from '../lib/multipart-helpers';

const KiB = 1024;

/** The bytes of a key's copy as text, if there is one now. */
function copyText(cacheDir: string, bucket: string, key: string): string | undefined {
  try {
    return readFileSync(copyPath(cacheDir, bucket, key), 'utf8');
  } catch {
    return undefined;
  }
}

/** GETs `path` and hangs up once `bytes` of the response arrived. */
function readThenHangUp(server: Sluice, path: string, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= bytes) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

/**
 * Starts the small-object thread, as a load of hits does (a trickle does not): small copies are
 * then read in one trip to it. It stays while requests keep coming, for what follows.
 */
async function startSmallCopies(t: tap.Test, server: CachedSluice, bucket: string): Promise<void> {
  await putObject(server, bucket, 'warm', 'w');
  await s3(server, 'GET', `/${bucket}/warm`);
  await waitFor(() => hasCopy(server.cacheDir, bucket, 'warm'), 'the copy of warm');
  const { before, after } = await startSmallObjectThread(server, `/${bucket}/warm`);
  t.ok(after > before, `bursts of hits start the small-object thread (${before} threads, then ${after})`);
}

for (const load of ['a trickle', 'a load of hits'] as const) {
  t.test(`${load}: a miss fills a copy, a hit serves it, a file changed behind the cache is never served stale`, async (t) => {
    const server = await startCached({ writeType: 'THROUGH' });
    t.teardown(() => server.stop());
    await createBucket(server, 'reads');
    if (load === 'a load of hits') await startSmallCopies(t, server, 'reads');
    await putObject(server, 'reads', 'a/doc.txt', 'first version', { 'Content-Type': 'text/plain', 'x-amz-meta-colour': 'blue' });
    t.notOk(hasCopy(server.cacheDir, 'reads', 'a/doc.txt'), 'THROUGH writes no copy');

    const miss = await s3(server, 'GET', '/reads/a/doc.txt');
    t.equal(miss.text, 'first version');
    await waitFor(() => hasCopy(server.cacheDir, 'reads', 'a/doc.txt'), 'the copy after a whole read');
    t.equal(readFileSync(copyPath(server.cacheDir, 'reads', 'a/doc.txt'), 'utf8'), 'first version');

    const hit = await s3(server, 'GET', '/reads/a/doc.txt');
    t.equal(hit.text, 'first version');
    t.equal(hit.headers.etag, miss.headers.etag);
    t.equal(hit.headers['content-type'], 'text/plain');
    t.equal(hit.headers['x-amz-meta-colour'], 'blue');
    t.equal(hit.headers['last-modified'], miss.headers['last-modified'], 'Last-Modified is the object\'s, not the copy\'s');
    t.equal(hit.headers['x-sluice-persistence-state'], 'PERSISTED');

    // Another program rewrites the file in ROOT: the copy no longer matches it.
    writeFileSync(join(server.root, 'reads', 'a', 'doc.txt'), 'changed by another program');
    const fresh = await s3(server, 'GET', '/reads/a/doc.txt');
    t.equal(fresh.text, 'changed by another program');
    t.not(fresh.headers.etag, hit.headers.etag);
    await waitFor(() => copyText(server.cacheDir, 'reads', 'a/doc.txt') === 'changed by another program', 'a fresh copy');

    // Tags changed through another sluice on the same ROOT (no cache): the hit's tag count follows.
    const other = await startSluice({ root: server.root, keepRoot: true });
    t.teardown(() => other.stop());
    await putObject(server, 'reads', 'tagged', 'bytes');
    await s3(server, 'GET', '/reads/tagged');
    await waitFor(() => hasCopy(server.cacheDir, 'reads', 'tagged'), 'the copy of tagged');
    const tagging = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';
    t.equal((await s3(other, 'PUT', '/reads/tagged?tagging', { body: tagging })).status, 200);
    t.equal((await s3(server, 'GET', '/reads/tagged')).headers['x-amz-tagging-count'], '1', 'attributes refreshed, bytes kept');

    // Deleted in ROOT behind the cache: NoSuchKey, not the copy.
    await s3(other, 'DELETE', '/reads/tagged');
    t.equal((await s3(server, 'GET', '/reads/tagged')).status, 404);
  });
}

t.test('the cache never outgrows its size, and evicts the least recently used copies first', async (t) => {
  const size = 200 * KiB;
  const server = await startCached({ writeType: 'THROUGH', size: String(size) });
  t.teardown(() => server.stop());
  await createBucket(server, 'lru');
  const keys = ['k0', 'k1', 'k2', 'k3'];
  for (const [i, key] of keys.entries()) await putObject(server, 'lru', key, patternBytes(60 * KiB, i));
  // Fill k0..k2 (180 KiB), then use k0 again: k1 is now the least recently used.
  for (const key of keys.slice(0, 3)) {
    await s3(server, 'GET', `/lru/${key}`);
    await waitFor(() => hasCopy(server.cacheDir, 'lru', key), `the copy of ${key}`);
    await new Promise((r) => setTimeout(r, 2100)); // uses are recorded at most every 2 s
  }
  t.equal((await s3(server, 'GET', '/lru/k0')).status, 200);
  // The use is recorded (the copy's mtime) after the answer.
  const usedAt = (key: string): number => statSync(copyPath(server.cacheDir, 'lru', key)).mtimeMs;
  await waitFor(() => usedAt('k0') > usedAt('k2'), 'the use of k0 recorded');
  // k3 does not fit beside the three: room is made by evicting the oldest use, k1.
  const k3 = await s3(server, 'GET', '/lru/k3');
  t.equal(md5Hex(k3.body), md5Hex(patternBytes(60 * KiB, 3)));
  await waitFor(() => hasCopy(server.cacheDir, 'lru', 'k3'), 'the copy of k3');
  t.notOk(hasCopy(server.cacheDir, 'lru', 'k1'), 'k1, the least recently used, was evicted');
  t.ok(hasCopy(server.cacheDir, 'lru', 'k0'), 'k0, used again, stays');
  t.ok(cacheBytes(server.cacheDir) <= size, `the cache holds ${cacheBytes(server.cacheDir)} of at most ${size} bytes`);
  t.equal(ledgerUsed(server.cacheDir), cacheBytes(server.cacheDir), 'the ledger counts what is there');

  // An object larger than the whole cache is served, and never cached.
  await putObject(server, 'lru', 'huge', patternBytes(300 * KiB, 9));
  t.equal((await s3(server, 'GET', '/lru/huge')).body.length, 300 * KiB);
  t.notOk(hasCopy(server.cacheDir, 'lru', 'huge'));
  t.ok(cacheBytes(server.cacheDir) <= size);
});

t.test('a client that hangs up mid-read leaves no partial copy; a ranged miss is filled in the background', async (t) => {
  const server = await startCached({ writeType: 'THROUGH' });
  t.teardown(() => server.stop());
  await createBucket(server, 'partial');
  const big = patternBytes(8 * 1024 * KiB, 1);
  await putObject(server, 'partial', 'big', big);
  // Read 64 KiB of the response, then close the socket.
  await readThenHangUp(server, '/partial/big', 64 * KiB);
  await waitFor(() => ledgerUsed(server.cacheDir) === 0, 'the reservation of the read cut short to go').catch(() => undefined);
  t.notOk(hasCopy(server.cacheDir, 'partial', 'big'), 'no copy of a read that stopped short');
  t.equal(ledgerUsed(server.cacheDir), 0, 'its reserved space is given back');

  const range = await s3(server, 'GET', '/partial/big', { headers: { Range: 'bytes=100-199' } });
  t.equal(range.status, 206);
  t.same(range.body, big.subarray(100, 200));
  await waitFor(() => hasCopy(server.cacheDir, 'partial', 'big'), 'the background fill after a ranged miss');
  t.equal(md5Hex(readFileSync(copyPath(server.cacheDir, 'partial', 'big'))), md5Hex(big));
  const hit = await s3(server, 'GET', '/partial/big', { headers: { Range: 'bytes=5000000-5000009' } });
  t.same(hit.body, big.subarray(5_000_000, 5_000_010), 'a ranged hit');
});

/**
 * Bytes of `path` read by the threads of a process, from `strace -ff -y -e trace=read,pread64`
 * logs (one file per thread, `prefix.<tid>`, so that no call is split across lines).
 */
function bytesRead(prefix: string, path: string): number {
  let total = 0;
  const dir = dirname(prefix);
  for (const file of readdirSync(dir).filter((n) => n.startsWith(`${basename(prefix)}.`))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const match = /^p?read(?:64)?\((\d+)<([^>]*)>.*\)\s+=\s+(\d+)/.exec(line);
      if (match && match[2] === path) total += Number(match[3]);
    }
  }
  return total;
}

t.test('concurrent misses of one object, in one process and across two, read the under store once', async (t) => {
  const cacheDir = scratchDir(t, 'sluice-cache-');
  const root = scratchDir(t);
  const logs = [join(scratchDir(t), 'a.strace'), join(scratchDir(t), 'b.strace')];
  const wrapper = (log: string): string[] => ['strace', '-ff', '-y', '-qq', '-e', 'trace=read,pread64', '-o', log];
  const a = await startCached({ root, cacheDir, writeType: 'THROUGH', wrapper: wrapper(logs[0]!) });
  t.teardown(() => a.stop());
  const b = await startCached({ root, cacheDir, writeType: 'THROUGH', wrapper: wrapper(logs[1]!) });
  t.teardown(() => b.stop());
  await createBucket(a, 'many');
  const body = patternBytes(24 * 1024 * KiB, 4);
  await putObject(a, 'many', 'shared', body);
  const reads = await Promise.all(Array.from({ length: 6 }, (_, i) => s3(i % 2 === 0 ? a : b, 'GET', '/many/shared')));
  for (const res of reads) t.equal(md5Hex(res.body), md5Hex(body));
  await a.stop();
  await b.stop();
  const ufsFile = join(root, 'many', 'shared');
  const total = bytesRead(logs[0]!, ufsFile) + bytesRead(logs[1]!, ufsFile);
  t.equal(total, body.length, `six concurrent GETs on two processes read ${total} bytes of the file in ROOT`);
});

t.test('two processes share one cache dir: a copy filled by one is a hit for the other, the size bound is shared', async (t) => {
  const cacheDir = scratchDir(t, 'sluice-cache-');
  const root = scratchDir(t);
  const a = await startCached({ root, cacheDir, writeType: 'THROUGH', size: '300KB' });
  t.teardown(() => a.stop());
  const b = await startCached({ root, cacheDir, writeType: 'THROUGH', size: '300KB' });
  t.teardown(() => b.stop());
  await createBucket(a, 'two');
  for (let i = 0; i < 8; i++) await putObject(a, 'two', `o${i}`, patternBytes(100 * KiB, i));
  await s3(a, 'GET', '/two/o0');
  await waitFor(() => hasCopy(cacheDir, 'two', 'o0'), 'the copy of o0');
  const before = readFileSync(copyPath(cacheDir, 'two', 'o0'));
  t.same((await s3(b, 'GET', '/two/o0')).body, before);
  // Both fill at once, far past the size: what is there never exceeds it.
  await Promise.all(Array.from({ length: 16 }, (_, i) => s3(i % 2 ? a : b, 'GET', objectPath('two', `o${i % 8}`))));
  t.ok(cacheBytes(cacheDir) <= 300 * KiB, `${cacheBytes(cacheDir)} bytes cached, at most ${300 * KiB}`);
  // Fills that finish after their answers (on a loaded machine, a while after) settle the ledger.
  await waitFor(() => ledgerUsed(cacheDir) === cacheBytes(cacheDir), 'the shared ledger to count what is there').catch(() => undefined);
  t.ok(cacheBytes(cacheDir) <= 300 * KiB, `${cacheBytes(cacheDir)} bytes cached, at most ${300 * KiB}`);
  t.equal(ledgerUsed(cacheDir), cacheBytes(cacheDir), 'the shared ledger counts what is there');
});

t.test('the cache and its ledger survive a kill -9 and a restart', async (t) => {
  const cacheDir = scratchDir(t, 'sluice-cache-');
  const root = scratchDir(t);
  const first = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH', keepRoot: true });
  await createBucket(first, 'kept');
  await putObject(first, 'kept', 'x', patternBytes(50 * KiB, 7));
  t.ok(hasCopy(cacheDir, 'kept', 'x'), 'CACHE_THROUGH: the copy before the answer');
  first.process.kill('SIGKILL');
  await new Promise((r) => first.process.once('exit', r));
  const second = await startCached({ root, cacheDir, writeType: 'CACHE_THROUGH' });
  t.teardown(() => second.stop());
  t.ok(hasCopy(cacheDir, 'kept', 'x'), 'the copy is still there');
  t.equal(ledgerUsed(cacheDir), cacheBytes(cacheDir), 'recounted at start');
  t.equal(md5Hex((await s3(second, 'GET', '/kept/x')).body), md5Hex(patternBytes(50 * KiB, 7)));
});
