// Listings end to end: ListObjects (prefix, delimiter, marker, max-keys, NextMarker,
// encoding-type=url), ListObjectsV2 (continuation tokens, start-after, fetch-owner, KeyCount),
// ListObjectVersions, UTF-8 byte order across directories, directories as `dir/` entries or S3
// semantics, and the clients that page through them (aws s3 ls/sync/cp, boto3 paginators).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, filesUnder, lastJson, putObject, s3, startSluice, tempDir, xmlValue, xmlValues, type RawResponse, type Sluice } from '../lib/harness';

/** Keys whose UTF-8 order differs from JavaScript's UTF-16 order and from a per-directory sort. */
const KEYS = ['a-b', 'a/b', 'a/c/d', 'a0', 'b', 'c d+e', 'z', 'é', 'ｚ-fullwidth', '😀-astral', 'deep/x/y/z.txt'];

const byteOrder = (keys: string[]): string[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** KEYS plus the directories sluice lists as `dir/` entries (Alluxio semantics). */
const WITH_DIRS = byteOrder([...KEYS, 'a/', 'a/c/', 'deep/', 'deep/x/', 'deep/x/y/']);

async function fill(server: Sluice, bucket: string, keys: string[]): Promise<void> {
  await createBucket(server, bucket);
  for (const key of keys) await putObject(server, bucket, key, `body of ${key}`);
}

function list(server: Sluice, bucket: string, query: Record<string, string>): Promise<RawResponse> {
  return s3(server, 'GET', `/${bucket}?${new URLSearchParams(query).toString()}`);
}

t.test('ListObjects (v1): order, prefix, delimiter, markers, encoding', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await fill(server, 'list-v1', KEYS);

  const all = await list(server, 'list-v1', {});
  t.equal(all.status, 200);
  t.same(xmlValues(all.text, 'Key'), WITH_DIRS, 'every key and directory in UTF-8 byte order (a-b before a/, ｚ before 😀)');
  t.not(byteOrder(KEYS).join(), [...KEYS].sort().join(), 'the fixture really tells UTF-8 from UTF-16 order');
  t.equal(xmlValue(all.text, 'IsTruncated'), 'false');
  t.match(all.text, /<Owner><ID>testuser<\/ID><DisplayName>testuser<\/DisplayName><\/Owner>/, 'v1 lists owners');
  t.same(xmlValues(all.text, 'Size').slice(0, 2), [String('body of a-b'.length), '0'], 'directories are 0-byte entries');

  const rooted = await list(server, 'list-v1', { delimiter: '/' });
  t.same(xmlValues(rooted.text, 'Key'), byteOrder(['a-b', 'a0', 'b', 'c d+e', 'z', 'é', 'ｚ-fullwidth', '😀-astral']));
  t.same(xmlValues(rooted.text, 'Prefix').slice(1), ['a/', 'deep/'], 'CommonPrefixes roll up the sub-directories');
  const inA = await list(server, 'list-v1', { prefix: 'a/', delimiter: '/' });
  t.same(xmlValues(inA.text, 'Key'), ['a/', 'a/b']);
  t.same(xmlValues(inA.text, 'Prefix'), ['a/', 'a/c/']);
  t.same(xmlValues((await list(server, 'list-v1', { prefix: 'a/c' })).text, 'Key'), ['a/c/', 'a/c/d'], 'a prefix that ends inside a name');
  t.same(xmlValues((await list(server, 'list-v1', { prefix: 'nothing' })).text, 'Key'), []);
  const dashed = await list(server, 'list-v1', { delimiter: '-' });
  t.same(xmlValues(dashed.text, 'Prefix').slice(1), ['a-', 'ｚ-', '😀-'], 'any delimiter, not only /');

  // Paging with marker and max-keys, as old clients do.
  const seen: string[] = [];
  let marker = '';
  for (let page = 0; page < 20; page++) {
    const res = await list(server, 'list-v1', { 'max-keys': '3', ...(marker ? { marker } : {}) });
    const keys = xmlValues(res.text, 'Key');
    t.ok(keys.length <= 3);
    seen.push(...keys);
    if (xmlValue(res.text, 'IsTruncated') !== 'true') break;
    marker = xmlValue(res.text, 'NextMarker') ?? keys[keys.length - 1]!;
  }
  t.same(seen, WITH_DIRS, 'marker paging yields every key once, in order');
  const delimited = await list(server, 'list-v1', { delimiter: '/', 'max-keys': '2' });
  t.equal(xmlValue(delimited.text, 'IsTruncated'), 'true');
  t.equal(xmlValue(delimited.text, 'NextMarker'), 'a/', 'NextMarker can be a common prefix');
  const next = await list(server, 'list-v1', { delimiter: '/', 'max-keys': '2', marker: 'a/' });
  t.same([...xmlValues(next.text, 'Key'), ...xmlValues(next.text, 'Prefix').slice(1)], ['a0', 'b'], 'the page after a common prefix skips its keys');

  const encoded = await list(server, 'list-v1', { 'encoding-type': 'url', prefix: 'c d', delimiter: '/' });
  t.same(xmlValues(encoded.text, 'Key'), ['c%20d%2Be'], 'encoding-type=url: space as %20, + as %2B');
  t.equal(xmlValue(encoded.text, 'Prefix'), 'c%20d');
  t.equal(xmlValue(encoded.text, 'EncodingType'), 'url');
  const encodedAll = await list(server, 'list-v1', { 'encoding-type': 'url' });
  t.ok(xmlValues(encodedAll.text, 'Key').includes('%C3%A9'), 'non-ASCII keys are percent-encoded');
  t.ok(xmlValues(encodedAll.text, 'Key').includes('a/c/d'), '/ is left alone');

  t.equal(errorCode(await list(server, 'list-v1', { 'max-keys': 'abc' })), 'InvalidArgument', 'max-keys must be a number');
  t.equal(errorCode(await list(server, 'list-v1', { 'encoding-type': 'base64' })), 'InvalidArgument', 'only url encoding exists');
  t.equal(errorCode(await list(server, 'no-such-bucket', {})), 'NoSuchBucket');
});

