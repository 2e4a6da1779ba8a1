// --auth sigv4 with real clients: the aws cli and boto3 sign, presigned URLs (SigV2 and SigV4)
// work until they expire, and every way of getting it wrong is refused with the S3 error.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { canonicalRequest, hmacHex, sha256Hex, signingKey, stringToSign } from '../../source/auth/sigv4';
import { CLI, errorCode, rawExchange, rawRequest, run, startSluice, tempDir, type Sluice } from '../lib/harness';
import { spawn } from 'node:child_process';

const CREDENTIALS = 'AKALICE alice-secret alice\nAKBOB bob-secret bob\nAKADMIN admin-secret root admin\n';

async function sigv4Server(t: Test): Promise<{ server: Sluice; credentials: string }> {
  const dir = tempDir('sluice-sigv4-');
  const credentials = join(dir, 'credentials');
  writeFileSync(credentials, CREDENTIALS);
  const server = await startSluice({ args: ['--auth', 'sigv4', '--credentials', credentials] });
  t.teardown(() => server.stop());
  return { server, credentials };
}

/** boto3 as a user; the script prints one JSON line. */
function py(server: Sluice, key: string, secret: string, script: string): Promise<Record<string, unknown>> {
  const prelude = `
import boto3, json, io, urllib.request, urllib.error, datetime
import botocore.auth
from botocore.config import Config
def client(key, secret, version=None):
    return boto3.client('s3', endpoint_url=${JSON.stringify(server.url)}, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name='us-east-1', config=Config(signature_version=version, s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3 = client(${JSON.stringify(key)}, ${JSON.stringify(secret)})
def code(f):
    try:
        f(); return 'OK'
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:
        return e.response['Error']['Code']
`;
  return run('python3', ['-c', prelude + script]).then((r) => {
    if (r.code !== 0) throw new Error(r.stderr);
    const lines = r.stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  });
}

