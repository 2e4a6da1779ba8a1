// Expect: 100-continue as S3 answers it: authentication, authorization, the bucket's existence and
// everything else the headers can decide are settled before 100 Continue; a refused request gets
// its error at once and its body is never sent. SIMPLE and --auth sigv4, raw sockets and boto3.
import t from 'tap';
import { canonicalRequest, hmacHex, sha256Hex, signingKey, stringToSign } from '../../source/auth/sigv4';
import { createBucket, expectExchange, run, s3, simpleAuth, startSigV4, startSluice } from '../lib/harness';

const body = Buffer.alloc(100_000, 'b');

t.test('SIMPLE: 100 Continue only for a request that will be served', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'exp');
  const head = (path: string, extra = ''): string =>
    `PUT ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n${extra}\r\n`;

  const ok = await expectExchange(server, head('/exp/k'), body);
  t.ok(ok.continued, 'a good PUT is let');
  t.equal(ok.status, 200);
  t.equal((await s3(server, 'HEAD', '/exp/k')).headers['content-length'], String(body.length));

  const refusals: [string, string, number, string][] = [
    ['a bucket that does not exist', head('/no-such-bucket/k'), 404, 'NoSuchBucket'],
    ['a bad Content-MD5', head('/exp/md5', 'Content-MD5: abc\r\n'), 400, 'InvalidDigest'],
    ['an upload that does not exist', head('/exp/k?partNumber=1&uploadId=0f0e0d0c-0b0a-4909-8807-060504030201'), 404, 'NoSuchUpload'],
    ['an invalid key', head('/exp/a/../b'), 400, 'InvalidArgument'],
    ['too many tags', head('/exp/tags', `x-amz-tagging: ${Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&')}\r\n`), 400, 'InvalidTag'],
  ];
  const noLength = `PUT /exp/none HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nExpect: 100-continue\r\n\r\n`;
  refusals.push(['neither Content-Length nor chunked encoding', noLength, 411, 'MissingContentLength']);
  for (const [what, request, status, code] of refusals) {
    const refused = await expectExchange(server, request, body);
    t.notOk(refused.continued, `${what}: no 100 Continue, the body is never sent`);
    t.equal(refused.status, status, what);
    t.match(refused.text, new RegExp(`<Code>${code}</Code>`), what);
  }
  t.equal((await s3(server, 'GET', '/exp?list-type=2')).text.match(/<Key>/g)?.length, 1, 'only the good PUT wrote anything');
});

t.test('--auth sigv4: a bad signature, or another user\'s bucket, is refused before the body', async (t) => {
  const server = await startSigV4('AKALICE alice-secret alice\nAKBOB bob-secret bob\n');
  t.teardown(() => server.stop());
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const scopeText = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  /** A PUT head signed as `user` (UNSIGNED-PAYLOAD: the body is not needed to sign). */
  const signedHead = (access: string, secret: string, path: string, tamper = false): string => {
    const headers: Record<string, string> = {
      host: `127.0.0.1:${server.port}`,
      'x-amz-content-sha256': path.includes('?') ? sha256Hex('') : 'UNSIGNED-PAYLOAD',
      'x-amz-date': amzDate,
    };
    const [rawPath, rawQuery = ''] = path.split('?');
    const names = Object.keys(headers).sort();
    const key = signingKey(secret, { accessKey: access, date: amzDate.slice(0, 8), region: 'us-east-1', service: 's3' });
    const signature = hmacHex(key, stringToSign(amzDate, scopeText, canonicalRequest('PUT', rawPath!, rawQuery, headers, names, headers['x-amz-content-sha256']!)));
    const authorization = `AWS4-HMAC-SHA256 Credential=${access}/${scopeText}, SignedHeaders=${names.join(';')}, Signature=${tamper ? signature.replace(/^./, (c) => (c === '0' ? '1' : '0')) : signature}`;
    return `PUT ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}authorization: ${authorization}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;
  };
  const made = await expectExchange(server, signedHead('AKALICE', 'alice-secret', '/alice-b').replace(`Content-Length: ${body.length}`, 'Content-Length: 0'), Buffer.alloc(0));
  t.equal(made.status, 200, 'alice creates her bucket');

  const ok = await expectExchange(server, signedHead('AKALICE', 'alice-secret', '/alice-b/k'), body);
  t.ok(ok.continued, 'a good signature is let');
  t.equal(ok.status, 200);
  const forged = await expectExchange(server, signedHead('AKALICE', 'alice-secret', '/alice-b/forged', true), body);
  t.notOk(forged.continued, 'a bad signature: no 100 Continue');
  t.match(forged.text, /<Code>SignatureDoesNotMatch<\/Code>/);
  const other = await expectExchange(server, signedHead('AKBOB', 'bob-secret', '/alice-b/bobs'), body);
  t.notOk(other.continued, 'another user\'s bucket: no 100 Continue');
  t.match(other.text, /<Code>AccessDenied<\/Code>/);
  const unknown = await expectExchange(server, signedHead('AKNOBODY', 'x', '/alice-b/x'), body);
  t.notOk(unknown.continued);
  t.match(unknown.text, /<Code>InvalidAccessKeyId<\/Code>/);

  // boto3 sends Expect: 100-continue for bodies over 1 MB: served as usual.
  const result = await run('python3', [
    '-c',
    `
import boto3
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=${JSON.stringify(server.url)}, aws_access_key_id='AKALICE', aws_secret_access_key='alice-secret',
    region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.put_object(Bucket='alice-b', Key='big', Body=b'z' * (3 * 1024 * 1024))
print(s3.head_object(Bucket='alice-b', Key='big')['ContentLength'])
`,
  ]);
  t.equal(result.stdout.trim(), String(3 * 1024 * 1024), result.stderr);
});
