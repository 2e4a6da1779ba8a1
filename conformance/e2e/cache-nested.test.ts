// Keys that are both an object and a prefix, and folder objects with bytes, in the cache tier:
// the cache-only store (MUST_CACHE, ASYNC_THROUGH) nests and unnests like ROOT, listings merge
// both tiers' keys in order, and the persist of such objects reaches ROOT's layout.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { localPath, persistJobs, startCached } from '../lib/cache-helpers';
import { boto3, createBucket, filesUnder, lastJson, putObject, s3, waitFor, xmlValues } from '../lib/harness';

const persistence = (res: { headers: Record<string, unknown> }): unknown => res.headers['x-sluice-persistence-state'];

t.test('MUST_CACHE: both keys in the cache-only store, nested there, and back', async (t) => {
  const server = await startCached({ writeType: 'MUST_CACHE' });
  t.teardown(() => server.stop());
  await createBucket(server, 'must');
  await putObject(server, 'must', 'logs', 'cache-only logs');
  await putObject(server, 'must', 'logs/2024/a', 'cache-only a');
  await s3(server, 'PUT', '/must/photos/', { body: 'folder bytes in the cache' });
  t.equal(readFileSync(localPath(server.cacheDir, 'must', 'logs/.sluice-object'), 'utf8'), 'cache-only logs', 'nested in the cache-only store');
  t.equal(readFileSync(localPath(server.cacheDir, 'must', 'photos/.sluice-folder'), 'utf8'), 'folder bytes in the cache');
  t.same(filesUnder(join(server.root, 'must')), [], 'nothing in ROOT');
  const got = await s3(server, 'GET', '/must/logs');
  t.equal(got.text, 'cache-only logs');
  t.equal(persistence(got), 'NOT_PERSISTED');
  t.equal((await s3(server, 'GET', '/must/photos/')).text, 'folder bytes in the cache');
  t.same(xmlValues((await s3(server, 'GET', '/must?list-type=2')).text, 'Key'), ['logs', 'logs/', 'logs/2024/', 'logs/2024/a', 'photos/']);

  t.equal((await s3(server, 'DELETE', '/must/logs/2024/a')).status, 204);
  t.ok(statSync(localPath(server.cacheDir, 'must', 'logs')).isFile(), 'the last key below gone: a plain file again in the cache');
  t.equal((await s3(server, 'GET', '/must/logs')).text, 'cache-only logs');
  t.equal((await s3(server, 'PUT', '/must/photos/', { body: '' })).status, 200, 'zero bytes over the folder bytes');
  t.notOk(existsSync(localPath(server.cacheDir, 'must', 'photos/.sluice-folder')));
  for (const key of ['logs', 'photos/']) t.equal((await s3(server, 'DELETE', `/must/${key}`)).status, 204);
  t.equal((await s3(server, 'DELETE', '/must')).status, 204, 'the bucket is empty: every cache-only object went, and its space');
});

t.test('ASYNC_THROUGH: nested and folder objects persist into ROOT\'s layout', async (t) => {
  const server = await startCached({ writeType: 'ASYNC_THROUGH' });
  t.teardown(() => server.stop());
  await createBucket(server, 'async');
  await putObject(server, 'async', 'logs', 'async logs', { 'x-amz-meta-m': 'v' });
  await putObject(server, 'async', 'logs/2024/a', 'async a');
  await s3(server, 'PUT', '/async/photos/', { body: 'async folder bytes' });
  await waitFor(() => persistJobs(server.cacheDir).length === 0, 'the queue to drain', 15_000);
  t.same(
    filesUnder(join(server.root, 'async')),
    ['logs/', 'logs/.sluice-object', 'logs/2024/', 'logs/2024/a', 'photos/', 'photos/.sluice-folder'],
    'ROOT holds them as sluice lays them out',
  );
  t.equal(readFileSync(join(server.root, 'async', 'logs', '.sluice-object'), 'utf8'), 'async logs');
  for (const [key, body] of [['logs', 'async logs'], ['logs/2024/a', 'async a'], ['photos/', 'async folder bytes']] as const) {
    await waitFor(async () => persistence(await s3(server, 'HEAD', `/async/${key}`)) === 'PERSISTED', `${key} PERSISTED`, 5000);
    t.equal((await s3(server, 'GET', `/async/${key}`)).text, body, `${key} reads back after its persist`);
  }
  t.equal((await s3(server, 'GET', '/async/logs')).headers['x-amz-meta-m'], 'v', 'with its metadata');

  // ROOT holds `data` as a plain file (written by another sidecar); the cache writes `data/x`: its persist nests ROOT's file.
  const through = await startCached({ root: server.root, writeType: 'THROUGH', keepRoot: true });
  t.teardown(() => through.stop());
  await putObject(through, 'async', 'data', 'data in ROOT');
  await putObject(server, 'async', 'data/x', 'async x');
  await waitFor(() => persistJobs(server.cacheDir).length === 0, 'the queue to drain', 15_000);
  t.equal(readFileSync(join(server.root, 'async', 'data', '.sluice-object'), 'utf8'), 'data in ROOT', 'ROOT\'s file moved inside');
  t.equal(readFileSync(join(server.root, 'async', 'data', 'x'), 'utf8'), 'async x');
  const both = await boto3(through, `print(json.dumps([s3.get_object(Bucket='async', Key=k)['Body'].read().decode() for k in ['data', 'data/x']]))`);
  t.same(lastJson(both), ['data in ROOT', 'async x'], 'another sidecar reads both from ROOT');
});

t.test('a cache-only object over a ROOT prefix: the listing merges the tiers in order', async (t) => {
  const server = await startCached({ writeType: 'MUST_CACHE', args: ['--list-directories=false'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'merged');
  const through = await startCached({ root: server.root, writeType: 'THROUGH', keepRoot: true, args: ['--list-directories=false'] });
  t.teardown(() => through.stop());
  await putObject(through, 'merged', 'logs/a', 'ROOT a');
  await putObject(through, 'merged', 'logs!', 'ROOT bang');
  await putObject(server, 'merged', 'logs', 'cache-only logs');
  await putObject(server, 'merged', 'logs/b', 'cache-only b');
  t.same(xmlValues((await s3(server, 'GET', '/merged?list-type=2')).text, 'Key'), ['logs', 'logs!', 'logs/a', 'logs/b']);
  const page = await s3(server, 'GET', '/merged?list-type=2&delimiter=/');
  t.same(xmlValues(page.text, 'Key'), ['logs', 'logs!']);
  t.match(page.text, /<CommonPrefixes><Prefix>logs\/<\/Prefix><\/CommonPrefixes>/);
  t.equal((await s3(server, 'GET', '/merged/logs')).text, 'cache-only logs');
});