t.test('boto3 and the aws cli sign; others are refused', async (t) => {
  const { server, credentials } = await sigv4Server(t);
  const out = await py(
    server,
    'AKALICE',
    'alice-secret',
    `
s3.create_bucket(Bucket='alice-b')
s3.put_object(Bucket='alice-b', Key='k', Body=b'hello' * 1000)
s3.upload_fileobj(io.BytesIO(b'm' * (6 * 1024 * 1024)), 'alice-b', 'multi', Config=boto3.s3.transfer.TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024))
bob = client('AKBOB', 'bob-secret')
admin = client('AKADMIN', 'admin-secret')
r = {
  'get': len(s3.get_object(Bucket='alice-b', Key='k')['Body'].read()),
  'multi': s3.head_object(Bucket='alice-b', Key='multi')['ContentLength'],
  'bob_get': code(lambda: bob.get_object(Bucket='alice-b', Key='k')),
  'bob_put': code(lambda: bob.put_object(Bucket='alice-b', Key='x', Body=b'x')),
  'bob_list': code(lambda: bob.list_objects_v2(Bucket='alice-b')),
  'bob_copy_from': code(lambda: (bob.create_bucket(Bucket='bob-b'), bob.copy_object(Bucket='bob-b', Key='stolen', CopySource='alice-b/k'))),
  'bob_buckets': [b['Name'] for b in bob.list_buckets()['Buckets']],
  'alice_buckets': [b['Name'] for b in s3.list_buckets()['Buckets']],
  'admin_get': len(admin.get_object(Bucket='alice-b', Key='k')['Body'].read()),
  'wrong_secret': code(lambda: client('AKALICE', 'nope').get_object(Bucket='alice-b', Key='k')),
  'unknown_key': code(lambda: client('AKNOBODY', 'x').list_buckets()),
  'anonymous': code(lambda: urllib.request.urlopen(${JSON.stringify(server.url)} + '/alice-b/k')),
}
for version in ['s3', 's3v4']:
    c = client('AKALICE', 'alice-secret', version)
    url = c.generate_presigned_url('get_object', Params={'Bucket': 'alice-b', 'Key': 'k'}, ExpiresIn=60)
    r['presigned_' + version] = len(urllib.request.urlopen(url).read())
    r['tampered_' + version] = code(lambda: urllib.request.urlopen(url.replace('/k?', '/multi?')))
    # SigV2 signs the Content-Type, so the URL names the one the upload will send.
    put = c.generate_presigned_url('put_object', Params={'Bucket': 'alice-b', 'Key': 'via-' + version, 'ContentType': 'text/plain'}, ExpiresIn=60)
    r['presigned_put_' + version] = urllib.request.urlopen(urllib.request.Request(put, data=b'by url', method='PUT', headers={'Content-Type': 'text/plain'})).status
    expired = c.generate_presigned_url('get_object', Params={'Bucket': 'alice-b', 'Key': 'k'}, ExpiresIn=1)
    import time; time.sleep(2.2)
    r['expired_' + version] = code(lambda: urllib.request.urlopen(expired))
class Past(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return datetime.datetime(2020, 1, 1)
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime(2020, 1, 1, tzinfo=tz)
botocore.auth.datetime.datetime = Past
r['skewed'] = code(lambda: client('AKALICE', 'alice-secret', 's3v4').list_buckets())
print(json.dumps(r))
`,
  );
  t.equal(out.get, 5000);
  t.equal(out.multi, 6 * 1024 * 1024, 'multipart upload signed by boto3');
  t.equal(out.bob_get, 'AccessDenied', 'another user cannot read the bucket');
  t.equal(out.bob_put, 'AccessDenied', 'nor write to it');
  t.equal(out.bob_list, 'AccessDenied', 'nor list it');
  t.equal(out.bob_copy_from, 'AccessDenied', 'nor copy out of it');
  t.same(out.bob_buckets, ['bob-b'], 'ListBuckets shows only the caller\'s buckets');
  t.same(out.alice_buckets, ['alice-b']);
  t.equal(out.admin_get, 5000, 'an admin may read every bucket');
  t.equal(out.wrong_secret, 'SignatureDoesNotMatch');
  t.equal(out.unknown_key, 'InvalidAccessKeyId');
  t.equal(out.anonymous, 403, 'anonymous requests are denied');
  for (const v of ['s3', 's3v4']) {
    t.equal(out[`presigned_${v}`], 5000, `a ${v} presigned GET works`);
    t.equal(out[`tampered_${v}`], 403, `a ${v} presigned URL for another key is refused`);
    t.equal(out[`presigned_put_${v}`], 200, `a ${v} presigned PUT works`);
    t.equal(out[`expired_${v}`], 403, `an expired ${v} presigned URL is refused`);
  }
  t.equal(out.skewed, 'RequestTimeTooSkewed', 'a request signed with a clock years off');

  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKALICE', AWS_SECRET_ACCESS_KEY: 'alice-secret', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  const file = join(tempDir(), 'f');
  writeFileSync(file, Buffer.alloc(9 * 1024 * 1024, 'c'));
  const cp = await run('aws', ['--endpoint', server.url, 's3', 'cp', file, 's3://alice-b/cli', '--only-show-errors'], env);
  t.equal(cp.code, 0, `aws s3 cp signs (multipart) ${cp.stderr}`);
  const ls = await run('aws', ['--endpoint', server.url, 's3', 'ls', 's3://alice-b/'], env);
  t.match(ls.stdout, /9437184 cli/);
  const presign = await run('aws', ['--endpoint', server.url, 's3', 'presign', 's3://alice-b/k', '--expires-in', '60'], env);
  const fetched = await rawRequest(server, 'GET', presign.stdout.trim().slice(server.url.length));
  t.equal(fetched.status, 200, 'an aws cli presigned URL works');

  // Credentials are re-read on SIGHUP: a new user can act once the file names it.
  writeFileSync(credentials, `${CREDENTIALS}AKCAROL carol-secret carol\n`);
  server.process.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 300));
  const carol = await py(server, 'AKCAROL', 'carol-secret', `s3.create_bucket(Bucket='carol-b'); print(json.dumps({'buckets': [b['Name'] for b in s3.list_buckets()['Buckets']]}))`);
  t.same(carol.buckets, ['carol-b'], 'a user added to the file works after SIGHUP');
});

