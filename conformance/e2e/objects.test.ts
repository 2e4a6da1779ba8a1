// PutObject, GetObject/HeadObject headers and DeleteObject end to end: ETags, Content-MD5 and
// x-amz-checksum-* verification, bodies that stop short, Expect: 100-continue, a PUT with no
// length, stored content headers and user metadata, and what DeleteObject leaves on disk.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import t from 'tap';
import {
  aws,
  awsJson,
  boto3,
  createBucket,
  errorCode,
  filesUnder,
  lastJson,
  md5Hex,
  putObject,
  rawExchange,
  s3,
  simpleAuth,
  startSluice,
  tempDir,
  waitFor,
  xmlValue,
  type RawResponse,
  type Sluice,
} from '../lib/harness';

/** CRC-32C (Castagnoli), bit by bit: independent of the server's table-driven one. */
function crc32c(data: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out;
}

/** CRC-64/NVME, bit by bit (BigInt): slow, but independent of the server's and fine for a test body. */
function crc64nvme(data: Buffer): Buffer {
  const mask = 0xffffffffffffffffn;
  let crc = mask;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(crc ^ mask);
  return out;
}

function crc32Base64(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}

const b64 = (algorithm: string, data: Buffer): string => createHash(algorithm).update(data).digest('base64');

t.test('PutObject: ETag is the MD5; Content-MD5 and every x-amz-checksum-* are verified', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'puts');
  const dir = tempDir();
  const file = join(dir, 'body.bin');
  const bytes = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(500));
  writeFileSync(file, bytes);

  const put = awsJson<{ ETag: string }>(await aws(server, ['s3api', 'put-object', '--bucket', 'puts', '--key', 'fox.txt', '--body', file]));
  t.equal(put.ETag, `"${md5Hex(bytes)}"`, 'the aws cli sees the MD5 as ETag');
  t.same(readFileSync(join(server.root, 'puts', 'fox.txt')), bytes, 'stored as a plain file');

  const path = '/puts/checked.bin';
  const good = await s3(server, 'PUT', path, { body: bytes, headers: { 'Content-MD5': b64('md5', bytes) } });
  t.equal(good.status, 200, 'a matching Content-MD5');
  const other = Buffer.from('other bytes');
  const bad = await s3(server, 'PUT', path, { body: other, headers: { 'Content-MD5': b64('md5', bytes) } });
  t.equal(bad.status, 400);
  t.equal(errorCode(bad), 'BadDigest', 'a Content-MD5 of other bytes is BadDigest');
  const invalid = await s3(server, 'PUT', path, { body: other, headers: { 'Content-MD5': 'not-base64!' } });
  t.equal(errorCode(invalid), 'InvalidDigest', 'a Content-MD5 that is no MD5 is InvalidDigest');
  const short = await s3(server, 'PUT', path, { body: other, headers: { 'Content-MD5': Buffer.from('abc').toString('base64') } });
  t.equal(errorCode(short), 'InvalidDigest', 'a Content-MD5 of the wrong length is InvalidDigest');
  t.same(readFileSync(join(server.root, 'puts', 'checked.bin')), bytes, 'failed PUTs leave the previous version intact');

  t.equal(crc64nvme(Buffer.from('123456789')).toString('hex'), 'ae8b14860a799888', 'the test CRC-64/NVME gives the check value');
  const checksums: [string, (d: Buffer) => string][] = [
    ['crc32', crc32Base64],
    ['crc32c', (d) => crc32c(d).toString('base64')],
    ['crc64nvme', (d) => crc64nvme(d).toString('base64')],
    ['sha1', (d) => b64('sha1', d)],
    ['sha256', (d) => b64('sha256', d)],
  ];
  for (const [algorithm, compute] of checksums) {
    const key = `/puts/sum-${algorithm}`;
    const ok = await s3(server, 'PUT', key, { body: bytes, headers: { [`x-amz-checksum-${algorithm}`]: compute(bytes) } });
    t.equal(ok.status, 200, `${algorithm}: a matching checksum is accepted`);
    t.equal(ok.headers[`x-amz-checksum-${algorithm}`], compute(bytes), `${algorithm}: the checksum is echoed`);
    const head = await s3(server, 'HEAD', key, { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
    t.equal(head.headers[`x-amz-checksum-${algorithm}`], compute(bytes), `${algorithm}: HeadObject returns it with checksum mode`);
    const mismatch = await s3(server, 'PUT', key, { body: other, headers: { [`x-amz-checksum-${algorithm}`]: compute(bytes) } });
    t.equal(mismatch.status, 400);
    t.equal(errorCode(mismatch), 'BadDigest', `${algorithm}: a checksum of other bytes is BadDigest`);
    const garbage = await s3(server, 'PUT', key, { body: other, headers: { [`x-amz-checksum-${algorithm}`]: 'AAAA!' } });
    t.equal(garbage.status, 400, `${algorithm}: a malformed checksum value is refused`);
    t.same(readFileSync(join(server.root, 'puts', `sum-${algorithm}`)), bytes, `${algorithm}: refused PUTs changed nothing`);
  }
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), [], 'no temp file is left by the refused PUTs');

  // boto3 computes the checksums itself (flexible checksums) and asks for them back.
  const result = lastJson<Record<string, string>>(
    await boto3(
      server,
      `
import base64
body = b'boto3 body ' * 1000
out = {}
for algo in ['CRC32', 'SHA1', 'SHA256']:
    r = s3.put_object(Bucket='puts', Key='boto-' + algo, Body=body, ChecksumAlgorithm=algo)
    out['etag_' + algo] = r['ETag']
    h = s3.head_object(Bucket='puts', Key='boto-' + algo, ChecksumMode='ENABLED')
    out['sum_' + algo] = h.get('Checksum' + algo)
out['sha256'] = base64.b64encode(hashlib.sha256(body).digest()).decode()
out['md5'] = hashlib.md5(body).hexdigest()
g = s3.get_object(Bucket='puts', Key='boto-SHA256', ChecksumMode='ENABLED')
out['read'] = hashlib.md5(g['Body'].read()).hexdigest()
print(json.dumps(out))
`,
    ),
  );
  for (const algo of ['CRC32', 'SHA1', 'SHA256']) t.equal(result[`etag_${algo}`], `"${result.md5}"`, `boto3 ${algo}: ETag is the MD5`);
  t.equal(result.sum_SHA256, result.sha256, 'boto3 reads back the SHA-256 it sent');
  t.ok(result.sum_CRC32 && result.sum_SHA1, 'and the CRC32 and SHA-1');
  t.equal(result.read, result.md5, 'boto3 validates the checksum of a GetObject');
});

