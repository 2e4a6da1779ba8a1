// aws-chunked request bodies built by hand, as the current AWS SDKs send them for streamed uploads:
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (signed chunk framing; SIMPLE mode does not verify the
// signatures) and STREAMING-UNSIGNED-PAYLOAD-TRAILER with a checksum trailer. What is stored must
// be the payload only; broken framing is a 4xx that writes nothing.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import t from 'tap';
import { createBucket, errorCode, filesUnder, md5Hex, putObject, s3, startSluice, type RawResponse, type Sluice } from '../lib/harness';

const SIGNATURE = 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';
const AUTH = 'AWS4-HMAC-SHA256 Credential=testuser/20240101/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length, Signature=' + SIGNATURE;

function split(payload: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < payload.length; i += size) parts.push(payload.subarray(i, i + size));
  return parts;
}

/** The signed framing: `hex;chunk-signature=sig\r\n data \r\n` ..., then a zero chunk. */
function signedBody(payload: Buffer, chunkSize = 64 * 1024): Buffer {
  const frames = split(payload, chunkSize).map((part) => Buffer.concat([Buffer.from(`${part.length.toString(16)};chunk-signature=${SIGNATURE}\r\n`), part, Buffer.from('\r\n')]));
  return Buffer.concat([...frames, Buffer.from(`0;chunk-signature=${SIGNATURE}\r\n\r\n`)]);
}

/** The unsigned framing with trailers: `hex\r\n data \r\n` ..., `0\r\n`, trailer lines, an empty line. */
function trailerBody(payload: Buffer, trailers: Record<string, string>, chunkSize = 50_000, finalCrlf = true): Buffer {
  const frames = split(payload, chunkSize).map((part) => Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
  const trailer = Object.entries(trailers).map(([k, v]) => `${k}:${v}\r\n`).join('');
  return Buffer.concat([...frames, Buffer.from(`0\r\n${trailer}${finalCrlf ? '\r\n' : ''}`)]);
}

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}

const signedHeaders = (payload: Buffer): Record<string, string | number> => ({
  Authorization: AUTH,
  'Content-Encoding': 'aws-chunked',
  'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'x-amz-date': '20240101T000000Z',
  'x-amz-decoded-content-length': payload.length,
});

const trailerHeaders = (payload: Buffer, algorithm = 'crc32'): Record<string, string | number> => ({
  Authorization: AUTH,
  'Content-Encoding': 'aws-chunked',
  'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'x-amz-trailer': `x-amz-checksum-${algorithm}`,
  'x-amz-decoded-content-length': payload.length,
});

/** Sends a body in pieces with HTTP/1.1 chunked transfer (no Content-Length), as some SDKs do. */
function sendTransferChunked(server: Sluice, path: string, headers: Record<string, string | number>, body: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method: 'PUT', path, headers: { ...headers, 'Transfer-Encoding': 'chunked' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString() });
      });
    });
    req.on('error', reject);
    for (const piece of split(body, 7777)) req.write(piece);
    req.end();
  });
}

t.test('signed aws-chunked bodies store the payload only', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'chunks');
  const payload = randomBytes(200_000);

  const res = await s3(server, 'PUT', '/chunks/signed.bin', { headers: signedHeaders(payload), body: signedBody(payload) });
  t.equal(res.status, 200, res.text);
  t.equal(res.headers.etag, `"${md5Hex(payload)}"`, 'the ETag is the MD5 of the payload');
  t.same(readFileSync(join(server.root, 'chunks', 'signed.bin')), payload, 'the stored file is the payload, not the framing');
  const head = await s3(server, 'HEAD', '/chunks/signed.bin');
  t.equal(head.headers['content-length'], String(payload.length));
  t.equal(head.headers['content-encoding'], undefined, 'aws-chunked is framing, not a stored Content-Encoding');

  const gz = await s3(server, 'PUT', '/chunks/gz.bin', {
    headers: { ...signedHeaders(payload), 'Content-Encoding': 'aws-chunked,gzip', 'Content-MD5': createHash('md5').update(payload).digest('base64') },
    body: signedBody(payload, 8192),
  });
  t.equal(gz.status, 200, 'small chunks, Content-MD5 of the payload');
  t.equal((await s3(server, 'HEAD', '/chunks/gz.bin')).headers['content-encoding'], 'gzip', 'the other codings are kept');

  const empty = Buffer.alloc(0);
  t.equal((await s3(server, 'PUT', '/chunks/empty.bin', { headers: signedHeaders(empty), body: signedBody(empty) })).status, 200, 'an empty payload');
  t.equal(readFileSync(join(server.root, 'chunks', 'empty.bin')).length, 0);

  const streamed = await sendTransferChunked(server, '/chunks/transfer.bin', signedHeaders(payload), signedBody(payload));
  t.equal(streamed.status, 200, 'aws-chunked inside HTTP chunked transfer');
  t.same(readFileSync(join(server.root, 'chunks', 'transfer.bin')), payload);
});

