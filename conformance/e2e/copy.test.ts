// CopyObject end to end: URL-encoded sources, the metadata and tagging directives, the
// x-amz-copy-source-if-* conditions, copies onto themselves, and the errors, with the aws cli,
// boto3 and raw HTTP.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, md5Hex, objectPath, putObject, s3, startSluice, xmlValue } from '../lib/harness';

const UNICODE_KEY = 'dir/my file ü 漢字 😀+plus.txt';

t.test('copies across buckets keep bytes, metadata and tags unless told otherwise', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'src-bucket');
  await createBucket(server, 'dst-bucket');
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  await putObject(server, 'src-bucket', UNICODE_KEY, bytes, {
    'Content-Type': 'text/plain',
    'Content-Disposition': 'inline',
    'x-amz-meta-origin': 'source',
    'x-amz-tagging': 'stage=raw',
  });

  // The aws cli URL-encodes the copy source itself.
  const copied = awsJson<{ CopyObjectResult: { ETag: string; LastModified: string } }>(
    await aws(server, ['s3api', 'copy-object', '--copy-source', `src-bucket/${UNICODE_KEY}`, '--bucket', 'dst-bucket', '--key', 'copy/one.txt']),
  );
  t.equal(copied.CopyObjectResult.ETag, `"${md5Hex(bytes)}"`, 'the copy has the MD5 ETag');
  t.ok(copied.CopyObjectResult.LastModified);
  t.same(readFileSync(join(server.root, 'dst-bucket', 'copy', 'one.txt')), bytes, 'the bytes are copied');
  const head = await s3(server, 'HEAD', '/dst-bucket/copy/one.txt');
  t.equal(head.headers['content-type'], 'text/plain', 'COPY keeps the content headers');
  t.equal(head.headers['content-disposition'], 'inline');
  t.equal(head.headers['x-amz-meta-origin'], 'source', 'COPY keeps the user metadata');
  t.equal(head.headers['x-amz-tagging-count'], '1', 'the tagging directive COPY keeps the tags');

  // Raw: a percent-encoded source with a leading slash, and a `?versionId=null`.
  const source = `/src-bucket/${UNICODE_KEY.split('/').map(encodeURIComponent).join('/')}`;
  const raw = await s3(server, 'PUT', '/dst-bucket/copy/two.txt', {
    headers: {
      'x-amz-copy-source': `${source}?versionId=null`,
      'x-amz-metadata-directive': 'REPLACE',
      'Content-Type': 'application/x-replaced',
      'x-amz-meta-fresh': 'yes',
      'x-amz-tagging-directive': 'REPLACE',
      'x-amz-tagging': 'stage=cooked&owner=me',
    },
  });
  t.equal(raw.status, 200, raw.text);
  t.equal(xmlValue(raw.text, 'ETag'), `&quot;${md5Hex(bytes)}&quot;`, 'CopyObjectResult carries the ETag');
  const replaced = await s3(server, 'HEAD', '/dst-bucket/copy/two.txt');
  t.equal(replaced.headers['content-type'], 'application/x-replaced', 'REPLACE takes the request content type');
  t.equal(replaced.headers['content-disposition'], undefined, 'REPLACE drops the old content headers');
  t.equal(replaced.headers['x-amz-meta-fresh'], 'yes');
  t.equal(replaced.headers['x-amz-meta-origin'], undefined, 'REPLACE drops the old metadata');
  const tags = await s3(server, 'GET', '/dst-bucket/copy/two.txt?tagging');
  t.match(tags.text, /<Key>stage<\/Key><Value>cooked<\/Value>/, 'the tagging directive REPLACE takes x-amz-tagging');
  t.match(tags.text, /<Key>owner<\/Key><Value>me<\/Value>/);

  const untagged = await s3(server, 'PUT', '/dst-bucket/copy/three.txt', { headers: { 'x-amz-copy-source': source, 'x-amz-tagging-directive': 'REPLACE' } });
  t.equal(untagged.status, 200);
  t.equal((await s3(server, 'HEAD', '/dst-bucket/copy/three.txt')).headers['x-amz-tagging-count'], undefined, 'REPLACE without x-amz-tagging drops the tags');
  t.equal((await s3(server, 'HEAD', '/dst-bucket/copy/three.txt')).headers['x-amz-meta-origin'], 'source', 'metadata still copied');

  const result = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
