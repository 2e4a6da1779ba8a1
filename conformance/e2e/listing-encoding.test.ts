// encoding-type=url as S3 encodes: every byte outside the unreserved set and `/` as %XX, in Key,
// Prefix, Delimiter, StartAfter, Marker/NextMarker, KeyMarker/NextKeyMarker and CommonPrefixes, for
// ListObjects, ListObjectsV2, ListObjectVersions and ListMultipartUploads; without it, values as
// they are (XML-escaped). ListBuckets with max-buckets, continuation-token, prefix, bucket-region.
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, putObject, s3, startSluice, xmlValue, xmlValues, type Sluice } from '../lib/harness';
import { createUpload } from '../lib/multipart-helpers';

/** The encoding computed here, byte by byte, independently of the server's. */
const encode = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~/]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

const KEYS = ['dir one/a+b', 'dir one/c*d~e', "dir one/x!y'(z)", 'pct%41', 'é/ü', 'new\nline', 'tab\tkey', 'semi;colon=&'];

let server: Sluice;
t.before(async () => {
  server = await startSluice({ args: ['--list-directories=false'] });
  await createBucket(server, 'enc');
  for (const key of KEYS) await putObject(server, 'enc', key, 'x');
  for (const key of ['up load/1+1', 'up load/2 2', 'plain']) await createUpload(server, 'enc', key);
});
t.teardown(() => server.stop());

const list = (query: string): Promise<string> => s3(server, 'GET', `/enc?${query}`).then((r) => r.text);
const q = encodeURIComponent;

t.test('the encoding itself: space %20, + %2B, reserved and non-ASCII bytes, / and ~ as they are', async (t) => {
  const text = await list('list-type=2&encoding-type=url');
  const sorted = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  t.same(xmlValues(text, 'Key'), sorted.map(encode));
  t.ok(xmlValues(text, 'Key').includes('dir%20one/a%2Bb'), 'dir one/a+b');
  t.ok(xmlValues(text, 'Key').includes('dir%20one/c%2Ad~e'), 'dir one/c*d~e');
  t.ok(xmlValues(text, 'Key').includes('dir%20one/x%21y%27%28z%29'), "dir one/x!y'(z)");
  t.ok(xmlValues(text, 'Key').includes('%C3%A9/%C3%BC'), 'é/ü');
  t.ok(xmlValues(text, 'Key').includes('new%0Aline'), 'a newline');
});

t.test('every field that names a key, in every listing', async (t) => {
  const v2 = await list(`list-type=2&encoding-type=url&delimiter=${q(' ')}&prefix=${q('dir one/')}&start-after=${q('dir one/a+b')}`);
  t.equal(xmlValue(v2, 'Prefix'), 'dir%20one/');
  t.equal(xmlValue(v2, 'Delimiter'), '%20');
  t.equal(xmlValue(v2, 'StartAfter'), 'dir%20one/a%2Bb');
  t.same(xmlValues(v2, 'Key'), [encode('dir one/c*d~e'), encode("dir one/x!y'(z)")]);

  const prefixes = await list(`list-type=2&encoding-type=url&delimiter=/`);
  t.same(xmlValues(prefixes, 'Prefix').slice(1), ['dir%20one/', '%C3%A9/'], 'CommonPrefixes');

  const v1 = await list(`encoding-type=url&max-keys=1&delimiter=/&marker=${q('dir one/')}`);
  t.equal(xmlValue(v1, 'Marker'), 'dir%20one/');
  t.equal(xmlValue(v1, 'Delimiter'), '/');
  t.equal(xmlValue(v1, 'IsTruncated'), 'true');
  t.equal(xmlValue(v1, 'NextMarker'), xmlValues(v1, 'Key')[0] ?? xmlValues(v1, 'Prefix')[1], 'NextMarker encoded like the entry it names');
  const v1Next = await list(`encoding-type=url&max-keys=2&marker=${q('new\nline')}`);
  t.equal(xmlValue(v1Next, 'Marker'), 'new%0Aline');
  t.equal(xmlValue(v1Next, 'NextMarker'), encode('semi;colon=&'));

  const versions = await list(`versions&encoding-type=url&max-keys=1&key-marker=${q('dir one/a+b')}&prefix=${q('dir one/')}`);
  t.equal(xmlValue(versions, 'KeyMarker'), 'dir%20one/a%2Bb');
  t.equal(xmlValue(versions, 'Prefix'), 'dir%20one/');
  t.same(xmlValues(versions, 'Key'), [encode('dir one/c*d~e')]);
  t.equal(xmlValue(versions, 'NextKeyMarker'), encode('dir one/c*d~e'));

  const uploads = await list(`uploads&encoding-type=url&max-uploads=1&key-marker=${q('up load/1+1')}`);
  t.equal(xmlValue(uploads, 'KeyMarker'), 'up%20load/1%2B1');
  t.same(xmlValues(uploads, 'Key'), ['up%20load/2%202']);
  const uploadPrefixes = await list(`uploads&encoding-type=url&delimiter=${q(' ')}`);
  t.equal(xmlValue(uploadPrefixes, 'Delimiter'), '%20');
  t.same(xmlValues(uploadPrefixes, 'Prefix').slice(1), ['up%20'], 'an upload CommonPrefix');
});

