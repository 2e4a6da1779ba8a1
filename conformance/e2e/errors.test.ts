// Errors end to end: unknown sub-resources and methods are NotImplemented/MethodNotAllowed XML,
// every response carries x-amz-request-id, every error body has Code, Message, Resource and
// RequestId and no server detail, malformed HTTP gets an S3 error too, and the server survives it all.
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { boto3, createBucket, errorCode, lastJson, putObject, rawExchange, s3, simpleAuth, startSigV4, startSluice, xmlValue, type RawResponse, type Sluice } from '../lib/harness';

/** Checks an error document: its fields, the request id header, and that nothing internal leaks. */
function checkError(t: tap.Test, server: Sluice, res: RawResponse, status: number, code: string, resource: string, what: string): void {
  t.equal(res.status, status, `${what}: ${status}`);
  t.equal(errorCode(res), code, `${what}: ${code}`);
  t.equal(res.headers['content-type'], 'application/xml', `${what}: XML`);
  t.ok(xmlValue(res.text, 'Message'), `${what}: a Message`);
  t.equal(xmlValue(res.text, 'Resource'), resource, `${what}: the Resource`);
  t.equal(xmlValue(res.text, 'RequestId'), res.headers['x-amz-request-id'], `${what}: the RequestId is the x-amz-request-id`);
  t.notMatch(res.text, server.root, `${what}: no server path`);
  t.notMatch(res.text, /at .*\.js:\d+|Error: /, `${what}: no stack trace`);
}

t.test('unknown sub-resources and methods', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'errs');
  await putObject(server, 'errs', 'obj', 'data');

  const bucketSubs = ['cors', 'policy', 'lifecycle', 'website', 'replication', 'encryption', 'logging', 'notification', 'object-lock', 'publicAccessBlock', 'accelerate', 'requestPayment'];
  for (const sub of bucketSubs) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const path = `/errs?${sub}`;
      checkError(t, server, await s3(server, method, path, method === 'PUT' ? { body: '<x/>' } : {}), 501, 'NotImplemented', '/errs', `${method} ?${sub}`);
    }
  }
  for (const [method, path] of [
    ['GET', '/errs/obj?retention'],
    ['PUT', '/errs/obj?legal-hold'],
    ['POST', '/errs/obj?restore'],
    ['POST', '/errs/obj?select&select-type=2'],
    ['GET', '/errs/obj?torrent'],
    ['PUT', '/errs?versioning'],
  ] as const) {
    checkError(t, server, await s3(server, method, path, { body: '' }), 501, 'NotImplemented', path.split('?')[0]!, `${method} ${path}`);
  }
  t.equal((await s3(server, 'GET', '/errs/obj')).text, 'data', 'no unknown sub-resource touched the object');

  for (const [method, path] of [
    ['POST', '/errs/obj'],
    ['PATCH', '/errs/obj'],
    ['POST', '/errs'],
    ['PUT', '/'],
    ['DELETE', '/'],
  ] as const) {
    const res = await s3(server, method, path, { body: '' });
    t.equal(res.status, 405, `${method} ${path}: 405`);
    t.equal(errorCode(res), 'MethodNotAllowed');
    t.ok(res.headers['x-amz-request-id']);
  }

  // What the documented actions need and do not get.
  checkError(t, server, await s3(server, 'GET', '/errs/missing'), 404, 'NoSuchKey', '/errs/missing', 'a missing key');
  checkError(t, server, await s3(server, 'GET', '/api/v1/s3/errs/missing'), 404, 'NoSuchKey', '/api/v1/s3/errs/missing', 'under the Alluxio base path');
  checkError(t, server, await s3(server, 'GET', '/nobucket/key'), 404, 'NoSuchBucket', '/nobucket/key', 'a missing bucket');
  checkError(t, server, await s3(server, 'GET', '/errs/%E0%A4%A'), 400, 'InvalidURI', '/errs/%E0%A4%A', 'a bad percent-encoding');
  checkError(t, server, await s3(server, 'GET', '/errs?list-type=2&max-keys=-1'), 400, 'InvalidArgument', '/errs', 'a negative max-keys');
  checkError(t, server, await s3(server, 'PUT', '/errs/obj', { headers: { Authorization: 'Bearer nonsense' }, body: 'x' }), 400, 'AuthorizationHeaderMalformed', '/errs/obj', 'an Authorization header naming no credential');
  const head = await s3(server, 'HEAD', '/errs/missing');
  t.equal(head.status, 404);
  t.equal(head.body.length, 0, 'HEAD errors have no body');
  t.ok(head.headers['x-amz-request-id'], 'but a request id');

  const result = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