t.test('ListObjectsV2: continuation tokens over many keys, start-after, fetch-owner', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const many = Array.from({ length: 150 }, (_, i) => `d${i % 5}/k${String(i).padStart(3, '0')}${i % 7 === 0 ? '-é' : ''}`);
  await fill(server, 'list-v2', many);
  const expected = byteOrder([...many, 'd0/', 'd1/', 'd2/', 'd3/', 'd4/']);

  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const res = await list(server, 'list-v2', { 'list-type': '2', 'max-keys': '7', ...(token ? { 'continuation-token': token } : {}) });
    t.equal(res.status, 200);
    const keys = xmlValues(res.text, 'Key');
    t.equal(xmlValue(res.text, 'KeyCount'), String(keys.length), 'KeyCount counts the page');
    if (token) t.equal(xmlValue(res.text, 'ContinuationToken'), token, 'the token is echoed');
    seen.push(...keys);
    token = xmlValue(res.text, 'IsTruncated') === 'true' ? xmlValue(res.text, 'NextContinuationToken') : undefined;
    pages++;
  } while (token && pages < 100);
  t.same(seen, expected, 'continuation tokens yield every key once, in UTF-8 order');
  t.equal(pages, Math.ceil(expected.length / 7));

  const after = await list(server, 'list-v2', { 'list-type': '2', 'start-after': 'd3/k100', 'max-keys': '1000' });
  t.same(xmlValues(after.text, 'Key'), expected.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from('d3/k100')) > 0), 'start-after');
  t.equal(xmlValue(after.text, 'StartAfter'), 'd3/k100');
  t.notMatch(after.text, /<Owner>/, 'no owners without fetch-owner');
  const owned = await list(server, 'list-v2', { 'list-type': '2', 'fetch-owner': 'true', prefix: 'd1/', 'max-keys': '2' });
  t.match(owned.text, /<Owner><ID>testuser<\/ID><DisplayName>testuser<\/DisplayName><\/Owner>/, 'fetch-owner adds the owner');
  const grouped = await list(server, 'list-v2', { 'list-type': '2', delimiter: '/', 'max-keys': '3' });
  t.same(xmlValues(grouped.text, 'Prefix').slice(1), ['d0/', 'd1/', 'd2/']);
  t.equal(xmlValue(grouped.text, 'KeyCount'), '3', 'common prefixes count as keys');

  for (const forged of ['abc', Buffer.from('d2/k010').toString('base64'), 'AAAAAAAAAAAAAAAAZDIvazAxMA']) {
    const res = await list(server, 'list-v2', { 'list-type': '2', 'continuation-token': forged });
    t.equal(res.status, 400, `a forged token ${forged}`);
    t.equal(errorCode(res), 'InvalidArgument');
  }

  const result = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
out = {}
keys = []
pages = 0
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='list-v2', PaginationConfig={'PageSize': 11}):
    pages += 1
    keys += [o['Key'] for o in page.get('Contents', [])]
out['v2'] = keys
out['v2_pages'] = pages
v1 = []
for page in s3.get_paginator('list_objects').paginate(Bucket='list-v2', PaginationConfig={'PageSize': 13}):
    v1 += [o['Key'] for o in page.get('Contents', [])]
out['v1'] = v1
prefixes = []
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='list-v2', Delimiter='/', PaginationConfig={'PageSize': 2}):
    prefixes += [p['Prefix'] for p in page.get('CommonPrefixes', [])]
out['prefixes'] = prefixes
versions = s3.list_object_versions(Bucket='list-v2', Prefix='d4/', MaxKeys=3)
out['versions'] = [[v['Key'], v['VersionId'], v['IsLatest']] for v in versions['Versions']]
out['versions_truncated'] = versions['IsTruncated']
out['next_key_marker'] = versions.get('NextKeyMarker')
all_versions = []
for page in s3.get_paginator('list_object_versions').paginate(Bucket='list-v2', PaginationConfig={'PageSize': 17}):
    all_versions += [v['Key'] for v in page.get('Versions', [])]