t.test('unsigned aws-chunked bodies with a checksum trailer', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'trailer');
  const payload = randomBytes(123_457);
  const crc = crc32Base64(payload);

  const res = await s3(server, 'PUT', '/trailer/crc.bin', { headers: trailerHeaders(payload), body: trailerBody(payload, { 'x-amz-checksum-crc32': crc }) });
  t.equal(res.status, 200, res.text);
  t.equal(res.headers.etag, `"${md5Hex(payload)}"`);
  t.equal(res.headers['x-amz-checksum-crc32'], crc, 'the verified trailer checksum is echoed');
  t.same(readFileSync(join(server.root, 'trailer', 'crc.bin')), payload, 'the stored file is the payload only');
  const head = await s3(server, 'HEAD', '/trailer/crc.bin', { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
  t.equal(head.headers['x-amz-checksum-crc32'], crc, 'and recorded');

  const sha = createHash('sha256').update(payload).digest('base64');
  const noFinalLine = await s3(server, 'PUT', '/trailer/sha.bin', { headers: trailerHeaders(payload, 'sha256'), body: trailerBody(payload, { 'x-amz-checksum-sha256': sha }, 65536, false) });
  t.equal(noFinalLine.status, 200, 'a sha256 trailer, body ending right after it');
  t.same(readFileSync(join(server.root, 'trailer', 'sha.bin')), payload);

  const streamed = await sendTransferChunked(server, '/trailer/transfer.bin', trailerHeaders(payload), trailerBody(payload, { 'x-amz-checksum-crc32': crc }));
  t.equal(streamed.status, 200, 'inside HTTP chunked transfer');
  t.same(readFileSync(join(server.root, 'trailer', 'transfer.bin')), payload);

  await putObject(server, 'trailer', 'keep.bin', 'previous');
  const wrong = await s3(server, 'PUT', '/trailer/keep.bin', { headers: trailerHeaders(payload), body: trailerBody(payload, { 'x-amz-checksum-crc32': crc32Base64(Buffer.from('other')) }) });
  t.equal(wrong.status, 400);
  t.equal(errorCode(wrong), 'BadDigest', 'a trailer checksum that does not match is BadDigest');
  const missing = await s3(server, 'PUT', '/trailer/keep.bin', { headers: trailerHeaders(payload), body: trailerBody(payload, {}) });
  t.equal(missing.status, 400, 'an announced trailer that never comes');
  t.equal(readFileSync(join(server.root, 'trailer', 'keep.bin'), 'utf8'), 'previous', 'refused bodies leave the previous version');
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), []);
});

t.test('malformed framing is a 4xx and writes nothing', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'broken');
  await putObject(server, 'broken', 'keep.bin', 'previous');
  const payload = randomBytes(10_000);
  const good = signedBody(payload, 4096);
  const text = good.toString('latin1');

  // The code where S3's is clear (the body ends early: IncompleteBody); any S3 4xx otherwise.
  const cases: [string, Buffer, Record<string, string | number>, string?][] = [
    ['a chunk size that is not hex', Buffer.from(text.replace(/^1000;/, 'zz;'), 'latin1'), {}],
    ['a chunk longer than it says', Buffer.from(text.replace(/^1000;/, 'f00;'), 'latin1'), {}],
    ['a chunk shorter than it says', Buffer.from(text.replace(/^1000;/, '1100;'), 'latin1'), {}],
    ['no final chunk', good.subarray(0, good.length - `0;chunk-signature=${SIGNATURE}\r\n\r\n`.length), {}, 'IncompleteBody'],
    ['the body cut inside a chunk', good.subarray(0, 5000), {}, 'IncompleteBody'],
    ['data after the final chunk', Buffer.concat([good, Buffer.from('garbage')]), {}],
    ['a payload shorter than x-amz-decoded-content-length', good, { 'x-amz-decoded-content-length': payload.length + 10 }, 'IncompleteBody'],
    ['a payload longer than x-amz-decoded-content-length', good, { 'x-amz-decoded-content-length': payload.length - 10 }],
    ['no x-amz-decoded-content-length', good, { 'x-amz-decoded-content-length': '' }, 'MissingContentLength'],
    ['a chunk header line without end', Buffer.from(`1000;chunk-signature=${'a'.repeat(10_000)}`), {}],
  ];
  for (const [what, body, extra, code] of cases) {
    const headers: Record<string, string | number> = { ...signedHeaders(payload), ...extra };
    if (headers['x-amz-decoded-content-length'] === '') delete headers['x-amz-decoded-content-length'];
    for (const key of ['keep.bin', 'new/dir/fresh.bin']) {
      const res = await s3(server, 'PUT', `/broken/${key}`, { headers, body });
      t.ok(res.status >= 400 && res.status < 500, `${what} (${key}): 4xx (${res.status} ${errorCode(res)})`);
      if (code) t.equal(errorCode(res), code, `${what}: ${code}`);
      else t.ok(errorCode(res), `${what}: an S3 error`);
    }
    t.equal(readFileSync(join(server.root, 'broken', 'keep.bin'), 'utf8'), 'previous', `${what}: the previous version is intact`);
    t.notOk(existsSync(join(server.root, 'broken', 'new')), `${what}: nothing new on disk`);
  }
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), [], 'no temp file is left');
  t.equal((await s3(server, 'GET', '/broken/keep.bin')).text, 'previous', 'the server serves on');
});
