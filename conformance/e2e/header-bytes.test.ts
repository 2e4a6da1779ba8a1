// Header values as bytes: metadata and content headers with non-ASCII bytes (boto3 sends UTF-8 raw)
// are stored and returned byte for byte, bounded by their size in bytes, and signed as sent (SigV4
// and SigV2); SigV2 requests signed without the Alluxio base path (botocore's presigned URLs); a
// Content-Encoding that lists aws-chunked stores the rest of the list.
import { connect } from 'node:net';
import t from 'tap';
import { boto3, createBucket, errorCode, run, s3, startSigV4, startSluice, type Sluice } from '../lib/harness';

const UTF8 = Buffer.from('é 漢字 😀', 'utf8');
const INVALID = Buffer.from([0x61, 0xe9, 0xff, 0x62]); // not UTF-8: kept as the bytes they are

/** Writes a request byte for byte (it must say Connection: close); the response as latin1, one character per byte. */
function sendRaw(server: Sluice, request: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(request);
  });
}

/** The line `name: value` with exactly these value bytes. */
function headerLine(name: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${name}: `), value, Buffer.from('\r\n')]);
}

const AUTH = Buffer.from('Authorization: AWS4-HMAC-SHA256 Credential=testuser/x\r\n');

function request(method: string, path: string, headers: Buffer[], body = ''): Buffer {
  const length = method === 'PUT' ? `Content-Length: ${body.length}\r\n` : '';
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: x\r\n`), AUTH, ...headers, Buffer.from(`${length}Connection: close\r\n\r\n${body}`)]);
}

t.test('non-ASCII header bytes are stored and returned as sent', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'bytes');
  const disposition = Buffer.concat([Buffer.from('attachment; filename="'), UTF8, Buffer.from('.txt"')]);
  const sent = [headerLine('x-amz-meta-utf8', UTF8), headerLine('x-amz-meta-raw', INVALID), headerLine('Content-Disposition', disposition)];
  t.match(await sendRaw(server, request('PUT', '/bytes/k', sent, 'hi')), /^HTTP\/1\.1 200/);
  const has = (text: string, line: Buffer): boolean => text.includes(line.toString('latin1'));
  for (const method of ['HEAD', 'GET']) {
    const text = await sendRaw(server, request(method, '/bytes/k', []));
    t.ok(has(text, sent[0]!), `${method}: the UTF-8 metadata value byte for byte`);
    t.ok(has(text, sent[1]!), `${method}: bytes that are not UTF-8, as they were`);
    t.ok(has(text, headerLine('content-disposition', disposition)), `${method}: Content-Disposition too`);
  }
  const copied = await s3(server, 'PUT', '/bytes/copy', { headers: { 'x-amz-copy-source': '/bytes/k' } });
  t.equal(copied.status, 200);
  t.ok(has(await sendRaw(server, request('HEAD', '/bytes/copy', [])), sent[0]!), 'a copy carries the bytes');

  // The bound counts bytes: 1000 two-byte characters are 2000 bytes (under 2 KB), 1100 are over.
  const sized = (n: number): Promise<string> =>
    sendRaw(server, request('PUT', `/bytes/sized-${n}`, [headerLine('x-amz-meta-m', Buffer.from('é'.repeat(n), 'utf8'))]));
  t.match(await sized(1000), /^HTTP\/1\.1 200/, '2000 bytes of metadata fit in 2 KB');
  t.match(await sized(1100), /^HTTP\/1\.1 400[^]*MetadataTooLarge/, '2200 bytes do not');
});

t.test('--auth sigv4: boto3 signs UTF-8 metadata as sent (SigV4 and SigV2), and SigV2 under the base path', async (t) => {
  const server = await startSigV4('AKALICE alice-secret alice\n');
  t.teardown(() => server.stop());
  const script = `
import boto3, json, urllib.request, botocore.handlers
from botocore.config import Config
from botocore.exceptions import ClientError
def client(endpoint, version):
    c = boto3.client('s3', endpoint_url=endpoint, aws_access_key_id='AKALICE', aws_secret_access_key='alice-secret',
        region_name='us-east-1', config=Config(signature_version=version, s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
    # botocore refuses non-ASCII metadata unless told otherwise; S3 clients that send it send raw UTF-8.
    c.meta.events.unregister('before-parameter-build.s3.PutObject', botocore.handlers.validate_ascii_metadata)
    return c
out = {}
for endpoint in [${JSON.stringify(server.url)}, ${JSON.stringify(server.endpoint)}]:
    for version in ['s3v4', 's3']:
        name = ('base-' if 'api/v1' in endpoint else 'root-') + version
        c = client(endpoint, version)
        try:
            if name == 'root-s3v4':
                c.create_bucket(Bucket='signed')
            c.put_object(Bucket='signed', Key=name, Body=b'x', Metadata={'name': 'é 漢字'})
            value = c.head_object(Bucket='signed', Key=name)['Metadata']['name']
            # http.client reads header bytes as latin1: turned back into bytes, they are the UTF-8 sent.
            out[name] = value.encode('latin1').decode('utf8')
            url = c.generate_presigned_url('get_object', Params={'Bucket': 'signed', 'Key': name}, ExpiresIn=60)
            out[name + '-presigned'] = urllib.request.urlopen(url).status
        except ClientError as e:
            out[name] = e.response['Error']['Code']
print(json.dumps(out))
`;
  const result = await run('python3', ['-c', script]);
  t.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  for (const name of ['root-s3v4', 'root-s3', 'base-s3v4', 'base-s3']) {
    t.equal(out[name], 'é 漢字', `${name}: signed with UTF-8 metadata, returned as sent`);
    t.equal(out[`${name}-presigned`], 200, `${name}: a presigned GET`);
  }
  const tampered = await s3(server, 'GET', '/api/v1/s3/signed/root-s3?AWSAccessKeyId=AKALICE&Expires=9999999999&Signature=AAAA', { user: null });
  t.equal(errorCode(tampered), 'SignatureDoesNotMatch', 'a wrong SigV2 signature is still refused under the base path');
});

t.test('Content-Encoding is a list: aws-chunked is framing and leaves it, the rest is stored', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  const result = await boto3(
    server,
    `
s3.create_bucket(Bucket='enc')
out = {}
for key, encoding in [('bare', 'aws-chunked'), ('listed', 'gzip, aws-chunked'), ('first', 'aws-chunked,br'), ('plain', 'gzip')]:
    s3.put_object(Bucket='enc', Key=key, Body=b'not really encoded', ContentEncoding=encoding)
    h = s3.head_object(Bucket='enc', Key=key)
    out[key] = [h.get('ContentEncoding'), s3.get_object(Bucket='enc', Key=key)['Body'].read().decode()]
print(json.dumps(out))
`,
  );
  t.equal(result.code, 0, result.stderr);
  t.same(JSON.parse(result.stdout.trim().split('\n').pop()!), {
    bare: [null, 'not really encoded'],
    listed: ['gzip', 'not really encoded'],
    first: ['br', 'not really encoded'],
    plain: ['gzip', 'not really encoded'],
  });
});