out = {}
for name, call in [('cors', lambda: s3.get_bucket_cors(Bucket='errs')), ('policy', lambda: s3.get_bucket_policy(Bucket='errs')), ('lifecycle', lambda: s3.get_bucket_lifecycle_configuration(Bucket='errs'))]:
    try:
        call()
        out[name] = 'ok'
    except botocore.exceptions.ClientError as e:
        out[name] = [e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Code'], bool(e.response['ResponseMetadata'].get('RequestId'))]
print(json.dumps(out))
`,
    ),
  );
  for (const name of ['cors', 'policy', 'lifecycle']) t.same(result[name], [501, 'NotImplemented', true], `boto3 ${name}: NotImplemented with a request id`);
});

t.test('every response carries a request id, and the server survives bad input', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'ids');
  const put = await putObject(server, 'ids', 'obj', 'data');

  const responses: [string, RawResponse][] = [
    ['ListBuckets', await s3(server, 'GET', '/')],
    ['PutObject', put],
    ['GetObject', await s3(server, 'GET', '/ids/obj')],
    ['206', await s3(server, 'GET', '/ids/obj', { headers: { Range: 'bytes=0-1' } })],
    ['304', await s3(server, 'GET', '/ids/obj', { headers: { 'If-None-Match': put.headers.etag! } })],
    ['HeadBucket', await s3(server, 'HEAD', '/ids')],
    ['ListObjectsV2', await s3(server, 'GET', '/ids?list-type=2')],
    ['DeleteObject 204', await s3(server, 'DELETE', '/ids/nothing')],
    ['412', await s3(server, 'GET', '/ids/obj', { headers: { 'If-Match': '"x"' } })],
    ['416', await s3(server, 'GET', '/ids/obj', { headers: { Range: 'bytes=10-' } })],
  ];
  const ids = new Set<string>();
  for (const [what, res] of responses) {
    const id = res.headers['x-amz-request-id'];
    t.match(id ?? '', /^[0-9A-F]{16}$/, `${what}: x-amz-request-id`);
    ids.add(String(id));
  }
  t.equal(ids.size, responses.length, 'request ids are unique');

  // Input Node's HTTP parser refuses still gets an S3 error and a request id.
  const garbage = await rawExchange(server, ['THIS IS NOT HTTP\r\n\r\n'], { close: 'none' });
  t.equal(garbage.status, 400, 'a garbage request line');
  t.match(garbage.text, /x-amz-request-id: [0-9A-F]{16}/i);
  t.match(garbage.text, /<Code>InvalidRequest<\/Code>/);
  const bigHeader = await rawExchange(server, [`GET /ids/obj HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`], { close: 'none' });
  t.equal(bigHeader.status, 400, 'an oversized header section');
  t.match(bigHeader.text, /<Code>RequestHeaderSectionTooLarge<\/Code>/);
  const rawUnicode = await rawExchange(server, [Buffer.from(`GET /ids/\u00e9\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n`, 'utf8')], { close: 'none' });
  t.ok(rawUnicode.status === 400 || rawUnicode.status === 404, `raw non-ASCII in the target (${rawUnicode.status})`);
  t.match(rawUnicode.text, /x-amz-request-id/i);
  const badChunked = await rawExchange(server, [`PUT /ids/chunky HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n`], { close: 'none' });
  t.equal(badChunked.status, 400, 'broken HTTP chunked framing');
  t.equal((await s3(server, 'HEAD', '/ids/chunky')).status, 404, 'wrote nothing');

  // Many failing requests at once, then the server must still answer.
  const storm = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? s3(server, 'GET', `/ids/missing-${i}`)
        : i % 3 === 1
          ? s3(server, 'PUT', `/ids/bad-${i}`, { body: 'x', headers: { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' } })
          : s3(server, 'GET', `/ids?cors`),
    ),
  );
  t.same(new Set(storm.map((r) => r.status)), new Set([404, 400, 501]), 'each failed on its own');
  t.equal((await s3(server, 'GET', '/ids/obj')).text, 'data', 'the server serves on');
  t.equal(server.process.exitCode, null, 'the process is alive');
  t.notMatch(server.output(), /InternalError|Unhandled|TypeError|RangeError/, 'no internal error was logged');
});

/** Starts a GET and drops the connection as soon as the first bytes arrive. */
function abortedDownload(server: Sluice, path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers: { Authorization: simpleAuth() } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
      res.once('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
}

t.test('clients that give up mid-transfer leave no open files behind', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'leaks');
  await putObject(server, 'leaks', 'big.bin', Buffer.alloc(16 * 1024 * 1024, 7));
  // Big bodies are hashed by worker threads, started on first use (each holds a few descriptors):
  // start them all before counting, with as many concurrent uploads as there are cores.
  await Promise.all(Array.from({ length: availableParallelism() }, (_, i) => putObject(server, 'leaks', `warm-${i}`, Buffer.alloc(4 * 1024 * 1024, i))));
  // So are the small-object threads (two): concurrent GETs start both.
  await Promise.all(Array.from({ length: 8 }, () => s3(server, 'GET', '/leaks/warm-0', { headers: { Range: 'bytes=0-0' } })));
  const openFiles = (): number => readdirSync(`/proc/${server.process.pid}/fd`).length;
  const before = openFiles();

  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: 10 }, () => abortedDownload(server, '/leaks/big.bin')));
    await Promise.all(Array.from({ length: 10 }, (_, i) => rawExchange(server, [`PUT /leaks/up-${i} HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: 1000000\r\n\r\n`, Buffer.alloc(5000)], { close: 'destroy' })));
    await Promise.all(Array.from({ length: 10 }, () => s3(server, 'HEAD', '/leaks/big.bin', { headers: { 'If-Match': '"nope"' } })));
  }
  // Aborted streams are closed asynchronously; give them a moment.
  let after = openFiles();
  for (let i = 0; i < 50 && after > before + 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = openFiles();
  }
  t.ok(after <= before + 2, `open descriptors: ${before} before, ${after} after 30 aborted downloads, 30 aborted uploads, 30 failed HEADs`);
  t.equal((await s3(server, 'GET', '/leaks/big.bin', { headers: { Range: 'bytes=0-3' } })).body.length, 4, 'the server serves on');
});

t.test('bodies refused before they are read hold no memory afterwards', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'exists');
  const currentRss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))![1]) * 1024;
  const body = Buffer.alloc(200 * 1024, 'r');
  await putObject(server, 'exists', 'file', 'x');
  symlinkSync(join(server.root, 'exists', 'file'), join(server.root, 'exists', 'link'));
  const refuse = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      const missing = await s3(server, 'PUT', `/missing-bucket/k${i}`, { body });
      if (errorCode(missing) !== 'NoSuchBucket') throw new Error(`expected NoSuchBucket, got ${missing.status} ${missing.text}`);
      const parent = await putObject(server, 'exists', 'file', 'x');
      if (parent.status !== 200) throw new Error(`PUT exists/file: ${parent.status}`);
      // A key below a link to a file: refused when its parent is made, before the body is read.
      const underFile = await s3(server, 'PUT', `/exists/link/k${i}`, { body });
      if (errorCode(underFile) !== 'ObjectParentIsFile') throw new Error(`expected ObjectParentIsFile, got ${underFile.status} ${underFile.text}`);
    }
  };
  // Dropped bodies are garbage until V8 collects them (it waits for tens of MB of it), and malloc
  // keeps what it freed: RSS climbs to a high-water mark in the first rounds, then holds. A body
  // kept would add 200 KB each: 1,600 of them 320 MB.
  for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 4 }, refuse));
  const before = currentRss();
  for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 4 }, refuse));
  const grown = (currentRss() - before) / 1e6;
  t.ok(grown < 40, `1,600 refused 200 KB bodies after 800: RSS grew ${grown.toFixed(1)} MB`);
  t.equal((await s3(server, 'GET', '/exists/file')).text, 'x', 'the server serves on');
});

t.test('a key that is not UTF-8 once percent-decoded is 400 InvalidURI, whatever the method and the auth mode', async (t) => {
  const simple = await startSluice();
  t.teardown(() => simple.stop());
  const signed = await startSigV4('AKALICE alice-secret alice\n');
  t.teardown(() => signed.stop());
  for (const server of [simple, signed]) {
    const user = server === simple ? 'testuser' : null;
    if (server === simple) await createBucket(server, 'utf');
    const bad = ['%FF', 'a%C3', '%C0%AF', '%ED%A0%80', '%F4%90%80%80', 'ok/%E2%82'];
    for (const key of bad) {
      for (const [method, query] of [['GET', ''], ['HEAD', ''], ['PUT', ''], ['DELETE', ''], ['POST', '?uploads'], ['GET', '?tagging']]) {
        const res = await s3(server, method!, `/utf/${key}${query}`, { body: method === 'PUT' ? 'x' : '', user });
        t.equal(res.status, 400, `${server === simple ? 'SIMPLE' : 'SigV4'} ${method} ${key}${query}: 400`);
        if (method !== 'HEAD') t.equal(errorCode(res), 'InvalidURI', `${method} ${key}${query}: InvalidURI`);
      }
    }
  }
  t.same(readdirSync(join(simple.root, 'utf')), [], 'nothing was written');
});