out = {}
r = s3.copy_object(Bucket='dst-bucket', Key='boto/copy.txt', CopySource={'Bucket': 'src-bucket', 'Key': ${JSON.stringify(UNICODE_KEY)}}, MetadataDirective='REPLACE', Metadata={'k': 'v'}, ContentType='text/x-boto')
out['etag'] = r['CopyObjectResult']['ETag']
h = s3.head_object(Bucket='dst-bucket', Key='boto/copy.txt')
out['meta'] = h['Metadata']
out['type'] = h['ContentType']
s3.copy({'Bucket': 'src-bucket', 'Key': ${JSON.stringify(UNICODE_KEY)}}, 'dst-bucket', 'boto/managed.txt')
out['managed'] = hashlib.md5(s3.get_object(Bucket='dst-bucket', Key='boto/managed.txt')['Body'].read()).hexdigest()
print(json.dumps(out))
`,
    ),
  );
  t.equal(result.etag, `"${md5Hex(bytes)}"`, 'boto3 copy_object');
  t.same(result.meta, { k: 'v' });
  t.equal(result.type, 'text/x-boto');
  t.equal(result.managed, md5Hex(bytes), "boto3's managed copy");

  const cp = await aws(server, ['s3', 'cp', `s3://src-bucket/${UNICODE_KEY}`, 's3://dst-bucket/cli/cp.txt']);
  t.equal(cp.code, 0, cp.stderr);
  t.same(readFileSync(join(server.root, 'dst-bucket', 'cli', 'cp.txt')), bytes, 'aws s3 cp between buckets');
});

t.test('copy-source conditions', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'conds');
  const etag = (await putObject(server, 'conds', 'src.txt', 'source')).headers.etag!;
  const modified = Date.parse((await s3(server, 'HEAD', '/conds/src.txt')).headers['last-modified']!);
  const before = new Date(modified - 3600_000).toUTCString();
  const after = new Date().toUTCString(); // after the write, and not in the future (where it would be ignored)
  const cases: [string, Record<string, string>, number][] = [
    ['if-match holds', { 'x-amz-copy-source-if-match': etag }, 200],
    ['if-match fails', { 'x-amz-copy-source-if-match': '"00000000000000000000000000000000"' }, 412],
    ['if-none-match holds', { 'x-amz-copy-source-if-none-match': '"00000000000000000000000000000000"' }, 200],
    ['if-none-match fails', { 'x-amz-copy-source-if-none-match': etag }, 412],
    ['if-modified-since holds', { 'x-amz-copy-source-if-modified-since': before }, 200],
    ['if-modified-since fails', { 'x-amz-copy-source-if-modified-since': after }, 412],
    ['if-unmodified-since holds', { 'x-amz-copy-source-if-unmodified-since': after }, 200],
    ['if-unmodified-since fails', { 'x-amz-copy-source-if-unmodified-since': before }, 412],
    ['if-match holds, if-unmodified-since fails', { 'x-amz-copy-source-if-match': etag, 'x-amz-copy-source-if-unmodified-since': before }, 200],
  ];
  let n = 0;
  for (const [what, headers, status] of cases) {
    const key = `dst-${n++}.txt`;
    const res = await s3(server, 'PUT', `/conds/${key}`, { headers: { 'x-amz-copy-source': '/conds/src.txt', ...headers } });
    t.equal(res.status, status, `${what}: ${status}`);
    if (status === 412) {
      t.equal(errorCode(res), 'PreconditionFailed', `${what}: PreconditionFailed`);
      t.equal((await s3(server, 'HEAD', `/conds/${key}`)).status, 404, `${what}: nothing was written`);
    } else {
      t.equal((await s3(server, 'GET', `/conds/${key}`)).text, 'source');
    }
  }
});