async function expectUntouched(t: tap.Test, server: Sluice, path: string, bytes: Buffer, bucketFiles: string[]): Promise<void> {
  // The server notices a broken connection asynchronously (later still on a loaded machine):
  // wait for the state to settle; what is left after that was left for good.
  const settled = (): boolean => filesUnder(join(server.root, '.sluice', 'tmp')).length === 0 && filesUnder(join(server.root, 'short')).join() === bucketFiles.join();
  await waitFor(settled, 'the server to clean up', 10_000).catch(() => undefined);
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), [], 'no temp file is left');
  t.same(readFileSync(path), bytes, 'the previous version is intact');
  t.same(filesUnder(join(server.root, 'short')), bucketFiles, 'nothing new in the bucket');
}

t.test('a body that stops short leaves nothing behind', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'short');
  const previous = Buffer.from('previous version');
  await putObject(server, 'short', 'obj.bin', previous);
  const before = filesUnder(join(server.root, 'short'));
  const path = join(server.root, 'short', 'obj.bin');
  const head = (key: string, length: number): string =>
    `PUT /short/${key} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${simpleAuth()}\r\nContent-Length: ${length}\r\n\r\n`;

  // A client that dies mid-body (the connection is reset).
  await rawExchange(server, [head('obj.bin', 1 << 20), Buffer.alloc(300_000, 1)], { close: 'destroy' });
  await expectUntouched(t, server, path, previous, before);
  // A client that sends fewer bytes than announced and half-closes.
  const halfClosed = await rawExchange(server, [head('obj.bin', 5000), Buffer.alloc(100, 2)], { close: 'end' });
  t.equal(halfClosed.status, 400, 'a short body is not a success');
  t.match(halfClosed.text, /<Code>IncompleteBody<\/Code>/, 'it is IncompleteBody');
  await expectUntouched(t, server, path, previous, before);
  // A new key under new directories: the directories must not stay behind either.
  await rawExchange(server, [head('new/dirs/obj.bin', 100_000), Buffer.alloc(10, 3)], { close: 'destroy' });
  await expectUntouched(t, server, path, previous, before);
  // A client that stalls: the server answers IncompleteBody or keeps waiting; either way nothing lands.
  const stalled = await rawExchange(server, [head('obj.bin', 100), 'only-some'], { close: 'none', timeoutMs: 300 });
  t.not(stalled.status, 200);
  await expectUntouched(t, server, path, previous, before);

  // Many clients that give up at once, most before the server has even opened its temp file.
  await Promise.all(
    Array.from({ length: 40 }, (_, i) => rawExchange(server, [head(i % 2 ? 'obj.bin' : `burst/${i}/obj.bin`, 50_000), Buffer.alloc(i * 10, 4)], { close: 'destroy' })),
  );
  await expectUntouched(t, server, path, previous, before);

  const alive = await s3(server, 'GET', '/short/obj.bin');
  t.equal(alive.text, 'previous version', 'the server serves on');
});

