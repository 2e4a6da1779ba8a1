// The cache tier on writes and deletes: each of Alluxio's write types (THROUGH, CACHE_THROUGH,
// MUST_CACHE, ASYNC_THROUGH) and delete types (ALLUXIO_AND_UFS, ALLUXIO_ONLY) with what reaches
// ROOT and the cache, cache-only objects as first-class S3 objects (listings merged with ROOT's,
// copy, tags, multipart), pinning and the size bound, and the persist queue surviving a kill -9.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cacheBytes, hasCopy, localPath, persistJobs, scratchDir, startCached } from '../lib/cache-helpers';
import { boto3, createBucket, errorCode, lastJson, md5Hex, putObject, s3, startSluice, waitFor, xmlValues } from '../lib/harness';
import { MiB, patternBytes } from '../lib/multipart-helpers';

const persistence = (res: { headers: Record<string, unknown> }): unknown => res.headers['x-sluice-persistence-state'];

t.test('THROUGH writes ROOT only; CACHE_THROUGH writes ROOT and the cache before it answers', async (t) => {
  const root = scratchDir(t);
  const through = await startCached({ root, writeType: 'THROUGH', keepRoot: true });
  t.teardown(() => through.stop());
  await createBucket(through, 'wtypes');
  await putObject(through, 'wtypes', 'through', 'T');
  t.equal(readFileSync(join(root, 'wtypes', 'through'), 'utf8'), 'T');
  t.notOk(hasCopy(through.cacheDir, 'wtypes', 'through'));

  const cached = await startCached({ root, writeType: 'CACHE_THROUGH', keepRoot: true });
  t.teardown(() => cached.stop());
  await putObject(cached, 'wtypes', 'both', 'B');
  t.equal(readFileSync(join(root, 'wtypes', 'both'), 'utf8'), 'B', 'in ROOT');
  t.ok(hasCopy(cached.cacheDir, 'wtypes', 'both'), 'and in the cache, when the PUT answered');
  t.equal(persistence(await s3(cached, 'HEAD', '/wtypes/both')), 'PERSISTED');
  // CACHE_THROUGH is the default write type.
  const byDefault = await startCached({ root, keepRoot: true });
  t.teardown(() => byDefault.stop());
  await putObject(byDefault, 'wtypes', 'default', 'D');
  t.ok(hasCopy(byDefault.cacheDir, 'wtypes', 'default'));
});