t.test('without encoding-type, values as they are: a prefix of a newline comes back as a newline', async (t) => {
  const text = await list(`list-type=2&prefix=${q('new\n')}`);
  t.equal(xmlValue(text, 'Prefix'), 'new\n');
  t.same(xmlValues(text, 'Key'), ['new\nline']);
  t.equal(xmlValue(text, 'EncodingType'), undefined);
  const plus = await list(`list-type=2&prefix=${q('dir one/a+')}`);
  t.same(xmlValues(plus, 'Key'), ['dir one/a+b'], 'XML needs no encoding of + or space');
  const escaped = await list(`list-type=2&prefix=${q('semi')}`);
  t.match(escaped, /<Key>semi;colon=&amp;<\/Key>/, 'XML-escaped');
});

t.test('boto3 (which asks for url encoding and decodes) and the aws cli get every key back exactly', async (t) => {
  const result = await boto3(
    server,
    `
v2 = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket='enc', PaginationConfig={'PageSize': 2}) for o in p.get('Contents', [])]
v1 = [o['Key'] for p in s3.get_paginator('list_objects').paginate(Bucket='enc', PaginationConfig={'PageSize': 3}) for o in p.get('Contents', [])]
versions = [v['Key'] for p in s3.get_paginator('list_object_versions').paginate(Bucket='enc', PaginationConfig={'PageSize': 2}) for v in p.get('Versions', [])]
prefixes = [c['Prefix'] for c in s3.list_objects_v2(Bucket='enc', Delimiter=' ').get('CommonPrefixes', [])]
print(json.dumps({'v2': v2, 'v1': v1, 'versions': versions, 'prefixes': prefixes}))
`,
  );
  const sorted = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  t.same(lastJson(result), { v2: sorted, v1: sorted, versions: sorted, prefixes: ['dir '] });
  const cli = awsJson<{ Contents: { Key: string }[] }>(await aws(server, ['s3api', 'list-objects-v2', '--bucket', 'enc', '--page-size', '3']));
  t.same(cli.Contents.map((c) => c.Key), sorted, 'the aws cli');
});

t.test('ListBuckets: max-buckets, continuation-token, prefix, bucket-region', async (t) => {
  const other = await startSluice({ args: ['--region', 'eu-west-1'] });
  t.teardown(() => other.stop());
  for (const name of ['aa-1', 'aa-2', 'aa-3', 'bb-1', 'cc-1']) await createBucket(other, name);
  await createBucket(other, 'not-mine', 'someone-else');
  const result = await boto3(
    other,
    `
pages = []
kw = {'MaxBuckets': 2}
while True:
    r = s3.list_buckets(**kw)
    pages.append([(b['Name'], b.get('BucketRegion')) for b in r['Buckets']])
    if 'ContinuationToken' not in r: break
    kw['ContinuationToken'] = r['ContinuationToken']
prefixed = s3.list_buckets(Prefix='aa-', MaxBuckets=2)
paged = [b['Name'] for p in s3.get_paginator('list_buckets').paginate(Prefix='aa-', PaginationConfig={'PageSize': 1}) for b in p['Buckets']]
plain = s3.list_buckets()
print(json.dumps({'pages': pages, 'prefixed': [b['Name'] for b in prefixed['Buckets']], 'prefix': prefixed.get('Prefix'),
  'more': 'ContinuationToken' in prefixed, 'paged': paged,
  'region': [b['Name'] for b in s3.list_buckets(BucketRegion='eu-west-1')['Buckets']],
  'elsewhere': [b['Name'] for b in s3.list_buckets(BucketRegion='us-east-1')['Buckets']],
  'plain': [b['Name'] for b in plain['Buckets']], 'plain_region': 'BucketRegion' in plain['Buckets'][0],
  'plain_token': 'ContinuationToken' in plain}))
`,
  );
  t.same(lastJson(result), {
    pages: [
      [['aa-1', 'eu-west-1'], ['aa-2', 'eu-west-1']],
      [['aa-3', 'eu-west-1'], ['bb-1', 'eu-west-1']],
      [['cc-1', 'eu-west-1']],
    ],
    prefixed: ['aa-1', 'aa-2'],
    prefix: 'aa-',
    more: true,
    paged: ['aa-1', 'aa-2', 'aa-3'],
    region: ['aa-1', 'aa-2', 'aa-3', 'bb-1', 'cc-1'],
    elsewhere: [],
    plain: ['aa-1', 'aa-2', 'aa-3', 'bb-1', 'cc-1'],
    plain_region: false,
    plain_token: false,
  });
  t.equal(errorCode(await s3(other, 'GET', '/?continuation-token=forged')), 'InvalidArgument', 'a token sluice did not issue');
  t.equal(errorCode(await s3(other, 'GET', '/?max-buckets=0')), 'InvalidArgument');
  t.equal(errorCode(await s3(other, 'GET', '/?max-buckets=many')), 'InvalidArgument');
  t.equal(xmlValues((await s3(other, 'GET', '/?max-buckets=99999')).text, 'Name').length, 5, 'past 10000 is 10000');
});
