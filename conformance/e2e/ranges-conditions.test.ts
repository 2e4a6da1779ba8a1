// GetObject/HeadObject: every single-range form (206, Content-Range, 416 InvalidRange), the
// conditional headers (304/412) and the response-* overrides, with raw HTTP, curl, the aws cli
// and boto3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, putObject, run, s3, startSluice, tempDir, xmlValue } from '../lib/harness';

const BYTES = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) % 256));

t.test('single byte ranges', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'ranges');
  await putObject(server, 'ranges', 'data.bin', BYTES);
  await putObject(server, 'ranges', 'empty.bin', '');

  const cases: [string, number, number][] = [
    ['bytes=0-99', 0, 99],
    ['bytes=100-', 100, 999],
    ['bytes=-100', 900, 999],
    ['bytes=990-2000', 990, 999],
    ['bytes=0-0', 0, 0],
    ['bytes=999-999', 999, 999],
    ['bytes=-5000', 0, 999],
    ['bytes=0-999', 0, 999],
  ];
  for (const [range, start, end] of cases) {
    const res = await s3(server, 'GET', '/ranges/data.bin', { headers: { Range: range } });
    t.equal(res.status, 206, `${range}: 206`);
    t.equal(res.headers['content-range'], `bytes ${start}-${end}/1000`, `${range}: Content-Range`);
    t.equal(res.headers['content-length'], String(end - start + 1), `${range}: Content-Length`);
    t.same(res.body, BYTES.subarray(start, end + 1), `${range}: the right bytes`);
    const head = await s3(server, 'HEAD', '/ranges/data.bin', { headers: { Range: range } });
    t.equal(head.status, 206, `${range}: HEAD 206 too`);
    t.equal(head.headers['content-length'], String(end - start + 1));
  }

  for (const [path, range] of [
    ['/ranges/data.bin', 'bytes=1000-'],
    ['/ranges/data.bin', 'bytes=5000-6000'],
    ['/ranges/data.bin', 'bytes=-0'],
    ['/ranges/empty.bin', 'bytes=0-0'],
  ] as const) {
    const res = await s3(server, 'GET', path, { headers: { Range: range } });
    t.equal(res.status, 416, `${path} ${range}: 416`);
    t.equal(errorCode(res), 'InvalidRange', `${range}: InvalidRange`);
    t.match(res.headers['content-range'] ?? '', /^bytes \*\/\d+$/, `${range}: Content-Range names the size`);
    t.ok(xmlValue(res.text, 'RequestId'), 'with a RequestId');
  }

  // Forms S3 ignores: the whole object comes back with 200.
  for (const range of ['bytes=5-2', 'bytes=0-1,5-6', 'items=0-5', 'bytes=abc']) {
    const res = await s3(server, 'GET', '/ranges/data.bin', { headers: { Range: range } });
    t.equal(res.status, 200, `${range}: ignored`);
    t.equal(res.body.length, 1000);
  }

  const curl = await run('curl', ['-s', '-D', '-', '-o', join(tempDir(), 'unused'), '-r', '100-199', `${server.endpoint}ranges/data.bin`]);
  t.match(curl.stdout, /^HTTP\/1\.1 206/, 'curl -r gets a 206');
  t.match(curl.stdout, /Content-Range: bytes 100-199\/1000/i);
  const out = join(tempDir(), 'part.bin');
  const cli = awsJson<{ ContentRange: string; ContentLength: number }>(
    await aws(server, ['s3api', 'get-object', '--bucket', 'ranges', '--key', 'data.bin', '--range', 'bytes=10-19', out]),
  );
  t.equal(cli.ContentRange, 'bytes 10-19/1000', 'the aws cli reads the Content-Range');
  t.equal(cli.ContentLength, 10);
  t.same(readFileSync(out), BYTES.subarray(10, 20));
});