t.test('MUST_CACHE: a first-class object through this sidecar that never reaches ROOT', async (t) => {
  const server = await startCached({ writeType: 'MUST_CACHE' });
  t.teardown(() => server.stop());
  await createBucket(server, 'must');
  await putObject(server, 'must', 'dir/only-here', 'cached bytes', { 'Content-Type': 'text/plain', 'x-amz-tagging': 'a=1' });
  t.notOk(existsSync(join(server.root, 'must', 'dir')), 'nothing in ROOT');
  t.equal(readFileSync(localPath(server.cacheDir, 'must', 'dir/only-here'), 'utf8'), 'cached bytes');
  const got = await s3(server, 'GET', '/must/dir/only-here');
  t.equal(got.text, 'cached bytes');
  t.equal(got.headers['content-type'], 'text/plain');
  t.equal(persistence(got), 'NOT_PERSISTED');
  t.equal(got.headers['x-amz-tagging-count'], '1');

  // Tags, copy (cache-only to cache-only), multipart, delete: all through the cache.
  const tagging = '<Tagging><TagSet><Tag><Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>';
  t.equal((await s3(server, 'PUT', '/must/dir/only-here?tagging', { body: tagging })).status, 200);
  t.match((await s3(server, 'GET', '/must/dir/only-here?tagging')).text, /<Key>b<\/Key>/);
  const copy = await s3(server, 'PUT', '/must/copied', { headers: { 'x-amz-copy-source': '/must/dir/only-here' } });
  t.equal(copy.status, 200, copy.text);
  t.equal((await s3(server, 'GET', '/must/copied')).text, 'cached bytes');
  t.notOk(existsSync(join(server.root, 'must', 'copied')));

  const result = await boto3(
    server,
    `mpu = s3.create_multipart_upload(Bucket='must', Key='big')
p1 = s3.upload_part(Bucket='must', Key='big', UploadId=mpu['UploadId'], PartNumber=1, Body=b'x' * ${5 * MiB})
p2 = s3.upload_part(Bucket='must', Key='big', UploadId=mpu['UploadId'], PartNumber=2, Body=b'tail')
done = s3.complete_multipart_upload(Bucket='must', Key='big', UploadId=mpu['UploadId'],
    MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p1['ETag']}, {'PartNumber': 2, 'ETag': p2['ETag']}]})
print(json.dumps(done['ETag']))`,
  );
  t.match(lastJson<string>(result), /-2"$/);
  t.notOk(existsSync(join(server.root, 'must', 'big')), 'the assembled object is not in ROOT');
  t.equal((await s3(server, 'HEAD', '/must/big')).headers['content-length'], String(5 * MiB + 4));

  // A bucket that holds a cache-only object is not empty.
  t.equal(errorCode(await s3(server, 'DELETE', '/must')), 'BucketNotEmpty');
  for (const key of ['dir/only-here', 'copied', 'big']) t.equal((await s3(server, 'DELETE', `/must/${key}`)).status, 204);
  t.equal((await s3(server, 'GET', '/must/copied')).status, 404);
  t.equal((await s3(server, 'DELETE', '/must')).status, 204, 'empty now');
});

t.test('listings merge cache-only objects with ROOT\'s, in order, page by page', async (t) => {
  const server = await startCached({ writeType: 'MUST_CACHE', args: ['--list-directories=false'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'merge');
  // ROOT's objects, written by another program; cache-only ones through sluice.
  for (const key of ['a', 'c', 'e/1', 'g']) {
    const path = join(server.root, 'merge', ...key.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `ufs ${key}`);
  }
  for (const key of ['b', 'd', 'e/2', 'f', 'g']) await putObject(server, 'merge', key, `cache ${key}`);
  const keys: string[] = [];
  let token = '';
  for (let page = 0; page < 10; page++) {
    const res = await s3(server, 'GET', `/merge?list-type=2&max-keys=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`);
    keys.push(...xmlValues(res.text, 'Key'));
    token = xmlValues(res.text, 'NextContinuationToken')[0] ?? '';
    if (!token) break;
  }
  t.same(keys, ['a', 'b', 'c', 'd', 'e/1', 'e/2', 'f', 'g'], 'v2, two keys a page');
  t.equal((await s3(server, 'GET', '/merge/g')).text, 'cache g', 'the cache-only version of a key in both is the current one');
  const delimited = await s3(server, 'GET', '/merge?delimiter=/&max-keys=3&marker=b');
  t.same(xmlValues(delimited.text, 'Key'), ['c', 'd']);
  t.same(xmlValues(delimited.text, 'Prefix').filter((p) => p !== ''), ['e/']);
  t.equal(xmlValues(delimited.text, 'NextMarker')[0], 'e/');
});

t.test('ASYNC_THROUGH answers at once, then persists; HEAD tells which', async (t) => {
  const server = await startCached({ writeType: 'ASYNC_THROUGH' });
  t.teardown(() => server.stop());
  await createBucket(server, 'async');
  await putObject(server, 'async', 'later', 'async bytes', { 'x-amz-meta-m': 'v' });
  const first = await s3(server, 'HEAD', '/async/later');
  t.ok(['TO_BE_PERSISTED', 'PERSISTED'].includes(String(persistence(first))));
  await waitFor(() => existsSync(join(server.root, 'async', 'later')), 'the object in ROOT', 10_000);
  t.equal(readFileSync(join(server.root, 'async', 'later'), 'utf8'), 'async bytes');
  await waitFor(async () => persistence(await s3(server, 'HEAD', '/async/later')) === 'PERSISTED', 'PERSISTED', 5000);
  const plain = await startSluice({ root: server.root, keepRoot: true });
  t.teardown(() => plain.stop());
  t.equal((await s3(plain, 'GET', '/async/later')).headers['x-amz-meta-m'], 'v', 'persisted with its metadata');
  t.ok(hasCopy(server.cacheDir, 'async', 'later'), 'the cache keeps it as a copy, evictable now');
  t.same(persistJobs(server.cacheDir), [], 'the queue is empty');

  // An overwrite and a delete win over a persist still queued: nothing old reaches ROOT.
  await putObject(server, 'async', 'raced', 'v1');
  await putObject(server, 'async', 'raced', 'v2');
  await putObject(server, 'async', 'deleted', 'gone');
  await s3(server, 'DELETE', '/async/deleted');
  await waitFor(() => persistJobs(server.cacheDir).length === 0, 'the queue to drain', 10_000);
  t.equal(readFileSync(join(server.root, 'async', 'raced'), 'utf8'), 'v2');
  t.notOk(existsSync(join(server.root, 'async', 'deleted')), 'a deleted object is never persisted');
});

t.test('kill -9 during an ASYNC_THROUGH persist: after a restart the object reaches ROOT', async (t) => {
  const root = scratchDir(t);
  const cacheDir = scratchDir(t, 'sluice-cache-');
  const body = patternBytes(96 * MiB, 5);
  const first = await startCached({ root, cacheDir, writeType: 'ASYNC_THROUGH', size: '256MB', keepRoot: true });
  await createBucket(first, 'crash');
  await putObject(first, 'crash', 'big', body);
  first.process.kill('SIGKILL'); // the persist of 96 MiB has barely begun
  await new Promise((r) => first.process.once('exit', r));
  t.notOk(existsSync(join(root, 'crash', 'big')), 'not in ROOT yet when it died');
  const second = await startCached({ root, cacheDir, writeType: 'ASYNC_THROUGH', size: '256MB' });
  t.teardown(() => second.stop());
  t.equal(md5Hex((await s3(second, 'GET', '/crash/big')).body), md5Hex(body), 'served from the cache meanwhile');
  await waitFor(() => existsSync(join(root, 'crash', 'big')), 'the persist after the restart', 30_000);
  t.equal(md5Hex(readFileSync(join(root, 'crash', 'big'))), md5Hex(body));
});

t.test('pinned objects are never evicted; a write that cannot fit is 507 and loses nothing', async (t) => {
  const server = await startCached({ writeType: 'MUST_CACHE', size: '300KB' });
  t.teardown(() => server.stop());
  await createBucket(server, 'pin');
  const a = patternBytes(120 * 1024, 1);
  await putObject(server, 'pin', 'a', a);
  await putObject(server, 'pin', 'b', patternBytes(120 * 1024, 2));
  const refused = await s3(server, 'PUT', '/pin/c', { body: patternBytes(120 * 1024, 3) });
  t.equal(refused.status, 507);
  t.equal(errorCode(refused), 'InsufficientStorage');
  t.equal((await s3(server, 'GET', '/pin/c')).status, 404, 'nothing of it stays');
  const overwrite = await s3(server, 'PUT', '/pin/a', { body: patternBytes(250 * 1024, 4) });
  t.equal(overwrite.status, 507, 'an overwrite that cannot fit');
  t.equal(md5Hex((await s3(server, 'GET', '/pin/a')).body), md5Hex(a), 'the previous version stays');
  t.ok(cacheBytes(server.cacheDir) <= 300 * 1024);
});

t.test('delete types: ALLUXIO_AND_UFS deletes both; ALLUXIO_ONLY keeps a persisted object, drops a cache-only one', async (t) => {
  const root = scratchDir(t);
  const both = await startCached({ root, writeType: 'CACHE_THROUGH', keepRoot: true });
  t.teardown(() => both.stop());
  await createBucket(both, 'del');
  await putObject(both, 'del', 'x', 'X');
  t.equal((await s3(both, 'DELETE', '/del/x')).status, 204);
  t.notOk(existsSync(join(root, 'del', 'x')));
  t.notOk(hasCopy(both.cacheDir, 'del', 'x'));

  const onlyCache = await startCached({ root, writeType: 'CACHE_THROUGH', deleteType: 'ALLUXIO_ONLY', keepRoot: true });
  t.teardown(() => onlyCache.stop());
  await putObject(onlyCache, 'del', 'kept', 'K');
  t.equal((await s3(onlyCache, 'DELETE', '/del/kept')).status, 204);
  t.notOk(hasCopy(onlyCache.cacheDir, 'del', 'kept'), 'gone from the cache');
  t.equal((await s3(onlyCache, 'GET', '/del/kept')).text, 'K', 'still in ROOT, so still visible');

  const mustOnly = await startCached({ root, writeType: 'MUST_CACHE', deleteType: 'ALLUXIO_ONLY', keepRoot: true });
  t.teardown(() => mustOnly.stop());
  await putObject(mustOnly, 'del', 'local', 'L');
  t.equal((await s3(mustOnly, 'DELETE', '/del/local')).status, 204);
  t.equal((await s3(mustOnly, 'GET', '/del/local')).status, 404, 'a cache-only object is gone');
  t.equal(errorCode(await s3(mustOnly, 'DELETE', '/nobucket/k')), 'NoSuchBucket');
});

t.test('MUST_CACHE and ASYNC_THROUGH without a cache dir stop the server at start, saying why', async (t) => {
  for (const writeType of ['MUST_CACHE', 'ASYNC_THROUGH']) {
    const failed = await startSluice({ args: ['--write-type', writeType] }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    t.match(failed, new RegExp(`--write-type ${writeType} writes to the cache tier: it needs --cache-dir`));
  }
});
