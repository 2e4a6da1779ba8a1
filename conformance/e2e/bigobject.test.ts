// A 1 GiB PUT/GET round trip with curl: the bytes and MD5 match and the server's peak RSS stays
// under 150 MB, because bodies stream with backpressure and are never held whole in memory.
// In its own file so that it runs beside the other suites.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createBucket, filesUnder, md5OfFile, run, s3, simpleAuth, startSluice, tempDir, writeRandomFile } from '../lib/harness';

const SIZE = 1024 ** 3;
const RSS_LIMIT = 150 * 1024 * 1024;
const MB = 1024 * 1024;

t.test('1 GiB PUT and GET with flat memory', async (t) => {
  const server = await startSluice();
  const dir = tempDir();
  t.teardown(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await createBucket(server, 'big');
  const file = join(dir, 'one-gib.bin');
  const md5 = await writeRandomFile(file, SIZE);
  t.equal(statSync(file).size, SIZE, 'a 1 GiB source file, written a chunk at a time');
  const base = server.rss();
  const url = `${server.url}/big/dir/one-gib.bin`;
  const auth = `Authorization: ${simpleAuth()}`;

  // curl -T sends Expect: 100-continue for a body this size; Content-MD5 makes the server check.
  const contentMd5 = Buffer.from(md5, 'hex').toString('base64');
  const putStarted = Date.now();
  const put = await run('curl', ['-sS', '-T', file, '-H', auth, '-H', `Content-MD5: ${contentMd5}`, '-D', '-', '-o', '/dev/null', url]);
  const putSeconds = (Date.now() - putStarted) / 1000;
  t.equal(put.code, 0, put.stderr);
  t.match(put.stdout, /^HTTP\/1\.1 200/m, 'PUT 200');
  t.match(put.stdout, new RegExp(`ETag: "${md5}"`, 'i'), 'the ETag is the MD5 of the 1 GiB');
  const stored = join(server.root, 'big', 'dir', 'one-gib.bin');
  t.equal(statSync(stored).size, SIZE);
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), [], 'the temp file was renamed into place');

  const getStarted = Date.now();
  const get = await run('sh', ['-c', `curl -sS -H '${auth}' '${url}' | md5sum`]);
  const getSeconds = (Date.now() - getStarted) / 1000;
  t.equal(get.code, 0, get.stderr);
  t.equal(get.stdout.split(' ')[0], md5, 'the bytes read back have the same MD5');

  const tail = await s3(server, 'GET', '/big/dir/one-gib.bin', { headers: { Range: `bytes=${SIZE - MB}-` } });
  t.equal(tail.status, 206);
  t.equal(tail.body.length, MB, 'a ranged GET of the last MiB');
  t.equal(tail.headers['content-range'], `bytes ${SIZE - MB}-${SIZE - 1}/${SIZE}`);
  t.equal(await md5OfFile(stored), md5, 'the stored file is the same bytes');

  const peak = server.rss();
  t.ok(peak > 0, 'the peak RSS was read from /proc');
  t.ok(peak < RSS_LIMIT, `peak RSS ${(peak / MB).toFixed(1)} MB stays under 150 MB (at start ${(base / MB).toFixed(1)} MB)`);
  t.ok(putSeconds + getSeconds < 150, 'the round trip takes well under 3 minutes');
  t.comment(
    `1 GiB round trip: PUT ${putSeconds.toFixed(1)} s (${(1024 / putSeconds).toFixed(0)} MB/s), GET ${getSeconds.toFixed(1)} s (${(1024 / getSeconds).toFixed(0)} MB/s), ` +
      `server peak RSS ${(peak / MB).toFixed(1)} MB (${(base / MB).toFixed(1)} MB before)`,
  );
});