t.test('Expect: 100-continue, and a PUT without a length', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'expect');
  const body = Buffer.alloc(200_000, 'e');

  const outcome = await new Promise<{ continued: boolean; status: number; etag: string | undefined }>((resolve, reject) => {
    let continued = false;
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: '/expect/continued.bin',
        headers: { Expect: '100-continue', 'Content-Length': body.length, Authorization: simpleAuth() },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, etag: res.headers.etag }));
      },
    );
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  t.ok(outcome.continued, 'the server sends 100 Continue');
  t.equal(outcome.status, 200);
  t.equal(outcome.etag, `"${md5Hex(body)}"`);
  t.same(readFileSync(join(server.root, 'expect', 'continued.bin')), body);

  // Node answers other expectations with 417 unless the server takes them itself.
  const odd = await s3(server, 'PUT', '/expect/odd.bin', { body: 'odd', headers: { Expect: 'something-else' } });
  t.equal(odd.status, 200, 'an unknown Expect does not stop the request');

  const noLength = await rawExchange(server, [`PUT /expect/nolength.bin HTTP/1.1\r\nHost: x\r\nAuthorization: ${simpleAuth()}\r\n\r\n`], { close: 'none' });
  t.equal(noLength.status, 411, 'a PUT with neither Content-Length nor chunked encoding');
  t.match(noLength.text, /<Code>MissingContentLength<\/Code>/);
  t.notOk(existsSync(join(server.root, 'expect', 'nolength.bin')));
  const badLength = await s3(server, 'PUT', '/expect/x.bin', { body: '', headers: { 'x-amz-decoded-content-length': 'abc', 'Content-Encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' } });
  t.equal(badLength.status, 400, 'a bad decoded length is refused');
});