t.test('copy onto itself, and the errors of CopyObject', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'self');
  await putObject(server, 'self', 'same.txt', 'same bytes', { 'Content-Type': 'text/plain', 'x-amz-meta-old': '1' });
  const file = join(server.root, 'self', 'same.txt');
  const before = statSync(file);
  const listedBefore = xmlValue((await s3(server, 'GET', '/self?list-type=2')).text, 'LastModified')!;
  await new Promise((r) => setTimeout(r, 20));

  const illegal = await s3(server, 'PUT', '/self/same.txt', { headers: { 'x-amz-copy-source': '/self/same.txt' } });
  t.equal(illegal.status, 400);
  t.equal(errorCode(illegal), 'InvalidRequest', 'copying onto itself without REPLACE is InvalidRequest');

  const replace = await aws(server, [
    's3api', 'copy-object', '--copy-source', 'self/same.txt', '--bucket', 'self', '--key', 'same.txt',
    '--metadata-directive', 'REPLACE', '--content-type', 'application/json', '--metadata', 'new=2',
  ]);
  t.equal(replace.code, 0, replace.stderr);
  const result = JSON.parse(replace.stdout).CopyObjectResult;
  t.equal(result.ETag, `"${md5Hex('same bytes')}"`);
  // As in S3 the copy is a new version: a new file renamed into place, a new LastModified.
  t.not(statSync(file).ino, before.ino, 'a new version: a new file took the old one\'s place');
  t.ok(Date.parse(result.LastModified) > Date.parse(listedBefore), `a new LastModified (${listedBefore} → ${result.LastModified})`);
  t.equal(xmlValue((await s3(server, 'GET', '/self?list-type=2')).text, 'LastModified'), new Date(result.LastModified).toISOString(), 'listed too');
  t.equal(readFileSync(file, 'utf8'), 'same bytes');
  const head = await s3(server, 'HEAD', '/self/same.txt');
  t.equal(head.headers['content-type'], 'application/json', 'the metadata changed');
  t.equal(head.headers['x-amz-meta-new'], '2');
  t.equal(head.headers['x-amz-meta-old'], undefined);
  t.equal(head.headers.etag, `"${md5Hex('same bytes')}"`, 'the ETag is still the MD5');

  const retag = await s3(server, 'PUT', '/self/same.txt', { headers: { 'x-amz-copy-source': '/self/same.txt', 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': 'k=v' } });
  t.equal(retag.status, 200, 'a tagging REPLACE onto itself is a change too');
  t.equal((await s3(server, 'HEAD', '/self/same.txt')).headers['x-amz-tagging-count'], '1');

  const errors: [string, Record<string, string>, number, string][] = [
    ['a missing source key', { 'x-amz-copy-source': '/self/missing.txt' }, 404, 'NoSuchKey'],
    ['a missing source bucket', { 'x-amz-copy-source': '/no-such-bucket/x' }, 404, 'NoSuchBucket'],
    ['a source without key', { 'x-amz-copy-source': 'self' }, 400, 'InvalidArgument'],
    ['a source with a bad encoding', { 'x-amz-copy-source': '/self/%E0%A4%A' }, 400, 'InvalidArgument'],
    ['a source with ..', { 'x-amz-copy-source': '/self/a/../../etc/passwd' }, 400, 'InvalidArgument'],
    ['a source with an unknown version', { 'x-amz-copy-source': '/self/same.txt?versionId=abc' }, 404, 'NoSuchVersion'],
    ['a bad metadata directive', { 'x-amz-copy-source': '/self/same.txt', 'x-amz-metadata-directive': 'MERGE' }, 400, 'InvalidArgument'],
    ['too many tags', { 'x-amz-copy-source': '/self/same.txt', 'x-amz-tagging-directive': 'REPLACE', 'x-amz-tagging': Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&') }, 400, 'InvalidTag'],
    ['too much metadata', { 'x-amz-copy-source': '/self/same.txt', 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-big': 'x'.repeat(3000) }, 400, 'MetadataTooLarge'],
  ];
  for (const [what, headers, status, code] of errors) {
    const res = await s3(server, 'PUT', '/self/copy-target.txt', { headers });
    t.equal(res.status, status, `${what}: ${status}`);
    t.equal(errorCode(res), code, `${what}: ${code}`);
  }
  const noDest = await s3(server, 'PUT', '/no-such-bucket/x', { headers: { 'x-amz-copy-source': '/self/same.txt' } });
  t.equal(errorCode(noDest), 'NoSuchBucket', 'a missing destination bucket');
  t.equal((await s3(server, 'HEAD', '/self/copy-target.txt')).status, 404, 'no failed copy wrote anything');
  await putObject(server, 'self', 'file', 'f');
  const underFile = await s3(server, 'PUT', '/self/file/child', { headers: { 'x-amz-copy-source': '/self/same.txt' } });
  t.equal(underFile.status, 200, 'a copy below an object is written (the object moves inside its directory)');
  t.equal((await s3(server, 'GET', '/self/file')).text, 'f', 'and stays readable');

  // A file another program wrote gets a real MD5 once sluice copies it.
  writeFileSync(join(server.root, 'self', 'foreign.txt'), 'written elsewhere');
  const foreign = await s3(server, 'PUT', '/self/from-foreign.txt', { headers: { 'x-amz-copy-source': '/self/foreign.txt' } });
  t.equal(xmlValue(foreign.text, 'ETag'), `&quot;${md5Hex('written elsewhere')}&quot;`);
  t.same(readFileSync(join(server.root, 'self', 'from-foreign.txt'), 'utf8'), 'written elsewhere');
  t.equal((await s3(server, 'GET', objectPath('self', 'from-foreign.txt'))).headers.etag, `"${md5Hex('written elsewhere')}"`);
});
