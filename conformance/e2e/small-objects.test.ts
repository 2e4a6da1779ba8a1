// Small objects take one round trip to a worker thread (namespace/small-objects.ts) instead of the
// full path's many; these check that they are the same objects either way: readers racing
// overwriters always get bytes and the ETag and metadata of one version, never a mix; the size
// boundary on both sides of 128 KiB; and the unusual cases the small path hands to the full one.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'node:http';
import t from 'tap';
import { createBucket, errorCode, filesUnder, md5Hex, putObject, s3, startSluice, startSmallObjectThread, type Sluice } from '../lib/harness';

const SMALL = 128 * 1024;

t.test('readers racing overwriters see whole versions', async (t) => {
  const server = await startSluice({ args: ['--access-log=false'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'race');
  // Each version names itself in its metadata and its bytes, and its bytes are its own length.
  const version = (n: number): Buffer => Buffer.alloc(100 + ((n * 7919) % 6000), `version ${n};`);
  await putObject(server, 'race', 'k', version(0), { 'x-amz-meta-n': '0' });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.teardown(() => agent.destroy());
  const problems: string[] = [];
  let writes = 0;
  let reads = 0;
  const until = Date.now() + 4000;
  const writer = async (id: number): Promise<void> => {
    for (let n = id; Date.now() < until; n += 4) {
      const res = await putObject(server, 'race', 'k', version(n), { 'x-amz-meta-n': String(n) });
      if (res.status !== 200) problems.push(`PUT ${n}: ${res.status}`);
      writes++;
    }
  };
  const reader = async (): Promise<void> => {
    while (Date.now() < until) {
      const res = await s3(server, 'GET', '/race/k');
      reads++;
      const n = Number(res.headers['x-amz-meta-n']);
      if (res.status !== 200) problems.push(`GET: ${res.status} ${errorCode(res)}`);
      else if (!res.body.equals(version(n))) problems.push(`GET: the bytes are not those of version ${n}`);
      else if (res.headers.etag !== `"${md5Hex(res.body)}"`) problems.push(`GET: the ETag of version ${n} is not its MD5`);
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer).concat([0, 1, 2, 3, 4, 5].map(reader)));
  t.same(problems.slice(0, 5), [], `${writes} overwrites, ${reads} GETs: every answer one whole version`);
  t.ok(writes > 50 && reads > 50, 'both sides ran');
});

/**
 * Starts the small-object thread, which a trickle of requests does not: bursts of small GETs. It
 * stays while requests keep coming (it ends after 5 s without), so what follows takes the small path.
 */
async function startSmallPath(t: tap.Test, server: Sluice, bucket: string): Promise<void> {
  await putObject(server, bucket, 'warm', 'w');
  const { before, after } = await startSmallObjectThread(server, `/${bucket}/warm`);
  t.ok(after > before, `bursts of small GETs start the small-object thread (${before} threads, then ${after})`);
}

t.test('both sides of the small size, and what the small path leaves to the full one', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'sizes');
  await startSmallPath(t, server, 'sizes');
  for (const size of [0, 1, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL]) {
    const body = Buffer.alloc(size, `${size}`);
    const put = await putObject(server, 'sizes', `s${size}`, body, { 'Content-Type': 'text/x-size' });
    t.equal(put.headers.etag, `"${md5Hex(body)}"`, `${size} bytes: the ETag is the MD5`);
    const get = await s3(server, 'GET', `/sizes/s${size}`);
    t.ok(get.body.equals(body), `${size} bytes: GET returns them`);
    t.equal(get.headers['content-type'], 'text/x-size', `${size} bytes: the metadata comes with them`);
    const range = await s3(server, 'GET', `/sizes/s${size}`, { headers: { Range: 'bytes=1-3' } });
    if (size > 3) t.ok(range.status === 206 && range.body.equals(body.subarray(1, 4)), `${size} bytes: a range of them`);
    t.equal((await s3(server, 'HEAD', `/sizes/s${size}`)).headers['content-length'], String(size), `${size} bytes: HEAD`);
  }

  // A key whose parents do not exist yet: they are made, and marked so they go with it.
  t.equal((await putObject(server, 'sizes', 'a/b/c', 'deep')).status, 200, 'a key below missing directories');
  t.equal((await s3(server, 'GET', '/sizes/a/b/c')).text, 'deep');
  t.equal((await s3(server, 'DELETE', '/sizes/a/b/c')).status, 204);
  t.notOk(filesUnder(join(server.root, 'sizes')).some((f) => f.startsWith('a')), 'its directories went with it');

  // A key that is also a prefix: the object goes inside the directory, and is read from there.
  await putObject(server, 'sizes', 'logs/x', 'below');
  t.equal((await putObject(server, 'sizes', 'logs', 'the object')).status, 200, 'a key that is a directory');
  t.equal((await s3(server, 'GET', '/sizes/logs')).text, 'the object');
  t.equal((await s3(server, 'GET', '/sizes/logs/x')).text, 'below');

  // A file another program wrote (no record) is served with foreign defaults; then rewritten by
  // that program, never with the old record.
  writeFileSync(join(server.root, 'sizes', 'foreign.txt'), 'theirs');
  const foreign = await s3(server, 'GET', '/sizes/foreign.txt');
  t.equal(foreign.text, 'theirs');
  t.match(foreign.headers.etag ?? '', /-1"$/, 'a foreign file: the non-MD5 ETag');
  await putObject(server, 'sizes', 'mine.txt', 'mine', { 'x-amz-meta-who': 'sluice' });
  writeFileSync(join(server.root, 'sizes', 'mine.txt'), 'rewritten by someone else');
  const rewritten = await s3(server, 'GET', '/sizes/mine.txt');
  t.equal(rewritten.text, 'rewritten by someone else');
  t.equal(rewritten.headers['x-amz-meta-who'], undefined, 'the old record is not applied to new bytes');

  // A directory that cannot be written: the error of the full path, and nothing left behind.
  mkdirSync(join(server.root, 'sizes', 'locked'));
  chmodSync(join(server.root, 'sizes', 'locked'), 0o555);
  t.teardown(() => chmodSync(join(server.root, 'sizes', 'locked'), 0o755));
  const before = filesUnder(join(server.root, '.sluice', 'tmp')).length;
  const refused = await putObject(server, 'sizes', 'locked/x', 'x');
  // root may write anywhere: then the write succeeds; otherwise it is refused with an S3 error.
  if (refused.status === 200) t.equal(readFileSync(join(server.root, 'sizes', 'locked', 'x'), 'utf8'), 'x');
  else t.ok(errorCode(refused), `refused with an S3 error (${refused.status})`);
  t.equal(filesUnder(join(server.root, '.sluice', 'tmp')).length, before, 'no temp file is left');
  t.ok(statSync(join(server.root, 'sizes')).isDirectory());
});