t.test('conditional requests', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'conds');
  const put = await putObject(server, 'conds', 'doc.txt', 'conditional content');
  const etag = put.headers.etag!;
  const head = await s3(server, 'HEAD', '/conds/doc.txt');
  const modified = Date.parse(head.headers['last-modified']!);
  const before = new Date(modified - 3600_000).toUTCString();
  // Now is after the write (and never in the future, where If-Modified-Since is ignored).
  const after = new Date().toUTCString();
  const future = new Date(Date.now() + 86400_000).toUTCString();

  const cases: [string, Record<string, string>, number][] = [
    ['If-Match with the ETag', { 'If-Match': etag }, 200],
    ['If-Match without quotes', { 'If-Match': etag.replace(/"/g, '') }, 200],
    ['If-Match in a list', { 'If-Match': `"0123", ${etag}` }, 200],
    ['If-Match *', { 'If-Match': '*' }, 200],
    ['If-Match another ETag', { 'If-Match': '"0123456789abcdef0123456789abcdef"' }, 412],
    ['If-None-Match with the ETag', { 'If-None-Match': etag }, 304],
    ['If-None-Match *', { 'If-None-Match': '*' }, 304],
    ['If-None-Match another ETag', { 'If-None-Match': '"0123456789abcdef0123456789abcdef"' }, 200],
    ['If-Modified-Since before', { 'If-Modified-Since': before }, 200],
    ['If-Modified-Since after', { 'If-Modified-Since': after }, 304],
    ['If-Modified-Since in the future (ignored)', { 'If-Modified-Since': future }, 200],
    ['If-Modified-Since unparsable (ignored)', { 'If-Modified-Since': 'yesterday' }, 200],
    ['If-Unmodified-Since after', { 'If-Unmodified-Since': after }, 200],
    ['If-Unmodified-Since before', { 'If-Unmodified-Since': before }, 412],
    ['If-Match true wins over If-Unmodified-Since false', { 'If-Match': etag, 'If-Unmodified-Since': before }, 200],
    ['If-None-Match false wins over If-Modified-Since true', { 'If-None-Match': '"0123456789abcdef0123456789abcdef"', 'If-Modified-Since': after }, 200],
    ['If-Match false and If-None-Match', { 'If-Match': '"nope"', 'If-None-Match': etag }, 412],
  ];
  for (const [what, headers, status] of cases) {
    for (const method of ['GET', 'HEAD']) {
      const res = await s3(server, method, '/conds/doc.txt', { headers });
      t.equal(res.status, status, `${method} ${what}: ${status}`);
      if (status === 304) {
        t.equal(res.body.length, 0, `${what}: 304 has no body`);
        t.equal(res.headers.etag, etag, `${what}: 304 carries the ETag`);
        t.ok(res.headers['x-amz-request-id']);
      }
      if (status === 412 && method === 'GET') t.equal(errorCode(res), 'PreconditionFailed', `${what}: PreconditionFailed`);
      if (status === 200 && method === 'GET') t.equal(res.text, 'conditional content');
    }
  }
  const ranged = await s3(server, 'GET', '/conds/doc.txt', { headers: { 'If-Match': etag, Range: 'bytes=0-10' } });
  t.equal(ranged.status, 206, 'a condition that holds with a range');
  t.equal(ranged.text, 'conditional');

  const result = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
out = {}
etag = ${JSON.stringify(etag)}
for name, kwargs in [('none_match', {'IfNoneMatch': etag}), ('match', {'IfMatch': '"abc"'}), ('unmodified', {'IfUnmodifiedSince': '2000-01-01T00:00:00Z'})]:
    try:
        s3.get_object(Bucket='conds', Key='doc.txt', **kwargs)
        out[name] = 200
    except botocore.exceptions.ClientError as e:
        out[name] = [e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Code']]
out['ok'] = s3.get_object(Bucket='conds', Key='doc.txt', IfMatch=etag)['Body'].read().decode()
print(json.dumps(out))
`,
    ),
  );
  t.same(result.none_match, [304, '304'], 'boto3: If-None-Match → 304');
  t.same(result.match, [412, 'PreconditionFailed'], 'boto3: If-Match → 412');
  t.same(result.unmodified, [412, 'PreconditionFailed'], 'boto3: If-Unmodified-Since → 412');
  t.equal(result.ok, 'conditional content');
});

t.test('response-* overrides', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'overrides');
  await putObject(server, 'overrides', 'page.html', '<p>hi</p>', { 'Content-Type': 'text/html', 'Cache-Control': 'no-store' });

  const query = new URLSearchParams({
    'response-content-type': 'application/x-custom; charset=latin1',
    'response-content-language': 'es',
    'response-expires': 'Thu, 01 Dec 2044 16:00:00 GMT',
    'response-cache-control': 'public, max-age=60',
    'response-content-disposition': 'attachment; filename="page 1.html"',
    'response-content-encoding': 'identity',
  });
  for (const method of ['GET', 'HEAD']) {
    const res = await s3(server, method, `/overrides/page.html?${query.toString()}`);
    t.equal(res.status, 200);
    t.equal(res.headers['content-type'], 'application/x-custom; charset=latin1', `${method}: response-content-type`);
    t.equal(res.headers['content-language'], 'es');
    t.equal(res.headers.expires, 'Thu, 01 Dec 2044 16:00:00 GMT');
    t.equal(res.headers['cache-control'], 'public, max-age=60');
    t.equal(res.headers['content-disposition'], 'attachment; filename="page 1.html"');
    t.equal(res.headers['content-encoding'], 'identity');
  }
  const plain = await s3(server, 'GET', '/overrides/page.html');
  t.equal(plain.headers['content-type'], 'text/html', 'overrides change the response only, not the object');
  t.equal(plain.headers['cache-control'], 'no-store');

  const seen = lastJson<Record<string, string>>(
    await boto3(
      server,
      `
r = s3.get_object(Bucket='overrides', Key='page.html', ResponseContentType='text/plain', ResponseContentDisposition='inline', ResponseCacheControl='max-age=5')
print(json.dumps({'type': r['ContentType'], 'disp': r['ContentDisposition'], 'cache': r['CacheControl'], 'body': r['Body'].read().decode()}))
`,
    ),
  );
  t.same(seen, { type: 'text/plain', disp: 'inline', cache: 'max-age=5', body: '<p>hi</p>' }, 'boto3 response overrides');
});
