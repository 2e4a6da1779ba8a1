// Object tagging and metadata limits end to end: Get/Put/DeleteObjectTagging, x-amz-tagging on PUT,
// the S3 tag rules (InvalidTag) and --tagging-restrictions=false, MetadataTooLarge and
// --metadata-max-size.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, putObject, s3, startSluice, xmlValues, type Sluice } from '../lib/harness';

function taggingXml(tags: [string, string][]): string {
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${escape(k)}</Key><Value>${escape(v)}</Value></Tag>`).join('')}</TagSet></Tagging>`;
}

const manyTags = (n: number): [string, string][] => Array.from({ length: n }, (_, i) => [`key${i}`, `value${i}`]);

/** The tag rules, checked through both PutObjectTagging and x-amz-tagging on PutObject. */
async function checkTagRules(t: tap.Test, server: Sluice, restricted: boolean): Promise<void> {
  const cases: [string, [string, string][], boolean][] = [
    ['10 tags', manyTags(10), true],
    ['11 tags', manyTags(11), !restricted],
    ['a 128-character key', [['k'.repeat(128), 'v']], true],
    ['a 129-character key', [['k'.repeat(129), 'v']], !restricted],
    ['a 256-character value', [['k', 'v'.repeat(256)]], true],
    ['a 257-character value', [['k', 'v'.repeat(257)]], !restricted],
    ['a duplicate key', [['same', '1'], ['same', '2']], false],
    ['128 non-ASCII characters', [['é'.repeat(128), 'ü'.repeat(256)]], true],
  ];
  let n = 0;
  for (const [what, tags, ok] of cases) {
    const viaApi = await s3(server, 'PUT', '/tags/target.txt?tagging', { body: taggingXml(tags) });
    t.equal(viaApi.status, ok ? 200 : 400, `PutObjectTagging with ${what}`);
    if (!ok) t.equal(errorCode(viaApi), 'InvalidTag', `PutObjectTagging with ${what}: InvalidTag`);
    const key = `put-${n++}.txt`;
    const header = tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const viaPut = await s3(server, 'PUT', `/tags/${key}`, { body: 'x', headers: { 'x-amz-tagging': header } });
    t.equal(viaPut.status, ok ? 200 : 400, `PutObject x-amz-tagging with ${what}`);
    if (ok) {
      t.equal((await s3(server, 'HEAD', `/tags/${key}`)).headers['x-amz-tagging-count'], String(new Set(tags.map(([k]) => k)).size));
    } else {
      t.equal(errorCode(viaPut), 'InvalidTag');
      t.notOk(existsSync(join(server.root, 'tags', key)), `${what}: a refused PutObject writes nothing`);
    }
  }
}

t.test('object tagging with the aws cli, boto3 and raw HTTP', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'tags');
  const put = await putObject(server, 'tags', 'target.txt', 'tagged bytes');

  const empty = awsJson<{ TagSet: unknown[] }>(await aws(server, ['s3api', 'get-object-tagging', '--bucket', 'tags', '--key', 'target.txt']));
  t.same(empty.TagSet, []);
  const set = await aws(server, ['s3api', 'put-object-tagging', '--bucket', 'tags', '--key', 'target.txt', '--tagging', 'TagSet=[{Key=key1,Value=val1},{Key=key2,Value=val2}]']);
  t.equal(set.code, 0, set.stderr);
  const got = awsJson<{ TagSet: { Key: string; Value: string }[] }>(await aws(server, ['s3api', 'get-object-tagging', '--bucket', 'tags', '--key', 'target.txt']));
  t.same(got.TagSet, [
    { Key: 'key1', Value: 'val1' },
    { Key: 'key2', Value: 'val2' },
  ]);
  const head = await s3(server, 'HEAD', '/tags/target.txt');
  t.equal(head.headers['x-amz-tagging-count'], '2');
  t.equal(head.headers.etag, put.headers.etag, 'tagging does not change the ETag');
  t.equal((await s3(server, 'GET', '/tags/target.txt')).text, 'tagged bytes');
  t.equal((await aws(server, ['s3api', 'delete-object-tagging', '--bucket', 'tags', '--key', 'target.txt'])).code, 0);
  t.same(xmlValues((await s3(server, 'GET', '/tags/target.txt?tagging')).text, 'Key'), [], 'DeleteObjectTagging empties the set');
  t.equal((await s3(server, 'HEAD', '/tags/target.txt')).headers['x-amz-tagging-count'], undefined);

  const result = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
out = {}
s3.put_object(Bucket='tags', Key='boto.txt', Body=b'b', Tagging='team=data%20eng&empty=&sym=%3C%26%3E')
out['tags'] = s3.get_object_tagging(Bucket='tags', Key='boto.txt')['TagSet']
out['count'] = s3.get_object(Bucket='tags', Key='boto.txt').get('TagCount')
try:
    s3.get_object_tagging(Bucket='tags', Key='missing')
except botocore.exceptions.ClientError as e:
    out['missing'] = e.response['Error']['Code']
try:
    s3.put_object_tagging(Bucket='tags', Key='missing', Tagging={'TagSet': [{'Key': 'a', 'Value': 'b'}]})
except botocore.exceptions.ClientError as e:
    out['missing_put'] = e.response['Error']['Code']