t.test('content headers and user metadata come back as stored', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'headers');
  const stored = {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Encoding': 'gzip',
    'Content-Disposition': 'attachment; filename="report.csv"',
    'Cache-Control': 'max-age=3600, private',
    'Content-Language': 'de-CH',
    Expires: 'Wed, 21 Oct 2037 07:28:00 GMT',
    'x-amz-meta-Project': 'Sluice',
    'x-amz-meta-empty': '',
    'x-amz-tagging': 'a=1&b=two%20words',
  };
  await putObject(server, 'headers', 'report.csv', 'a,b\n1,2\n', stored);
  for (const method of ['GET', 'HEAD']) {
    const res = await s3(server, method, '/headers/report.csv');
    t.equal(res.status, 200);
    t.equal(res.headers['content-type'], 'text/csv; charset=utf-8', `${method} Content-Type`);
    t.equal(res.headers['content-encoding'], 'gzip', `${method} Content-Encoding`);
    t.equal(res.headers['content-disposition'], 'attachment; filename="report.csv"');
    t.equal(res.headers['cache-control'], 'max-age=3600, private');
    t.equal(res.headers['content-language'], 'de-CH');
    t.equal(res.headers.expires, 'Wed, 21 Oct 2037 07:28:00 GMT');
    t.equal(res.headers['x-amz-meta-project'], 'Sluice', 'user metadata names are lower-cased, values kept');
    t.equal(res.headers['x-amz-meta-empty'], '', 'empty metadata values are kept');
    t.equal(res.headers['x-amz-tagging-count'], '2', `${method} x-amz-tagging-count`);
    t.equal(res.headers['content-length'], '8');
    t.match(res.headers['last-modified'] ?? '', /GMT$/);
    t.equal(res.headers['accept-ranges'], 'bytes');
  }
  const plain = await putObject(server, 'headers', 'plain', 'x');
  t.ok(plain.headers.etag);
  const head = await s3(server, 'HEAD', '/headers/plain');
  t.equal(head.headers['content-type'], 'application/octet-stream', 'no Content-Type: application/octet-stream');
  t.equal(head.headers['x-amz-tagging-count'], undefined, 'no tags: no tagging count');

  const seen = lastJson<Record<string, unknown>>(
    await boto3(
      server,
      `
s3.put_object(Bucket='headers', Key='b.json', Body=b'{}', ContentType='application/json', Metadata={'Owner-Team': 'Storage', 'with-space': 'a b  c'}, CacheControl='no-cache', ContentLanguage='fr')
h = s3.head_object(Bucket='headers', Key='b.json')
print(json.dumps({'type': h['ContentType'], 'meta': h['Metadata'], 'cache': h['CacheControl'], 'lang': h['ContentLanguage'], 'len': h['ContentLength']}))
`,
    ),
  );
  t.equal(seen.type, 'application/json');
  t.same(seen.meta, { 'owner-team': 'Storage', 'with-space': 'a b  c' }, 'boto3 reads its metadata back');
  t.equal(seen.cache, 'no-cache');
  t.equal(seen.lang, 'fr');
  t.equal(seen.len, 2);

  const cli = awsJson<{ Metadata: Record<string, string>; ContentType: string; ContentDisposition: string }>(
    await aws(server, ['s3api', 'head-object', '--bucket', 'headers', '--key', 'report.csv']),
  );
  t.same(cli.Metadata, { project: 'Sluice', empty: '' });
  t.equal(cli.ContentDisposition, 'attachment; filename="report.csv"');
});

