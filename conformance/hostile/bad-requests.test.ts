// Hostile input, table-driven: each bad request must get its S3 error (code and status), write
// nothing, touch nothing outside ROOT, and leave the server serving. (Issue 4.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { errorCode, filesUnder, rawExchange, s3, startSluice, tempDir, type Sluice } from '../lib/harness';

interface Case {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Bytes written as they are on a fresh connection, for what an HTTP client will not send. */
  raw?: string[];
  status: number;
  code?: string;
}

const B = 'hostile';
const longKey = 'k'.repeat(1025);
const tags = (n: number): string => Array.from({ length: n }, (_, i) => `<Tag><Key>k${i}</Key><Value>v</Value></Tag>`).join('');
const tagging = (inner: string): string => `<Tagging><TagSet>${inner}</TagSet></Tagging>`;
const deleteXml = (n: number): string => `<Delete>${Array.from({ length: n }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('')}</Delete>`;
const UUID = '0b0b0b0b-1111-4222-8333-444444444444';
const wrongMd5 = Buffer.alloc(16, 7).toString('base64');
const rawPut = (path: string, headers: string[], body: string): string[] => [
  `PUT ${path} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`,
  body,
];

const CASES: Case[] = [
  // Bucket names
  { name: 'upper-case bucket name', method: 'PUT', path: '/Hostile', status: 400, code: 'InvalidBucketName' },
  { name: 'two-character bucket name', method: 'PUT', path: '/ab', status: 400, code: 'InvalidBucketName' },
  { name: '64-character bucket name', method: 'PUT', path: `/${'a'.repeat(64)}`, status: 400, code: 'InvalidBucketName' },
  { name: 'bucket name with ..', method: 'PUT', path: '/a..b', status: 400, code: 'InvalidBucketName' },
  { name: 'bucket name shaped like an IP address', method: 'PUT', path: '/192.168.1.1', status: 400, code: 'InvalidBucketName' },
  { name: 'bucket name starting with -', method: 'PUT', path: '/-abc', status: 400, code: 'InvalidBucketName' },
  { name: 'bucket name with the xn-- prefix', method: 'PUT', path: '/xn--abc', status: 400, code: 'InvalidBucketName' },
  { name: 'the internal folder as a bucket', method: 'GET', path: '/.sluice', status: 400, code: 'InvalidBucketName' },
  { name: 'the internal secret as an object', method: 'GET', path: '/.sluice/secret', status: 400, code: 'InvalidBucketName' },
  { name: 'percent-encoded .. as a bucket', method: 'PUT', path: '/%2e%2e', status: 400, code: 'InvalidBucketName' },
  { name: 'sub-directory bucket through ..', method: 'PUT', path: `/${B}:..:x`, status: 400, code: 'InvalidBucketName' },
  { name: 'bad percent-encoding', method: 'GET', path: `/${B}/%zz`, status: 400, code: 'InvalidURI' },
  // Keys
  { name: 'percent-encoded .. segment', method: 'PUT', path: `/${B}/%2e%2e/escape`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'literal .. segment', method: 'PUT', path: `/${B}/a/../b`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'literal . segment', method: 'PUT', path: `/${B}/./a`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'empty segment', method: 'PUT', path: `/${B}/a//b`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'absolute key', method: 'PUT', path: `/${B}//etc/passwd`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'encoded traversal to /etc/passwd', method: 'GET', path: `/${B}/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd`, status: 400, code: 'InvalidArgument' },
  { name: 'NUL in a key', method: 'PUT', path: `/${B}/a%00b`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'key over 1024 bytes', method: 'PUT', path: `/${B}/${longKey}`, body: 'x', status: 400, code: 'KeyTooLongError' },
  { name: 'segment over 255 bytes', method: 'PUT', path: `/${B}/${'s'.repeat(256)}`, body: 'x', status: 400, code: 'KeyTooLongError' },
  { name: 'key below a link to a file', method: 'PUT', path: `/${B}/file-link/child`, body: 'x', status: 409, code: 'ObjectParentIsFile' },
  { name: "a nested object's own name", method: 'PUT', path: `/${B}/file/.sluice-object`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: "a nested object's own name, read", method: 'GET', path: `/${B}/dir/.sluice-object`, status: 400, code: 'InvalidArgument' },
  { name: "a folder's bytes' own name", method: 'PUT', path: `/${B}/dir/.sluice-folder`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'a staging name', method: 'PUT', path: `/${B}/.sluice-tmp.nest.0123/x`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'symlink to a file outside ROOT', method: 'GET', path: `/${B}/outside-link`, status: 403, code: 'AccessDenied' },
  { name: 'a FIFO planted in the tree (must not hang the read)', method: 'GET', path: `/${B}/fifo`, status: 404, code: 'NoSuchKey' },
  { name: 'a FIFO as a copy source', method: 'PUT', path: `/${B}/from-fifo`, headers: { 'x-amz-copy-source': `/${B}/fifo` }, status: 404, code: 'NoSuchKey' },
  { name: 'symlinked directory leading outside ROOT', method: 'PUT', path: `/${B}/outside-dir/planted`, body: 'x', status: 403, code: 'AccessDenied' },
  // XML bodies
  { name: 'DeleteObjects with malformed XML', method: 'POST', path: `/${B}?delete`, body: '<Delete><Object><Key>a</Key></Object>', status: 400, code: 'MalformedXML' },
  { name: 'DeleteObjects with garbage', method: 'POST', path: `/${B}?delete`, body: 'not xml at all', status: 400, code: 'MalformedXML' },
  {
    name: 'DeleteObjects with a DOCTYPE and entities',
    method: 'POST',
    path: `/${B}?delete`,
    body: '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>',
    status: 400,
    code: 'MalformedXML',
  },
  { name: 'DeleteObjects with 1001 keys', method: 'POST', path: `/${B}?delete`, body: deleteXml(1001), status: 400, code: 'MalformedXML' },
  { name: 'DeleteObjects with an oversized body', method: 'POST', path: `/${B}?delete`, body: `<Delete>${' '.repeat(3 << 20)}</Delete>`, status: 400, code: 'MalformedXML' },
  { name: 'DeleteObjects with a bad Content-MD5', method: 'POST', path: `/${B}?delete`, headers: { 'Content-MD5': wrongMd5 }, body: deleteXml(1), status: 400, code: 'BadDigest' },
  { name: 'bucket tagging with a wrong root', method: 'PUT', path: `/${B}?tagging`, body: '<Tags/>', status: 400, code: 'MalformedXML' },
  { name: 'object tagging truncated', method: 'PUT', path: `/${B}/file?tagging`, body: '<Tagging><TagSet><Tag>', status: 400, code: 'MalformedXML' },
  { name: '11 tags', method: 'PUT', path: `/${B}/file?tagging`, body: tagging(tags(11)), status: 400, code: 'InvalidTag' },
  { name: 'duplicate tag keys', method: 'PUT', path: `/${B}/file?tagging`, body: tagging('<Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag>'), status: 400, code: 'InvalidTag' },
  { name: 'tag key of 129 characters', method: 'PUT', path: `/${B}/t1`, headers: { 'x-amz-tagging': `${'k'.repeat(129)}=v` }, body: 'x', status: 400, code: 'InvalidTag' },
  { name: 'tag value of 257 characters', method: 'PUT', path: `/${B}/t2`, headers: { 'x-amz-tagging': `k=${'v'.repeat(257)}` }, body: 'x', status: 400, code: 'InvalidTag' },
  { name: 'metadata over 2 KB', method: 'PUT', path: `/${B}/m`, headers: { 'x-amz-meta-big': 'm'.repeat(3000) }, body: 'x', status: 400, code: 'MetadataTooLarge' },
  // Lengths and digests
  { name: 'wrong Content-MD5', method: 'PUT', path: `/${B}/d1`, headers: { 'Content-MD5': wrongMd5 }, body: 'hello', status: 400, code: 'BadDigest' },
  { name: 'Content-MD5 that is not base64 of 16 bytes', method: 'PUT', path: `/${B}/d2`, headers: { 'Content-MD5': 'abc' }, body: 'hello', status: 400, code: 'InvalidDigest' },
  { name: 'wrong x-amz-checksum-crc32', method: 'PUT', path: `/${B}/d3`, headers: { 'x-amz-checksum-crc32': 'AAAAAA==' }, body: 'hello', status: 400, code: 'BadDigest' },
  { name: 'x-amz-checksum-sha256 of the wrong length', method: 'PUT', path: `/${B}/d4`, headers: { 'x-amz-checksum-sha256': 'AAAAAA==' }, body: 'hello', status: 400, code: 'InvalidDigest' },
  { name: 'wrong x-amz-content-sha256', method: 'PUT', path: `/${B}/d5`, headers: { 'x-amz-content-sha256': 'a'.repeat(64) }, body: 'hello', status: 400, code: 'XAmzContentSHA256Mismatch' },
  { name: 'PUT without Content-Length', raw: [`PUT /${B}/d6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`], status: 411, code: 'MissingContentLength' },
  {
    name: 'aws-chunked with a bad chunk size',
    raw: rawPut(`/${B}/c1`, ['Content-Encoding: aws-chunked', 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length: 5', 'Content-Length: 17', 'Connection: close'], 'zz\r\nhello\r\n0\r\n\r\n'),
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'aws-chunked data not followed by CRLF',
    raw: rawPut(`/${B}/c2`, ['Content-Encoding: aws-chunked', 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length: 5', 'Content-Length: 16', 'Connection: close'], '5\r\nhelloXX0\r\n\r\n'),
    status: 400,
    code: 'InvalidRequest',
  },
  {
    name: 'aws-chunked body ending before its last chunk',
    raw: rawPut(`/${B}/c3`, ['Content-Encoding: aws-chunked', 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length: 5', 'Content-Length: 10', 'Connection: close'], '5\r\nhello\r\n'),
    status: 400,
    code: 'IncompleteBody',
  },
  {
    name: 'aws-chunked payload shorter than announced',
    raw: rawPut(`/${B}/c4`, ['Content-Encoding: aws-chunked', 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length: 9', 'Content-Length: 15', 'Connection: close'], '5\r\nhello\r\n0\r\n\r\n'),
    status: 400,
    code: 'IncompleteBody',
  },
  // Ranges
  { name: 'range past the end', method: 'GET', path: `/${B}/file`, headers: { Range: 'bytes=100-200' }, status: 416, code: 'InvalidRange' },
  { name: 'empty suffix range', method: 'GET', path: `/${B}/file`, headers: { Range: 'bytes=-0' }, status: 416, code: 'InvalidRange' },
  // Multipart
  { name: 'part number 0', method: 'PUT', path: `/${B}/mp?partNumber=0&uploadId=${UUID}`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'part number 10001', method: 'PUT', path: `/${B}/mp?partNumber=10001&uploadId=${UUID}`, body: 'x', status: 400, code: 'InvalidArgument' },
  { name: 'unknown upload id', method: 'PUT', path: `/${B}/mp?partNumber=1&uploadId=${UUID}`, body: 'x', status: 404, code: 'NoSuchUpload' },
  { name: 'upload id that is a path', method: 'GET', path: `/${B}/mp?uploadId=..%2F..%2Fbuckets`, status: 404, code: 'NoSuchUpload' },
  { name: 'complete of an unknown upload', method: 'POST', path: `/${B}/mp?uploadId=${UUID}`, body: '<CompleteMultipartUpload/>', status: 404, code: 'NoSuchUpload' },
  // Copy sources
  { name: 'copy source that does not exist', method: 'PUT', path: `/${B}/c`, headers: { 'x-amz-copy-source': `/${B}/missing` }, status: 404, code: 'NoSuchKey' },
  { name: 'copy source escaping the bucket', method: 'PUT', path: `/${B}/c`, headers: { 'x-amz-copy-source': `/${B}/%2e%2e/%2e%2e/etc/passwd` }, status: 400, code: 'InvalidArgument' },
  { name: 'copy source escaping ROOT', method: 'PUT', path: `/${B}/c`, headers: { 'x-amz-copy-source': '../../etc/passwd' }, status: 400, code: 'InvalidBucketName' },
  { name: 'copy source through a link out of ROOT', method: 'PUT', path: `/${B}/c`, headers: { 'x-amz-copy-source': `/${B}/outside-link` }, status: 403, code: 'AccessDenied' },
  // Protocol
  { name: 'unsupported sub-resource', method: 'PUT', path: `/${B}?policy`, body: '{}', status: 501, code: 'NotImplemented' },
  { name: 'method S3 does not have', method: 'PATCH', path: `/${B}`, status: 405, code: 'MethodNotAllowed' },
  {
    name: 'oversized headers',
    raw: [`GET /${B}/file HTTP/1.1\r\nHost: x\r\nx-amz-meta-junk: ${'j'.repeat(100_000)}\r\n\r\n`],
    status: 400,
    code: 'RequestHeaderSectionTooLarge',
  },
];

async function prepare(server: Sluice, outside: string): Promise<void> {
  const put = async (path: string, body: string): Promise<void> => {
    const res = await s3(server, 'PUT', path, { body });
    if (res.status !== 200) throw new Error(`setup ${path}: ${res.status} ${res.text}`);
  };
  await put(`/${B}`, '');
  await put(`/${B}/file`, '0123456789');
  await put(`/${B}/dir/x`, 'x');
  writeFileSync(join(outside, 'secret.txt'), 'outside ROOT');
  symlinkSync(join(outside, 'secret.txt'), join(server.root, B, 'outside-link'));
  symlinkSync(outside, join(server.root, B, 'outside-dir'));
  symlinkSync(join(server.root, B, 'file'), join(server.root, B, 'file-link'));
  execFileSync('mkfifo', [join(server.root, B, 'fifo')]);
}

t.test('bad requests get their S3 error and change nothing', async (t) => {
  const outside = tempDir('sluice-outside-');
  mkdirSync(outside, { recursive: true });
  const server = await startSluice();
  t.teardown(() => server.stop());
  await prepare(server, outside);
  const before = filesUnder(join(server.root, B));
  const outsideBefore = readdirSync(outside).sort();
  t.ok(CASES.length >= 40, `${CASES.length} bad requests`);

  for (const c of CASES) {
    let status: number | undefined;
    let text: string;
    if (c.raw) {
      ({ status, text } = await rawExchange(server, c.raw, { timeoutMs: 5000 }));
    } else {
      const res = await s3(server, c.method ?? 'GET', c.path!, { ...(c.headers ? { headers: c.headers } : {}), ...(c.body !== undefined ? { body: c.body } : {}) });
      ({ status, text } = res);
    }
    const code = errorCode({ status: status ?? 0, headers: {}, body: Buffer.from(text), text });
    t.equal(status, c.status, `${c.name}: status`);
    if (c.code) t.equal(code, c.code, `${c.name}: ${c.code}`);
  }

  t.same(filesUnder(join(server.root, B)), before, 'no bad request wrote or removed anything in the bucket');
  t.same(readdirSync(join(server.root, '.sluice', 'tmp')), [], 'no temp file left behind');
  t.same(readdirSync(outside).sort(), outsideBefore, 'nothing was written outside ROOT');
  t.notOk(existsSync(join(outside, 'planted')), 'the link out of ROOT was not followed for a write');
  const alive = await s3(server, 'GET', '/');
  t.equal(alive.status, 200, 'the server still serves');
  t.notMatch(server.output(), /InternalError|at .*\.js:\d+/, 'no internal error or stack trace was logged');
  t.equal(server.process.exitCode, null, 'the process is still running');
});

t.test('a body longer than its Content-Length', async (t) => {
  const server = await startSluice({ args: ['--access-log=false'] });
  t.teardown(() => server.stop());
  t.equal((await s3(server, 'PUT', `/${B}`)).status, 200);
  // The bytes past Content-Length are the next request on the connection: garbage, refused.
  // Read until the server closes: both answers, in order.
  const text = await new Promise<string>((resolve) => {
    let received = '';
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write(`PUT /${B}/long HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloSURPLUS BYTES THAT ARE NO REQUEST\r\n\r\n`);
    });
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
    setTimeout(() => socket.destroy(), 5000).unref();
  });
  t.match(text, /^HTTP\/1\.1 200/, 'the announced five bytes make the object, answered first');
  t.match(text, /HTTP\/1\.1 400[\s\S]*<Code>InvalidRequest<\/Code>/, 'the surplus is answered as a bad request');
  t.equal((await s3(server, 'GET', `/${B}/long`)).text, 'hello', 'and never reaches the object');
  t.equal((await s3(server, 'GET', '/')).status, 200, 'the server still serves');
});
