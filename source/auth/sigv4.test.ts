// SigV4 against the worked examples of the S3 documentation (same keys, dates and signatures).
import t from 'tap';
import { ChunkSignatureVerifier } from './chunk-signatures';
import type { SignedRequest } from './request';
import { canonicalQuery, canonicalUri, parseAmzDate, verifySignature } from './sigv4';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2013, 4, 24, 0, 0, 0);
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function request(method: string, url: string, headers: Record<string, string>): SignedRequest {
  const q = url.indexOf('?');
  const rawQuery = q >= 0 ? url.slice(q + 1) : '';
  return { method, rawPath: q >= 0 ? url.slice(0, q) : url, rawQuery, headers, query: new URLSearchParams(rawQuery) };
}

const getObject = (signature: string, extra: Record<string, string> = {}): SignedRequest =>
  request('GET', '/test.txt', {
    host: 'examplebucket.s3.amazonaws.com',
    range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY,
    'x-amz-date': '20130524T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      `SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=${signature}`,
    ...extra,
  });

t.test('header signature: the documented GET Object example', async (t) => {
  const good = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
  const verified = verifySignature(getObject(good), SECRET, NOW);
  t.equal(verified.accessKey, 'AKIAIOSFODNN7EXAMPLE');
  t.equal(verified.payloadHash, EMPTY);
  t.throws(() => verifySignature(getObject(good.replace(/^f/, 'e')), SECRET, NOW), { code: 'SignatureDoesNotMatch' });
  t.throws(() => verifySignature(getObject(good), SECRET.replace('K7', 'K8'), NOW), { code: 'SignatureDoesNotMatch' });
  t.throws(
    () => verifySignature(getObject(good, { range: 'bytes=0-10' }), SECRET, NOW),
    { code: 'SignatureDoesNotMatch' },
    'a signed header changed',
  );
  t.throws(() => verifySignature(getObject(good), SECRET, NOW + 16 * 60 * 1000), { code: 'RequestTimeTooSkewed' });
  t.doesNotThrow(() => verifySignature(getObject(good), SECRET, NOW + 14 * 60 * 1000), 'within 15 minutes');
});

t.test('presigned URL: the documented example, and expiry', async (t) => {
  const url =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const presigned = request('GET', url, { host: 'examplebucket.s3.amazonaws.com' });
  t.equal(verifySignature(presigned, SECRET, NOW + 3600_000).payloadHash, 'UNSIGNED-PAYLOAD');
  t.throws(() => verifySignature(presigned, SECRET, NOW + 86_401_000), { code: 'AccessDenied', message: /expired/ });
  const tampered = request('GET', url.replace('test.txt', 'test2.txt'), { host: 'examplebucket.s3.amazonaws.com' });
  t.throws(() => verifySignature(tampered, SECRET, NOW), { code: 'SignatureDoesNotMatch' });
  const tooLong = request('GET', url.replace('X-Amz-Expires=86400', 'X-Amz-Expires=604801'), { host: 'examplebucket.s3.amazonaws.com' });
  t.throws(() => verifySignature(tooLong, SECRET, NOW), { code: 'AuthorizationQueryParametersError' });
});

t.test('anonymous and malformed requests', async (t) => {
  t.throws(() => verifySignature(request('GET', '/b/k', { host: 'h' }), SECRET, NOW), { code: 'AccessDenied' });
  const malformed = request('GET', '/b/k', { host: 'h', authorization: 'AWS4-HMAC-SHA256 Credential=x/y' });
  t.throws(() => verifySignature(malformed, SECRET, NOW), { code: 'AuthorizationHeaderMalformed' });
  t.throws(() => parseAmzDate('2013-05-24'), { code: 'AccessDenied' });
});

t.test('canonical forms', async (t) => {
  t.equal(canonicalUri('/b/a%20b/%E2%82%AC'), '/b/a%20b/%E2%82%AC');
  t.equal(canonicalUri('/b/a+b/~x'), '/b/a%2Bb/~x', '+ is a literal plus in a path');
  t.equal(canonicalQuery('prefix=a%20b&list-type=2&delimiter=%2F&uploads'), 'delimiter=%2F&list-type=2&prefix=a%20b&uploads=');
  t.equal(canonicalQuery('X-Amz-Signature=abc&a=1'), 'a=1');
});

t.test('streaming chunk signatures: the documented 66560-byte PUT', async (t) => {
  const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  const put = request('PUT', '/examplebucket/chunkObject.txt', {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;' +
      `x-amz-storage-class,Signature=${seed}`,
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  });
  const verified = verifySignature(put, SECRET, NOW);
  const chunks: [number, string][] = [
    [65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'],
    [1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'],
    [0, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'],
  ];
  const verifier = new ChunkSignatureVerifier(verified);
  for (const [size, signature] of chunks) {
    if (size > 0) verifier.data(Buffer.alloc(size, 'a'));
    t.doesNotThrow(() => verifier.end({ size, signature }), `chunk of ${size} bytes`);
  }
  const wrong = new ChunkSignatureVerifier(verified);
  wrong.data(Buffer.alloc(65536, 'b'));
  t.throws(() => wrong.end({ size: 65536, signature: chunks[0]![1] }), { code: 'SignatureDoesNotMatch' }, 'altered data');
});