t.test('folder objects and DeleteObject', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'deletes');

  await putObject(server, 'deletes', 'a/b/c/leaf.txt', 'leaf');
  await putObject(server, 'deletes', 'a/sibling.txt', 'sibling');
  mkdirSync(join(server.root, 'deletes', 'made-by-others', 'inner'), { recursive: true });
  await putObject(server, 'deletes', 'made-by-others/inner/x.txt', 'x');

  const del = await s3(server, 'DELETE', '/deletes/a/b/c/leaf.txt');
  t.equal(del.status, 204, 'DeleteObject answers 204');
  t.notOk(existsSync(join(server.root, 'deletes', 'a', 'b')), 'empty parents sluice created are removed');
  t.ok(existsSync(join(server.root, 'deletes', 'a', 'sibling.txt')), 'a parent that still holds objects stays');
  t.equal((await s3(server, 'DELETE', '/deletes/a/b/c/leaf.txt')).status, 204, 'deleting again is fine (idempotent)');
  t.equal((await s3(server, 'DELETE', '/deletes/never/was')).status, 204, 'deleting what never existed is fine');
  t.equal((await s3(server, 'DELETE', '/deletes/made-by-others/inner/x.txt')).status, 204);
  t.ok(existsSync(join(server.root, 'deletes', 'made-by-others', 'inner')), 'directories made by other programs stay');
  t.equal((await s3(server, 'DELETE', '/deletes/a/sibling.txt')).status, 204);
  t.same(filesUnder(join(server.root, 'deletes')), ['made-by-others/', 'made-by-others/inner/'], 'the whole prefix a/ vanished');
  const missingBucket = await s3(server, 'DELETE', '/no-such-bucket/k');
  t.equal(errorCode(missingBucket), 'NoSuchBucket');

  // Folder objects: `key/` with an empty body is a directory, listed and deletable.
  const folder = await s3(server, 'PUT', '/deletes/folder/', { body: '' });
  t.equal(folder.status, 200);
  t.equal(folder.headers.etag, '"d41d8cd98f00b204e9800998ecf8427e"', 'a folder object has the MD5 of nothing');
  t.ok(existsSync(join(server.root, 'deletes', 'folder')), 'it is a directory on disk');
  const withData = await s3(server, 'PUT', '/deletes/folder2/', { body: 'data' });
  t.equal(withData.status, 200, 'a folder object may hold data');
  t.equal(readFileSync(join(server.root, 'deletes', 'folder2', '.sluice-folder'), 'utf8'), 'data', 'kept inside its directory');
  t.equal((await s3(server, 'DELETE', '/deletes/folder2/')).status, 204);
  t.notOk(existsSync(join(server.root, 'deletes', 'folder2')), 'deleting it removes the directory');
  t.equal((await s3(server, 'HEAD', '/deletes/folder/')).status, 200);
  await putObject(server, 'deletes', 'folder/inside.txt', 'in');
  t.equal((await s3(server, 'DELETE', '/deletes/folder/inside.txt')).status, 204);
  t.ok(existsSync(join(server.root, 'deletes', 'folder')), 'a folder object outlives its last object');
  t.equal((await s3(server, 'DELETE', '/deletes/folder/')).status, 204);
  t.notOk(existsSync(join(server.root, 'deletes', 'folder')), 'deleting the folder object removes the directory');

  const cli = await aws(server, ['s3api', 'delete-object', '--bucket', 'deletes', '--key', 'nothing/here']);
  t.equal(cli.code, 0, 'the aws cli deletes a missing key without error');

  // Every object has one version, "null"; another versionId names nothing.
  await putObject(server, 'deletes', 'versioned.txt', 'current');
  t.equal((await s3(server, 'GET', '/deletes/versioned.txt?versionId=null')).text, 'current', 'versionId=null is the object');
  for (const [method, path] of [
    ['GET', '/deletes/versioned.txt?versionId=3HL4kqtJlcpXroDTDmjVBH40Nrjfkd'],
    ['DELETE', '/deletes/versioned.txt?versionId=3HL4kqtJlcpXroDTDmjVBH40Nrjfkd'],
    ['GET', '/deletes/versioned.txt?tagging&versionId=abc'],
    ['PUT', '/deletes/versioned.txt?tagging&versionId=abc'],
  ] as const) {
    const res = await s3(server, method, path, method === 'PUT' ? { body: '<Tagging><TagSet/></Tagging>' } : {});
    t.equal(res.status, 404, `${method} ${path}: 404`);
    t.equal(errorCode(res), 'NoSuchVersion');
  }
  t.equal((await s3(server, 'HEAD', '/deletes/versioned.txt?versionId=abc')).status, 404);
  t.equal(readFileSync(join(server.root, 'deletes', 'versioned.txt'), 'utf8'), 'current', 'a delete of another version never deletes the object');
  const versions = lastJson<{ versions: [string, string][] }>(
    await boto3(
      server,
      `
listed = s3.list_object_versions(Bucket='deletes', Prefix='versioned')
pairs = [[v['Key'], v['VersionId']] for v in listed['Versions']]
for key, version in pairs:
    s3.delete_object(Bucket='deletes', Key=key, VersionId=version)
print(json.dumps({'versions': pairs}))
`,
    ),
  );
  t.same(versions.versions, [['versioned.txt', 'null']]);
  t.notOk(existsSync(join(server.root, 'deletes', 'versioned.txt')), 'deleting the listed version (null) deletes the object');
});