t.test('signed aws-chunked bodies: each chunk signature is checked as it streams', async (t) => {
  const { server } = await sigv4Server(t);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const scope = { accessKey: 'AKALICE', date: amzDate.slice(0, 8), region: 'us-east-1', service: 's3' };
  const scopeText = `${scope.date}/us-east-1/s3/aws4_request`;
  const key = signingKey('alice-secret', scope);
  const signHeaders = (method: string, path: string, headers: Record<string, string>): string => {
    const names = Object.keys(headers).sort();
    const canonical = canonicalRequest(method, path, '', headers, names, headers['x-amz-content-sha256']!);
    return hmacHex(key, stringToSign(amzDate, scopeText, canonical));
  };
  const bucketHeaders = { host: `127.0.0.1:${server.port}`, 'x-amz-content-sha256': sha256Hex(''), 'x-amz-date': amzDate };
  const bucketSig = signHeaders('PUT', '/chunks', bucketHeaders);
  const made = await rawRequest(server, 'PUT', '/chunks', {
    headers: { ...bucketHeaders, authorization: `AWS4-HMAC-SHA256 Credential=AKALICE/${scopeText}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${bucketSig}` },
  });
  t.equal(made.status, 200, 'a hand-signed CreateBucket');

  const payload = [Buffer.alloc(65536, 'a'), Buffer.alloc(1000, 'b')];
  const upload = (tamper: boolean, name: string): Promise<number | undefined> => {
    const headers: Record<string, string> = {
      host: `127.0.0.1:${server.port}`,
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-date': amzDate,
      'x-amz-decoded-content-length': String(66536),
    };
    let previous = signHeaders('PUT', `/chunks/${name}`, headers);
    const seed = previous;
    const frames: Buffer[] = [];
    for (const chunk of [...payload, Buffer.alloc(0)]) {
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scopeText, previous, sha256Hex(''), sha256Hex(chunk)].join('\n');
      previous = hmacHex(key, toSign);
      const data = tamper && chunk.length === 1000 ? Buffer.alloc(1000, 'X') : chunk;
      frames.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), data, Buffer.from('\r\n'));
    }
    const body = Buffer.concat(frames);
    const head =
      `PUT /chunks/${name} HTTP/1.1\r\n` +
      Object.entries({ ...headers, 'content-length': String(body.length) }).map(([k, v]) => `${k}: ${v}\r\n`).join('') +
      `authorization: AWS4-HMAC-SHA256 Credential=AKALICE/${scopeText}, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length, Signature=${seed}\r\nconnection: close\r\n\r\n`;
    return rawExchange(server, [head, body]).then((r) => r.status);
  };
  t.equal(await upload(false, 'good'), 200, 'correctly signed chunks are accepted');
  t.equal(readFileSync(join(server.root, 'chunks', 'good')).length, 66536, 'and the payload alone is stored');
  t.equal(await upload(true, 'bad'), 403, 'a chunk whose data does not match its signature is refused');
  const listing = await rawRequest(server, 'GET', '/chunks?list-type=2', {
    headers: { ...bucketHeaders, authorization: `AWS4-HMAC-SHA256 Credential=AKALICE/${scopeText}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signHeaders('GET', '/chunks', bucketHeaders)}` },
  });
  t.equal(errorCode(listing), 'SignatureDoesNotMatch', 'the query string is signed too: a listing signed without it is refused');
});

t.test('TLS, and the warning for SIMPLE mode beyond loopback', async (t) => {
  const dir = tempDir('sluice-tls-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const child = spawn(process.execPath, [CLI, 'serve', '--root', join(dir, 'root'), '--port', '0', '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /on https:\/\/[^:]+:(\d+)\//.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error(output)));
  });
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(status, 200, 'ListBuckets over HTTPS');

  const open = spawn(process.execPath, [CLI, 'serve', '--root', join(dir, 'root2'), '--host', '0.0.0.0', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => open.kill('SIGKILL'));
  const warning = await new Promise<string>((resolve) => {
    let err = '';
    open.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (/WARNING/.test(err)) resolve(err);
    });
    setTimeout(() => resolve(err), 5000);
  });
  t.match(warning, /anyone who can reach this address can act as any user/, 'SIMPLE mode on a non-loopback address warns');
});
