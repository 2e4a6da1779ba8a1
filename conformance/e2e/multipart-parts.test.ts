// What a multipart object carries and how parts arrive: the content headers, user metadata, tags
// and owner recorded by CreateMultipartUpload reach the object; a part whose Content-MD5 does not
// match, or whose body stops short, is not stored; Expect: 100-continue; aws-chunked parts.
import { createHash } from 'node:crypto';
import t from 'tap';
import { createBucket, errorCode, expectExchange, objectPath, rawExchange, s3, simpleAuth, startSluice, xmlValue, xmlValues, type Sluice } from '../lib/harness';
import { MiB, complete, createUpload, md5, multipartETag, partPath, patternBytes, uploadPart } from '../lib/multipart-helpers';

let server: Sluice;
t.before(async () => {
  server = await startSluice();
  await createBucket(server, 'parts');
});
t.teardown(() => server.stop());

const listPartNumbers = async (key: string, id: string): Promise<string[]> =>
  xmlValues((await s3(server, 'GET', `${objectPath('parts', key)}?uploadId=${id}`)).text, 'PartNumber');

t.test('headers, metadata, tags and owner of CreateMultipartUpload reach the object', async (t) => {
  // alice may write into testuser's bucket once it is public-read-write.
  t.equal((await s3(server, 'PUT', '/parts?acl', { headers: { 'x-amz-acl': 'public-read-write' } })).status, 200);
  t.teardown(async () => void (await s3(server, 'PUT', '/parts?acl', { headers: { 'x-amz-acl': 'private' } })));
  const id = await createUpload(server, 'parts', 'dressed.txt', {
    'Content-Type': 'text/x-dressed; charset=utf-8',
    'Content-Disposition': 'attachment; filename="dressed.txt"',
    'Cache-Control': 'max-age=60',
    'Content-Language': 'fr',
    'x-amz-meta-colour': 'blue',
    'x-amz-meta-Mixed-Case': 'kept',
    'x-amz-tagging': 'project=sluice&stage=test%20one',
    Authorization: simpleAuth('alice'),
  });
  const body = Buffer.from('dressed bytes');
  // Parts and the complete come from another user (the bucket's owner, who may continue any upload
  // in it): the object still belongs to who created the upload.
  const etag = await s3(server, 'PUT', partPath('parts', 'dressed.txt', id, 1), { body });
  t.equal(etag.status, 200);
  const completion = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`;
  const done = await s3(server, 'POST', `${objectPath('parts', 'dressed.txt')}?uploadId=${id}`, { body: completion });
  t.equal(done.status, 200, done.text);
  const head = await s3(server, 'HEAD', objectPath('parts', 'dressed.txt'));
  t.equal(head.headers['content-type'], 'text/x-dressed; charset=utf-8');
  t.equal(head.headers['content-disposition'], 'attachment; filename="dressed.txt"');
  t.equal(head.headers['cache-control'], 'max-age=60');
  t.equal(head.headers['content-language'], 'fr');
  t.equal(head.headers['x-amz-meta-colour'], 'blue');
  t.equal(head.headers['x-amz-meta-mixed-case'], 'kept');
  t.equal(head.headers['x-amz-tagging-count'], '2');
  t.equal(head.headers.etag, `"${multipartETag([md5(body)])}"`, 'one part: still a multipart ETag, -1');
  const tags = await s3(server, 'GET', `${objectPath('parts', 'dressed.txt')}?tagging`);
  t.same(xmlValues(tags.text, 'Key'), ['project', 'stage']);
  t.same(xmlValues(tags.text, 'Value'), ['sluice', 'test one']);
  const list = await s3(server, 'GET', '/parts?list-type=2&fetch-owner=true&prefix=dressed');
  t.equal(xmlValue(xmlValue(list.text, 'Owner') ?? '', 'ID'), 'alice', 'the owner is the user who created the upload');

  t.equal(errorCode(await s3(server, 'POST', `${objectPath('parts', 'bad-tags')}?uploads`, { headers: { 'x-amz-tagging': 'a=1&a=2' } })), 'InvalidTag', 'bad tags are refused up front');
  const folder = await s3(server, 'POST', `${objectPath('parts', 'folder/')}?uploads`);
  t.equal(folder.status, 200, 'a folder key takes an upload (its bytes are the folder object\'s)');
  t.ok(xmlValue(folder.text, 'UploadId'));
});

t.test('a part whose Content-MD5 does not match is not stored', async (t) => {
  const id = await createUpload(server, 'parts', 'digest');
  const body = patternBytes(MiB, 5);
  const bad = await s3(server, 'PUT', partPath('parts', 'digest', id, 1), { body, headers: { 'Content-MD5': Buffer.from(md5(Buffer.from('other')), 'hex').toString('base64') } });
  t.equal(bad.status, 400);
  t.equal(errorCode(bad), 'BadDigest');
  t.same(await listPartNumbers('digest', id), [], 'no part stored');
  const good = await s3(server, 'PUT', partPath('parts', 'digest', id, 1), { body, headers: { 'Content-MD5': Buffer.from(md5(body), 'hex').toString('base64') } });
  t.equal(good.status, 200);
  t.equal(good.headers.etag, `"${md5(body)}"`);
  // A bad re-upload does not replace the good part.
  const again = await s3(server, 'PUT', partPath('parts', 'digest', id, 1), { body: Buffer.from('x'), headers: { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' } });
  t.equal(errorCode(again), 'BadDigest');
  const list = await s3(server, 'GET', `${objectPath('parts', 'digest')}?uploadId=${id}`);
  t.equal(xmlValue(list.text, 'ETag'), `&quot;${md5(body)}&quot;`, 'the good part stays');
});

t.test('a part whose body stops short is not stored; the upload goes on', async (t) => {
  const id = await createUpload(server, 'parts', 'short');
  const head = `PUT ${partPath('parts', 'short', id, 1)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: 100000\r\n\r\n`;
  await rawExchange(server, [head, Buffer.alloc(5000, 'a')], { close: 'destroy' });
  // The server notices the closed connection; give it a moment, then the part must not be there.
  await new Promise((r) => setTimeout(r, 300));
  t.same(await listPartNumbers('short', id), [], 'the cut part is not stored');
  const etag = await uploadPart(server, 'parts', 'short', id, 1, Buffer.from('whole'));
  t.equal((await complete(server, 'parts', 'short', id, [{ partNumber: 1, etag }])).status, 200);
  t.equal((await s3(server, 'GET', objectPath('parts', 'short'))).text, 'whole');
});

t.test('Expect: 100-continue: a part is accepted after the interim answer; a bad upload id is refused', async (t) => {
  const id = await createUpload(server, 'parts', 'expect');
  const head = (path: string, body: Buffer): string =>
    `PUT ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;
  const body = Buffer.from('sent after 100 Continue');
  const path = partPath('parts', 'expect', id, 1);
  const ok = await expectExchange(server, head(path, body), body);
  t.ok(ok.continued, '100 Continue came first');
  t.match(ok.text, /^HTTP\/1\.1 200/);
  t.match(ok.text, new RegExp(`etag: "${md5(body)}"`, 'i'));
  const unknown = partPath('parts', 'expect', '0f0e0d0c-0b0a-4909-8807-060504030201', 1);
  const refused = await expectExchange(server, head(unknown, body), body);
  t.notOk(refused.continued, 'no 100 Continue for an upload that does not exist');
  t.match(refused.text, /^HTTP\/1\.1 404/, 'NoSuchUpload');
  t.match(refused.text, /<Code>NoSuchUpload<\/Code>/);
});

t.test('aws-chunked parts (unsigned payload with a trailer checksum) are decoded', async (t) => {
  const id = await createUpload(server, 'parts', 'chunked');
  const data = patternBytes(5 * MiB + 10, 9);
  const chunk = 64 * 1024;
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) {
    const piece = data.subarray(at, Math.min(at + chunk, data.length));
    frames.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  const sha = createHash('sha256').update(data).digest('base64');
  frames.push(Buffer.from(`0\r\nx-amz-checksum-sha256:${sha}\r\n\r\n`));
  const body = Buffer.concat(frames);
  const res = await s3(server, 'PUT', partPath('parts', 'chunked', id, 1), {
    body,
    headers: {
      'Content-Encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': data.length,
      'x-amz-trailer': 'x-amz-checksum-sha256',
    },
  });
  t.equal(res.status, 200, res.text);
  t.equal(res.headers.etag, `"${md5(data)}"`, 'the ETag is the MD5 of the decoded bytes');
  const list = await s3(server, 'GET', `${objectPath('parts', 'chunked')}?uploadId=${id}`);
  t.equal(xmlValue(list.text, 'Size'), String(data.length), 'no framing stored');
  t.equal(xmlValue(list.text, 'ChecksumSHA256'), sha);
});
