// DeleteObjects: the aws cli and boto3, Quiet mode, per-key Deleted and Error entries, missing keys
// counted as deleted (as S3 does), the 1000-key bound, Content-MD5 and x-amz-checksum-* checks,
// and malformed requests.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, objectPath, putObject, s3, startSluice, xmlValue, xmlValues, type Sluice } from '../lib/harness';

let server: Sluice;
t.before(async () => {
  server = await startSluice();
});
t.teardown(() => server.stop());

function deleteXml(keys: { key: string; versionId?: string }[], quiet?: boolean): string {
  const objects = keys.map(({ key, versionId }) => `<Object><Key>${escape(key)}</Key>${versionId !== undefined ? `<VersionId>${versionId}</VersionId>` : ''}</Object>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${quiet !== undefined ? `<Quiet>${quiet}</Quiet>` : ''}${objects}</Delete>`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const contentMd5 = (body: string): string => createHash('md5').update(body).digest('base64');

function postDelete(bucket: string, body: string, headers: Record<string, string> = {}) {
  return s3(server, 'POST', `/${bucket}?delete`, { body, headers: { 'Content-MD5': contentMd5(body), ...headers } });
}

async function exists(bucket: string, key: string): Promise<boolean> {
  return (await s3(server, 'HEAD', objectPath(bucket, key))).status === 200;
}

t.test('aws cli delete-objects: existing and missing keys are Deleted; empty parents go', async (t) => {
  await createBucket(server, 'cli-del');
  for (const key of ['a.txt', 'dir/b.txt', 'dir/sub/c.txt', 'keep.txt']) await putObject(server, 'cli-del', key, `body of ${key}`);
  const spec = { Objects: [{ Key: 'a.txt' }, { Key: 'dir/b.txt' }, { Key: 'dir/sub/c.txt' }, { Key: 'never-existed' }], Quiet: false };
  const out = awsJson<{ Deleted?: { Key: string }[]; Errors?: unknown[] }>(
    await aws(server, ['s3api', 'delete-objects', '--bucket', 'cli-del', '--delete', JSON.stringify(spec)]),
  );
  t.same((out.Deleted ?? []).map((d) => d.Key).sort(), ['a.txt', 'dir/b.txt', 'dir/sub/c.txt', 'never-existed'], 'every key Deleted, the missing one too');
  t.same(out.Errors ?? [], []);
  for (const key of ['a.txt', 'dir/b.txt', 'dir/sub/c.txt']) t.notOk(await exists('cli-del', key), `${key} is gone`);
  t.ok(await exists('cli-del', 'keep.txt'), 'keys not named stay');
  t.notOk(existsSync(join(server.root, 'cli-del', 'dir')), 'the empty parents sluice created are removed');
  const listed = awsJson<{ Contents?: { Key: string }[] }>(await aws(server, ['s3api', 'list-objects-v2', '--bucket', 'cli-del']));
  t.same((listed.Contents ?? []).map((c) => c.Key), ['keep.txt']);
});

t.test('boto3 delete_objects: verbose, Quiet, odd keys, per-key errors', async (t) => {
  await createBucket(server, 'py-del');
  const odd = ['with space', 'amp&lt<gt>', 'quote"\'', 'unicodé/日本', 'plus+sign'];
  for (const key of [...odd, 'q1', 'q2']) await putObject(server, 'py-del', key, 'x');
  const result = lastJson<{ verbose: { Deleted: { Key: string }[]; Errors?: { Key: string; Code: string }[] }; quiet: { Deleted?: unknown[]; Errors?: { Key: string; Code: string }[] } }>(
    await boto3(
      server,
      `
odd = json.loads(${JSON.stringify(JSON.stringify(odd))})
verbose = s3.delete_objects(Bucket='py-del', Delete={'Objects': [{'Key': k} for k in odd]})
quiet = s3.delete_objects(Bucket='py-del', Delete={'Quiet': True, 'Objects': [{'Key': 'q1'}, {'Key': 'q2'}, {'Key': 'bad//key'}, {'Key': 'q1', 'VersionId': 'v123'}]})
clean = lambda r: {k: r[k] for k in ('Deleted', 'Errors') if k in r}
print(json.dumps({'verbose': clean(verbose), 'quiet': clean(quiet)}))
`,
    ),
  );
  t.same(result.verbose.Deleted.map((d) => d.Key).sort(), [...odd].sort(), 'keys with XML-special and non-ASCII characters come back intact');
  t.same(result.verbose.Errors ?? [], []);
  for (const key of odd) t.notOk(await exists('py-del', key), `${key} is gone`);
  t.same(result.quiet.Deleted ?? [], [], 'Quiet: successes are not reported');
  t.same(
    (result.quiet.Errors ?? []).map((e) => [e.Key, e.Code]),
    [
      ['bad//key', 'InvalidArgument'],
      ['q1', 'NoSuchVersion'],
    ],
    'Quiet: errors are',
  );
  t.notOk(await exists('py-del', 'q2'), 'the good keys of a request with errors are deleted');
});

t.test('raw: per-key Deleted and Error entries in request order, VersionId null', async (t) => {
  await createBucket(server, 'raw-del');
  await putObject(server, 'raw-del', 'one', '1');
  await putObject(server, 'raw-del', 'two', '2');
  const body = deleteXml([{ key: 'one' }, { key: 'a/../escape' }, { key: 'two', versionId: 'null' }, { key: 'missing' }]);
  const res = await postDelete('raw-del', body);
  t.equal(res.status, 200, res.text);
  t.match(res.text, /^<\?xml[^>]*\?>\s*<DeleteResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
  t.same(
    [...res.text.matchAll(/<(Deleted|Error)><Key>([^<]*)<\/Key>/g)].map((m) => [m[1], m[2]]),
    [
      ['Deleted', 'one'],
      ['Error', 'a/../escape'],
      ['Deleted', 'two'],
      ['Deleted', 'missing'],
    ],
  );
  t.match(res.text, /<Deleted><Key>two<\/Key><VersionId>null<\/VersionId><\/Deleted>/);
  t.match(res.text, /<Error><Key>a\/\.\.\/escape<\/Key><Code>InvalidArgument<\/Code><Message>[^<]+<\/Message><\/Error>/);
  t.notOk(await exists('raw-del', 'one'));
  t.notOk(await exists('raw-del', 'two'));

  const quiet = await postDelete('raw-del', deleteXml([{ key: 'gone-anyway' }], true));
  t.equal(quiet.status, 200);
  t.same(xmlValues(quiet.text, 'Key'), [], 'Quiet with no error: an empty DeleteResult');
  t.equal(errorCode(await postDelete('no-such-bucket', deleteXml([{ key: 'k' }]))), 'NoSuchBucket');
});

t.test('the 1000-key bound and malformed requests', async (t) => {
  await createBucket(server, 'bound-del');
  const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}` }));
  await putObject(server, 'bound-del', 'k999', 'last of the thousand');
  const thousand = await postDelete('bound-del', deleteXml(keys(1000), true));
  t.equal(thousand.status, 200, '1000 keys are accepted');
  t.notOk(await exists('bound-del', 'k999'));
  await putObject(server, 'bound-del', 'k0', 'survives');
  const tooMany = await postDelete('bound-del', deleteXml(keys(1001)));
  t.equal(tooMany.status, 400);
  t.equal(errorCode(tooMany), 'MalformedXML', '1001 keys: MalformedXML');
  t.ok(await exists('bound-del', 'k0'), 'nothing is deleted from a refused request');

  const malformed: [string, string, string][] = [
    ['garbage', 'not xml at all <', 'MalformedXML'],
    ['the wrong root', '<Remove><Object><Key>k0</Key></Object></Remove>', 'MalformedXML'],
    ['no Object', '<Delete><Quiet>true</Quiet></Delete>', 'MalformedXML'],
    ['an Object without Key', '<Delete><Object><VersionId>null</VersionId></Object></Delete>', 'MalformedXML'],
    ['unclosed', '<Delete><Object><Key>k0</Key></Object>', 'MalformedXML'],
    ['an empty body', '', 'MissingRequestBodyError'],
  ];
  for (const [what, body, code] of malformed) {
    const res = await postDelete('bound-del', body);
    t.equal(errorCode(res), code, `${what}: ${code}`);
    t.equal(res.status, 400);
  }
  t.ok(await exists('bound-del', 'k0'));
});

t.test('Content-MD5 and x-amz-checksum-* of the body are verified before anything is deleted', async (t) => {
  await createBucket(server, 'md5-del');
  await putObject(server, 'md5-del', 'precious', 'keep me');
  const body = deleteXml([{ key: 'precious' }]);
  const wrong = await postDelete('md5-del', body, { 'Content-MD5': contentMd5('something else') });
  t.equal(wrong.status, 400);
  t.equal(errorCode(wrong), 'BadDigest', 'a Content-MD5 that does not match: BadDigest');
  t.equal(errorCode(await postDelete('md5-del', body, { 'Content-MD5': 'not base64 md5' })), 'InvalidDigest', 'a malformed Content-MD5: InvalidDigest');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.from('other')) >>> 0);
  const badCrc = await s3(server, 'POST', '/md5-del?delete', { body, headers: { 'x-amz-checksum-crc32': crc.toString('base64') } });
  t.equal(errorCode(badCrc), 'BadDigest', 'a wrong x-amz-checksum-crc32: BadDigest');
  t.ok(await exists('md5-del', 'precious'), 'nothing was deleted');

  crc.writeUInt32BE(crc32(Buffer.from(body)) >>> 0);
  const goodCrc = await s3(server, 'POST', '/md5-del?delete', { body, headers: { 'x-amz-checksum-crc32': crc.toString('base64') } });
  t.equal(goodCrc.status, 200, 'a right checksum is accepted');
  t.equal(xmlValue(goodCrc.text, 'Key'), 'precious');
  t.notOk(await exists('md5-del', 'precious'));
});