t.test('concurrent writers of one key: the last wins, readers never see a torn object', async (t) => {
  const server = await startSluice();
  t.teardown(() => server.stop());
  await createBucket(server, 'race');
  await putObject(server, 'race', 'hot.bin', Buffer.alloc(1 << 20, 0), { 'x-amz-meta-writer': 'initial' });
  const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc((1 << 20) + i * 4096, i + 1));

  const reads: Promise<RawResponse>[] = [];
  const heads: Promise<RawResponse>[] = [];
  const lists: Promise<RawResponse>[] = [];
  const writes = versions.map(async (body, i) => {
    for (let n = 0; n < 3; n++) reads.push(s3(server, 'GET', '/race/hot.bin'));
    heads.push(s3(server, 'HEAD', '/race/hot.bin'));
    lists.push(s3(server, 'GET', '/race?list-type=2'));
    return s3(server, 'PUT', '/race/hot.bin', { body, headers: { 'x-amz-meta-writer': String(i) } });
  });
  const written = await Promise.all(writes);
  t.same(written.map((r) => r.status), versions.map(() => 200), 'every writer succeeds');
  let whole = 0;
  for (const read of await Promise.all(reads)) {
    // Each read is one version with its own ETag and metadata, never a version stripped of them.
    if (read.status === 200 && read.headers.etag === `"${md5Hex(read.body)}"` && new Set(read.body).size === 1 && read.headers['x-amz-meta-writer'] !== undefined) whole++;
  }
  t.equal(whole, reads.length, 'every concurrent read is one whole version, with its ETag and metadata');
  const headTags = (await Promise.all(heads)).map((h) => String(h.headers.etag));
  t.same(headTags.filter((e) => !/^"[0-9a-f]{32}"$/.test(e)), [], 'concurrent HEADs always find the MD5');
  const listTags = (await Promise.all(lists)).map((l) => xmlValue(l.text, 'ETag') ?? '');
  t.same(listTags.filter((e) => !/^&quot;[0-9a-f]{32}&quot;$/.test(e)), [], 'concurrent listings always show the MD5');
  const final = await s3(server, 'GET', '/race/hot.bin');
  const writer = Number(final.headers['x-amz-meta-writer']);
  t.same(final.body, versions[writer], 'the object is one writer’s bytes');
  t.equal(final.headers.etag, `"${md5Hex(versions[writer]!)}"`, 'with that writer’s ETag and metadata');
  t.same(filesUnder(join(server.root, '.sluice', 'tmp')), []);

  const mismatch = await s3(server, 'PUT', '/race/sha.bin', { body: 'payload', headers: { 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') } });
  t.equal(mismatch.status, 400);
  t.equal(errorCode(mismatch), 'XAmzContentSHA256Mismatch', 'a payload hash that does not match');
  const unsigned = await s3(server, 'PUT', '/race/sha.bin', { body: 'payload', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  t.equal(unsigned.status, 200, 'UNSIGNED-PAYLOAD is accepted');
});