print(json.dumps(out))
`,
    ),
  );
  t.same(result.tags, [
    { Key: 'empty', Value: '' },
    { Key: 'sym', Value: '<&>' },
    { Key: 'team', Value: 'data eng' },
  ], 'x-amz-tagging is URL-decoded; empty values and XML characters survive (listed in key order)');
  t.equal(result.count, 3, 'boto3 sees TagCount');
  t.equal(result.missing, 'NoSuchKey');
  t.equal(result.missing_put, 'NoSuchKey');

  // Folder objects carry tags too.
  t.equal((await s3(server, 'PUT', '/tags/folder/', { body: '', headers: { 'x-amz-tagging': 'f=1' } })).status, 200);
  t.match((await s3(server, 'GET', '/tags/folder/?tagging')).text, /<Key>f<\/Key><Value>1<\/Value>/);

  const malformed = await s3(server, 'PUT', '/tags/target.txt?tagging', { body: '<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>' });
  t.equal(errorCode(malformed), 'MalformedXML', 'a tag without a key');
  const doctype = await s3(server, 'PUT', '/tags/target.txt?tagging', { body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Tagging><TagSet><Tag><Key>&e;</Key><Value>v</Value></Tag></TagSet></Tagging>' });
  t.equal(errorCode(doctype), 'MalformedXML', 'a DOCTYPE is refused');
  const huge = await s3(server, 'PUT', '/tags/target.txt?tagging', { body: taggingXml([['k', 'v'.repeat(200_000)]]) });
  t.equal(huge.status, 400, 'an oversized tagging document is refused');

  await checkTagRules(t, server, true);
});

t.test('--tagging-restrictions=false lifts the count and length limits', async (t) => {
  const server = await startSluice({ args: ['--tagging-restrictions=false'] });
  t.teardown(() => server.stop());
  await createBucket(server, 'tags');
  await putObject(server, 'tags', 'target.txt', 'x');
  await checkTagRules(t, server, false);
  const bucketTags = await s3(server, 'PUT', '/tags?tagging', { body: taggingXml(manyTags(20)) });
  t.equal(bucketTags.status, 204, 'bucket tags are unrestricted too');
});

t.test('user metadata is bounded: MetadataTooLarge, --metadata-max-size', async (t) => {
  const byDefault = await startSluice();
  const small = await startSluice({ args: ['--metadata-max-size', '1KB'] });
  const unbounded = await startSluice({ args: ['--metadata-max-size', '0'] });
  t.teardown(() => Promise.all([byDefault.stop(), small.stop(), unbounded.stop()]));

  // Name (without x-amz-meta-) plus value, in UTF-8 bytes, as S3 counts.
  const meta = (bytes: number): Record<string, string> => ({ 'x-amz-meta-k': 'v'.repeat(bytes - 1) });
  const cases: [Sluice, string, number, boolean][] = [
    [byDefault, 'default', 2048, true],
    [byDefault, 'default', 2049, false],
    [small, '1KB', 1024, true],
    [small, '1KB', 1025, false],
    [unbounded, '0', 6000, true],
  ];
  for (const [server, label, size, ok] of cases) {
    await createBucket(server, 'meta').catch(() => undefined);
    const key = `obj-${size}`;
    const res = await s3(server, 'PUT', `/meta/${key}`, { body: 'x', headers: meta(size) });
    t.equal(res.status, ok ? 200 : 400, `${label}: ${size} bytes of metadata`);
    if (ok) {
      t.equal((await s3(server, 'HEAD', `/meta/${key}`)).headers['x-amz-meta-k']?.length, size - 1);
    } else {
      t.equal(errorCode(res), 'MetadataTooLarge', `${label}: MetadataTooLarge`);
      t.notOk(existsSync(join(server.root, 'meta', key)), `${label}: nothing written`);
    }
  }
  const split = await s3(byDefault, 'PUT', '/meta/split', { body: 'x', headers: { 'x-amz-meta-a': 'x'.repeat(1100), 'x-amz-meta-b': 'y'.repeat(1100) } });
  t.equal(errorCode(split), 'MetadataTooLarge', 'the bound is on the total of all entries');

  const cli = await aws(byDefault, ['s3api', 'put-object', '--bucket', 'meta', '--key', 'cli', '--metadata', `big=${'z'.repeat(2100)}`]);
  t.match(cli.stderr, /MetadataTooLarge/, 'the aws cli reports MetadataTooLarge');
});

t.test('GetObjectTagging answers in key order; x-amz-tagging takes a key without = as an empty value', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'order');
  await putObject(server, 'order', 'k', 'x', { 'x-amz-tagging': 'zeta=1&alpha&Beta=&m%C3%BC=%C3%BC&mid=2' });
  const listed = await s3(server, 'GET', '/order/k?tagging');
  t.same(xmlValues(listed.text, 'Key'), ['Beta', 'alpha', 'mid', 'mü', 'zeta'], 'keys in UTF-8 byte order, whatever order they were set in');
  t.same(xmlValues(listed.text, 'Value'), ['', '', '2', 'ü', '1'], 'a key without = has an empty value');
  await s3(server, 'PUT', '/order/k?tagging', { body: taggingXml([['b', '2'], ['a', '1'], ['c', '3']]) });
  const viaBoto = await boto3(server, `print(json.dumps([t['Key'] for t in s3.get_object_tagging(Bucket='order', Key='k')['TagSet']]))`);
  t.same(lastJson(viaBoto), ['a', 'b', 'c'], 'PutObjectTagging\'s tags too, as boto3 reads them');
});