out['all_versions'] = all_versions
print(json.dumps(out))
`,
    ),
  );
  t.same(result.v2, expected, 'the boto3 list_objects_v2 paginator');
  t.equal(result.v2_pages, Math.ceil(expected.length / 11));
  t.same(result.v1, expected, 'the boto3 list_objects paginator');
  t.same(result.prefixes, ['d0/', 'd1/', 'd2/', 'd3/', 'd4/'], 'paging through common prefixes');
  t.same(result.versions, [
    ['d4/', 'null', true],
    ['d4/k004', 'null', true],
    ['d4/k009', 'null', true],
  ], 'ListObjectVersions: the current objects, VersionId null');
  t.equal(result.versions_truncated, true);
  t.equal(result.next_key_marker, 'd4/k009');
  t.same(result.all_versions, expected, 'the boto3 list_object_versions paginator');
});

t.test('--list-directories=false gives S3 semantics', async (t) => {
  const server = await startSluice({ args: ['--list-directories=false'] });
  t.teardown(() => server.stop());
  await fill(server, 's3sem', KEYS);
  t.equal((await s3(server, 'PUT', '/s3sem/folder/', { body: '' })).status, 200, 'a folder object');
  mkdirSync(join(server.root, 's3sem', 'made-elsewhere', 'inner'), { recursive: true });

  const all = await list(server, 's3sem', { 'list-type': '2' });
  t.same(xmlValues(all.text, 'Key'), byteOrder([...KEYS, 'folder/']), 'only objects and folder objects, no implicit directories');
  const rooted = await list(server, 's3sem', { 'list-type': '2', delimiter: '/' });
  t.same(xmlValues(rooted.text, 'Prefix').slice(1), ['a/', 'deep/', 'folder/'], 'prefixes with objects or folder objects under them');
  t.equal((await s3(server, 'HEAD', '/s3sem/a/')).status, 404, 'an implicit directory is not an object');
  t.equal((await s3(server, 'HEAD', '/s3sem/folder/')).status, 200, 'a folder object is');
  const v1 = await list(server, 's3sem', { prefix: 'a/' });
  t.same(xmlValues(v1.text, 'Key'), ['a/b', 'a/c/d']);
});

t.test('aws s3 ls, sync and cp --recursive', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'synced');
  const local = tempDir();
  const files: Record<string, string> = { 'top.txt': 'top', 'sub/one.txt': 'one', 'sub/deeper/two.txt': 'two', 'sub/space name.txt': 'space', 'ü/unicode.txt': 'unicode' };
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(local, path, '..'), { recursive: true });
    writeFileSync(join(local, path), body);
  }
  const up = await aws(server, ['s3', 'sync', local, 's3://synced/tree']);
  t.equal(up.code, 0, up.stderr);
  for (const [path, body] of Object.entries(files)) t.equal(readFileSync(join(server.root, 'synced', 'tree', path), 'utf8'), body, `${path} uploaded`);
  const again = await aws(server, ['s3', 'sync', local, 's3://synced/tree']);
  t.equal(again.stdout.trim(), '', 'a second sync has nothing to do (sizes and times match)');

  const ls = await aws(server, ['s3', 'ls', 's3://synced/tree/']);
  t.equal(ls.code, 0, ls.stderr);
  t.match(ls.stdout, /PRE sub\//);
  t.match(ls.stdout, /PRE ü\//);
  t.match(ls.stdout, /\s3 top\.txt/);
  const recursive = await aws(server, ['s3', 'ls', '--recursive', 's3://synced/']);
  for (const path of Object.keys(files)) t.match(recursive.stdout, `tree/${path}`, `ls --recursive shows ${path}`);
  const buckets = await aws(server, ['s3', 'ls']);
  t.match(buckets.stdout, /synced/, 'aws s3 ls lists the buckets');

  const down = tempDir();
  const cp = await aws(server, ['s3', 'cp', '--recursive', 's3://synced/tree', down]);
  t.equal(cp.code, 0, cp.stderr);
  for (const [path, body] of Object.entries(files)) t.equal(readFileSync(join(down, path), 'utf8'), body, `${path} downloaded`);
  t.same(
    filesUnder(down).filter((p) => !p.endsWith('/')),
    Object.keys(files).sort(),
    'the `dir/` entries do not become stray files',
  );
  const back = tempDir();
  const syncDown = await aws(server, ['s3', 'sync', 's3://synced/tree', back]);
  t.equal(syncDown.code, 0, syncDown.stderr);
  t.same(filesUnder(back).filter((p) => !p.endsWith('/')), Object.keys(files).sort(), 'sync down yields the same tree');

  const objects = awsJson<{ Contents: { Key: string }[] }>(await aws(server, ['s3api', 'list-objects-v2', '--bucket', 'synced', '--prefix', 'tree/sub/', '--max-items', '100', '--page-size', '2']));
  t.same(objects.Contents.map((c) => c.Key), ['tree/sub/', 'tree/sub/deeper/', 'tree/sub/deeper/two.txt', 'tree/sub/one.txt', 'tree/sub/space name.txt'], 'aws cli pagination');
});
