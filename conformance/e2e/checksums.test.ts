// Checksums as today's SDKs use them: multipart uploads that name x-amz-checksum-algorithm and
// x-amz-checksum-type (COMPOSITE `<base64>-N`, or a FULL_OBJECT CRC combined from the parts), each
// part's checksum verified and listed, the object's returned by CompleteMultipartUpload and by
// GET/HEAD with x-amz-checksum-mode; GetObjectAttributes; and BadDigest for a well-formed checksum
// of other bytes. boto3's default upload_file and a validated get_object, the aws cli, raw HTTP
// where boto3 cannot (CRC32C and CRC64NVME need awscrt, not installed here).
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createCrc } from '../../source/streams/crc';
import { aws, awsJson, boto3, createBucket, errorCode, lastJson, objectPath, putObject, s3, startSluice, tempDir, xmlValue, xmlValues, type Sluice } from '../lib/harness';
import { MiB, createUpload, md5, multipartETag, partPath, randomFile } from '../lib/multipart-helpers';

type Algorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';

/** The base64 digest of `data`, computed here (the CRCs by sluice's table code, checked against references in its unit tests). */
function digest(algorithm: Algorithm, data: Buffer): Buffer {
  if (algorithm === 'sha1' || algorithm === 'sha256') return createHash(algorithm).update(data).digest();
  const crc = createCrc(algorithm);
  crc.update(data);
  return crc.digest();
}
const b64 = (algorithm: Algorithm, data: Buffer): string => digest(algorithm, data).toString('base64');

const completeBody = (parts: { number: number; etag: string; checksum?: [Algorithm, string] }[]): string =>
  '<CompleteMultipartUpload>' +
  parts
    .map(
      (p) =>
        `<Part><PartNumber>${p.number}</PartNumber><ETag>"${p.etag}"</ETag>` +
        (p.checksum ? `<Checksum${p.checksum[0].toUpperCase()}>${p.checksum[1]}</Checksum${p.checksum[0].toUpperCase()}>` : '') +
        '</Part>',
    )
    .join('') +
  '</CompleteMultipartUpload>';

let server: Sluice;
const PARTS = [randomBytes(5 * MiB), randomBytes(5 * MiB + 3), randomBytes(777)];
const WHOLE = Buffer.concat(PARTS);
/** The parts as files, for boto3 to read. */
const partFiles: string[] = [];
t.before(async () => {
  server = await startSluice();
  await createBucket(server, 'sums');
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  PARTS.forEach((part, i) => {
    partFiles.push(join(dir, `part${i + 1}`));
    writeFileSync(partFiles[i]!, part);
  });
});
t.teardown(() => server.stop());

t.test('boto3 upload_file (CRC32 by default, composite) and a get_object that validates', async (t) => {
  const file = await randomFile(t, 13 * MiB + 5, 5 * MiB);
  const result = await boto3(
    server,
    `
import boto3.s3.transfer as T
s3.upload_file(${JSON.stringify(file.path)}, 'sums', 'uploaded', Config=T.TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024))
head = s3.head_object(Bucket='sums', Key='uploaded', ChecksumMode='ENABLED')
g = s3.get_object(Bucket='sums', Key='uploaded', ChecksumMode='ENABLED')
body = g['Body'].read()
print(json.dumps({'etag': head['ETag'], 'crc': head.get('ChecksumCRC32'), 'type': head.get('ChecksumType'),
  'get_crc': g.get('ChecksumCRC32'), 'md5': hashlib.md5(body).hexdigest()}))
`,
  );
  const out = lastJson<Record<string, string>>(result);
  t.equal(out.etag, `"${multipartETag(file.partMd5s)}"`);
  t.match(out.crc, /^[A-Za-z0-9+/]{6}==-3$/, 'a composite CRC32 of 3 parts');
  t.equal(out.type, 'COMPOSITE');
  t.equal(out.get_crc, out.crc, 'GetObject returns it too');
  t.equal(out.md5, file.md5, 'the bytes came back whole');

  const cli = await aws(server, ['s3', 'cp', file.path, 's3://sums/by-cli', '--only-show-errors']);
  t.equal(cli.code, 0, cli.stderr);
  const got = awsJson(await aws(server, ['s3api', 'head-object', '--bucket', 'sums', '--key', 'by-cli', '--checksum-mode', 'ENABLED']));
  t.equal(got.ChecksumType, 'COMPOSITE', 'the aws cli uploads with a composite checksum too');
  t.match(String(got.ChecksumCRC32), /-2$/, 'of its two 8 MiB parts');
});

t.test('a FULL_OBJECT CRC32 is the CRC of the whole object, and boto3 validates the body against it', async (t) => {
  const whole = b64('crc32', WHOLE);
  const result = await boto3(
    server,
    `
up = s3.create_multipart_upload(Bucket='sums', Key='full', ChecksumAlgorithm='CRC32', ChecksumType='FULL_OBJECT')
chunks = [open(p, 'rb').read() for p in ${JSON.stringify(partFiles)}]
parts = []
for i, chunk in enumerate(chunks):
    p = s3.upload_part(Bucket='sums', Key='full', UploadId=up['UploadId'], PartNumber=i + 1, Body=chunk, ChecksumAlgorithm='CRC32')
    parts.append({'PartNumber': i + 1, 'ETag': p['ETag'], 'ChecksumCRC32': p['ChecksumCRC32']})
from botocore.exceptions import ClientError
try:
    s3.complete_multipart_upload(Bucket='sums', Key='full', UploadId=up['UploadId'], MultipartUpload={'Parts': parts},
        ChecksumCRC32='AAAAAA==', ChecksumType='FULL_OBJECT')
    wrong = 'OK'
except ClientError as e:
    wrong = e.response['Error']['Code']
c = s3.complete_multipart_upload(Bucket='sums', Key='full', UploadId=up['UploadId'], MultipartUpload={'Parts': parts},
    ChecksumCRC32=${JSON.stringify(whole)}, ChecksumType='FULL_OBJECT')
g = s3.get_object(Bucket='sums', Key='full', ChecksumMode='ENABLED')
body = g['Body'].read()
print(json.dumps({'create_type': up.get('ChecksumType'), 'wrong': wrong, 'crc': c.get('ChecksumCRC32'), 'type': c.get('ChecksumType'),
  'get_crc': g.get('ChecksumCRC32'), 'get_type': g.get('ChecksumType'), 'validated': type(g['Body']).__name__,
  'md5': hashlib.md5(body).hexdigest()}))
`,
  );
  const out = lastJson<Record<string, string>>(result);
  t.equal(out.create_type, 'FULL_OBJECT', 'CreateMultipartUpload answers the type');
  t.equal(out.wrong, 'BadDigest', 'a full-object checksum in the complete request that does not match is BadDigest (the upload stays)');
  t.equal(out.crc, whole, 'CompleteMultipartUpload returns the CRC32 of the whole object, combined from the parts');
  t.equal(out.type, 'FULL_OBJECT');
  t.equal(out.get_crc, whole);
  t.equal(out.get_type, 'FULL_OBJECT');
  t.equal(out.validated, 'StreamingChecksumBody', 'botocore checked the body against the CRC as it read it');
  t.equal(out.md5, md5(WHOLE));
});

t.test('SHA256 (composite) is carried through to the object', async (t) => {
  const result = await boto3(
    server,
    `
up = s3.create_multipart_upload(Bucket='sums', Key='sha', ChecksumAlgorithm='SHA256')
chunks = [open(p, 'rb').read() for p in ${JSON.stringify(partFiles)}]
parts = []
for i, chunk in enumerate(chunks):
    p = s3.upload_part(Bucket='sums', Key='sha', UploadId=up['UploadId'], PartNumber=i + 1, Body=chunk, ChecksumAlgorithm='SHA256')
    parts.append({'PartNumber': i + 1, 'ETag': p['ETag'], 'ChecksumSHA256': p['ChecksumSHA256']})
listed = s3.list_parts(Bucket='sums', Key='sha', UploadId=up['UploadId'])
c = s3.complete_multipart_upload(Bucket='sums', Key='sha', UploadId=up['UploadId'], MultipartUpload={'Parts': parts})
h = s3.head_object(Bucket='sums', Key='sha', ChecksumMode='ENABLED')
print(json.dumps({'listed': [p['ChecksumSHA256'] for p in listed['Parts']], 'list_type': listed.get('ChecksumType'),
  'list_alg': listed.get('ChecksumAlgorithm'), 'sha': c.get('ChecksumSHA256'), 'type': c.get('ChecksumType'),
  'head': h.get('ChecksumSHA256'), 'head_type': h.get('ChecksumType')}))
`,
  );
  const out = lastJson<Record<string, unknown>>(result);
  const composite = `${createHash('sha256').update(Buffer.concat(PARTS.map((p) => digest('sha256', p)))).digest('base64')}-3`;
  t.same(out.listed, PARTS.map((p) => b64('sha256', p)), 'ListParts lists each part\'s SHA256');
  t.equal(out.list_alg, 'SHA256');
  t.equal(out.list_type, 'COMPOSITE');
  t.equal(out.sha, composite, 'the SHA256 of the parts\' SHA256s, then -3');
  t.equal(out.type, 'COMPOSITE');
  t.equal(out.head, composite, 'HeadObject returns it with checksum mode');
  t.equal(out.head_type, 'COMPOSITE');
});

t.test('CRC64NVME (full object) and CRC32C (composite or full) over raw HTTP', async (t) => {
  const cases: [Algorithm, string | undefined, string, string][] = [
    ['crc64nvme', undefined, 'FULL_OBJECT', b64('crc64nvme', WHOLE)],
    ['crc32c', undefined, 'COMPOSITE', `${b64('crc32c', Buffer.concat(PARTS.map((p) => digest('crc32c', p))))}-3`],
    ['crc32c', 'FULL_OBJECT', 'FULL_OBJECT', b64('crc32c', WHOLE)],
  ];
  for (const [algorithm, requestedType, type, expected] of cases) {
    const key = `raw-${algorithm}-${type}`;
    const created = await s3(server, 'POST', `${objectPath('sums', key)}?uploads`, {
      headers: { 'x-amz-checksum-algorithm': algorithm.toUpperCase(), ...(requestedType ? { 'x-amz-checksum-type': requestedType } : {}) },
    });
    t.equal(created.headers['x-amz-checksum-type'], type, `${key}: the upload's type`);
    const id = xmlValue(created.text, 'UploadId')!;
    const parts = [];
    for (const [i, part] of PARTS.entries()) {
      const res = await s3(server, 'PUT', partPath('sums', key, id, i + 1), { body: part, headers: { [`x-amz-checksum-${algorithm}`]: b64(algorithm, part) } });
      t.equal(res.status, 200);
      parts.push({ number: i + 1, etag: md5(part), checksum: [algorithm, b64(algorithm, part)] as [Algorithm, string] });
    }
    const done = await s3(server, 'POST', `${objectPath('sums', key)}?uploadId=${id}`, { body: completeBody(parts) });
    t.equal(done.status, 200, done.text);
    t.equal(xmlValue(done.text, `Checksum${algorithm.toUpperCase()}`), expected, `${key}: the object's checksum`);
    t.equal(xmlValue(done.text, 'ChecksumType'), type);
    const head = await s3(server, 'HEAD', objectPath('sums', key), { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
    t.equal(head.headers[`x-amz-checksum-${algorithm}`], expected);
    t.equal(head.headers['x-amz-checksum-type'], type);
    const plain = await s3(server, 'HEAD', objectPath('sums', key));
    t.equal(plain.headers[`x-amz-checksum-${algorithm}`], undefined, 'without checksum mode, no checksum');
    const ranged = await s3(server, 'GET', objectPath('sums', key), { headers: { 'x-amz-checksum-mode': 'ENABLED', Range: 'bytes=0-9' } });
    t.equal(ranged.headers[`x-amz-checksum-${algorithm}`], undefined, 'a range has no checksum of its own');
  }
});

t.test('the rules of multipart checksums', async (t) => {
  const refusedCreate: [Record<string, string>, string][] = [
    [{ 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-type': 'FULL_OBJECT' }, 'a SHA256 cannot be full-object'],
    [{ 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' }, 'a CRC64NVME cannot be composite'],
    [{ 'x-amz-checksum-type': 'COMPOSITE' }, 'a type without an algorithm'],
    [{ 'x-amz-checksum-algorithm': 'MD4' }, 'an unknown algorithm'],
  ];
  for (const [headers, what] of refusedCreate) {
    const res = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploads`, { headers });
    t.equal(res.status, 400, what);
    t.equal(errorCode(res), 'InvalidRequest', what);
  }
  t.equal(errorCode(await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploads`, { headers: { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'BOTH' } })), 'InvalidArgument', 'an unknown type');

  const id = await createUpload(server, 'sums', 'rules', { 'x-amz-checksum-algorithm': 'CRC32' });
  const other = await s3(server, 'PUT', partPath('sums', 'rules', id, 1), { body: PARTS[0], headers: { 'x-amz-checksum-sha1': b64('sha1', PARTS[0]!) } });
  t.equal(errorCode(other), 'InvalidRequest', 'a part with another algorithm than the upload\'s');
  const unsent = await s3(server, 'PUT', partPath('sums', 'rules', id, 1), { body: PARTS[0] });
  t.equal(unsent.status, 200, 'a part sent without a checksum');
  t.equal(unsent.headers['x-amz-checksum-crc32'], b64('crc32', PARTS[0]!), 'gets its CRC32 computed');
  const bad = await s3(server, 'PUT', partPath('sums', 'rules', id, 2), { body: PARTS[1], headers: { 'x-amz-checksum-crc32': b64('crc32', PARTS[0]!) } });
  t.equal(errorCode(bad), 'BadDigest', 'a part whose CRC32 is another\'s');
  await s3(server, 'PUT', partPath('sums', 'rules', id, 2), { body: PARTS[2] });
  const listed = await s3(server, 'GET', `${objectPath('sums', 'rules')}?uploadId=${id}`);
  t.same(xmlValues(listed.text, 'ChecksumCRC32'), [b64('crc32', PARTS[0]!), b64('crc32', PARTS[2]!)], 'ListParts lists both');
  t.equal(xmlValue(listed.text, 'ChecksumType'), 'COMPOSITE');

  const bare = [{ number: 1, etag: md5(PARTS[0]!) }, { number: 2, etag: md5(PARTS[2]!) }];
  const missing = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploadId=${id}`, { body: completeBody(bare) });
  t.equal(errorCode(missing), 'InvalidRequest', 'a composite upload completed without the parts\' checksums');
  t.match(missing.text, /missing for part 1/);
  const sums = bare.map((p, i) => ({ ...p, checksum: ['crc32', b64('crc32', [PARTS[0]!, PARTS[2]!][i]!)] as [Algorithm, string] }));
  const mode = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploadId=${id}`, { body: completeBody(sums), headers: { 'x-amz-checksum-type': 'FULL_OBJECT' } });
  t.equal(errorCode(mode), 'InvalidRequest', 'a complete that names another type');
  const size = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploadId=${id}`, { body: completeBody(sums), headers: { 'x-amz-mp-object-size': '12' } });
  t.equal(errorCode(size), 'InvalidRequest', 'an x-amz-mp-object-size that is not the parts\' size');
  const composite = `${b64('crc32', Buffer.concat([digest('crc32', PARTS[0]!), digest('crc32', PARTS[2]!)]))}-2`;
  const wrong = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploadId=${id}`, { body: completeBody(sums), headers: { 'x-amz-checksum-crc32': 'AAAAAA==-2' } });
  t.equal(errorCode(wrong), 'BadDigest', 'a composite named in the request that is not the parts\'');
  const ok = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploadId=${id}`, {
    body: completeBody(sums),
    headers: { 'x-amz-checksum-crc32': composite.replace(/-2$/, ''), 'x-amz-mp-object-size': String(PARTS[0]!.length + PARTS[2]!.length) },
  });
  t.equal(ok.status, 200, 'the composite may be named without its -N');
  t.equal(xmlValue(ok.text, 'ChecksumCRC32'), composite);
  const again = await s3(server, 'POST', `${objectPath('sums', 'rules')}?uploadId=${id}`, { body: completeBody(sums) });
  t.equal(xmlValue(again.text, 'ChecksumCRC32'), composite, 'a repeated complete answers the same checksum');

  // UploadPartCopy into an upload with an algorithm: the copied part gets its checksum.
  const copyId = await createUpload(server, 'sums', 'copied', { 'x-amz-checksum-algorithm': 'SHA1' });
  const copied = await s3(server, 'PUT', partPath('sums', 'copied', copyId, 1), { headers: { 'x-amz-copy-source': '/sums/rules', 'x-amz-copy-source-range': 'bytes=0-99' } });
  t.equal(xmlValue(copied.text, 'ChecksumSHA1'), b64('sha1', PARTS[0]!.subarray(0, 100)), 'CopyPartResult names the copied part\'s SHA1');
});

t.test('a well-formed checksum of other bytes is BadDigest, header or trailer', async (t) => {
  const body = Buffer.from('the body as sent');
  const other = Buffer.from('some other bytes');
  for (const algorithm of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as Algorithm[]) {
    const header = await s3(server, 'PUT', `/sums/bad-${algorithm}`, { body, headers: { [`x-amz-checksum-${algorithm}`]: b64(algorithm, other) } });
    t.equal(errorCode(header), 'BadDigest', `${algorithm} in a header`);
    const framed = Buffer.from(`${body.length.toString(16)}\r\n${body}\r\n0\r\nx-amz-checksum-${algorithm}:${b64(algorithm, other)}\r\n\r\n`);
    const trailer = await s3(server, 'PUT', `/sums/bad-${algorithm}`, {
      body: framed,
      headers: {
        'Content-Encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-trailer': `x-amz-checksum-${algorithm}`,
        'x-amz-decoded-content-length': body.length,
      },
    });
    t.equal(errorCode(trailer), 'BadDigest', `${algorithm} in a trailer`);
    const malformed = await s3(server, 'PUT', `/sums/bad-${algorithm}`, { body, headers: { [`x-amz-checksum-${algorithm}`]: 'AAAA' } });
    t.equal(errorCode(malformed), 'InvalidDigest', `${algorithm}: a value of the wrong length is InvalidDigest`);
    t.equal((await s3(server, 'HEAD', `/sums/bad-${algorithm}`)).status, 404, 'nothing was stored');
  }
});

t.test('GetObjectAttributes of single and multipart objects', async (t) => {
  const bytes = Buffer.from('attributes of a single object');
  await putObject(server, 'sums', 'single', bytes, { 'x-amz-checksum-sha1': b64('sha1', bytes) });
  const result = await boto3(
    server,
    `
ALL = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']
def attrs(key, **kw):
    r = s3.get_object_attributes(Bucket='sums', Key=key, ObjectAttributes=ALL, **kw)
    r.pop('ResponseMetadata'); r['LastModified'] = r['LastModified'].isoformat()
    return r
out = {'single': attrs('single'), 'full': attrs('full'), 'page1': attrs('full', MaxParts=2), 'page2': attrs('full', MaxParts=2, PartNumberMarker=2),
  'size_only': s3.get_object_attributes(Bucket='sums', Key='sha', ObjectAttributes=['ObjectSize'])['ObjectSize'],
  'head_modified': s3.head_object(Bucket='sums', Key='single')['LastModified'].isoformat()}
print(json.dumps(out))
`,
  );
  const out = lastJson<Record<string, Record<string, unknown>>>(result);
  t.same(out.single, {
    LastModified: out.head_modified,
    ETag: md5(bytes),
    Checksum: { ChecksumSHA1: b64('sha1', bytes), ChecksumType: 'FULL_OBJECT' },
    StorageClass: 'STANDARD',
    ObjectSize: bytes.length,
  }, 'a single object: no ObjectParts');
  const partsOf = (from: number, to: number) => PARTS.slice(from, to).map((p, i) => ({ PartNumber: from + i + 1, Size: p.length, ChecksumCRC32: b64('crc32', p) }));
  t.same(out.full!.ObjectParts, { TotalPartsCount: 3, PartNumberMarker: 0, NextPartNumberMarker: 3, MaxParts: 1000, IsTruncated: false, Parts: partsOf(0, 3) });
  t.same(out.full!.Checksum, { ChecksumCRC32: b64('crc32', WHOLE), ChecksumType: 'FULL_OBJECT' });
  t.equal(out.full!.ObjectSize, WHOLE.length);
  t.equal(out.full!.ETag, multipartETag(PARTS.map(md5)), 'the multipart ETag, unquoted');
  t.same(out.page1!.ObjectParts, { TotalPartsCount: 3, PartNumberMarker: 0, NextPartNumberMarker: 2, MaxParts: 2, IsTruncated: true, Parts: partsOf(0, 2) });
  t.same(out.page2!.ObjectParts, { TotalPartsCount: 3, PartNumberMarker: 2, NextPartNumberMarker: 3, MaxParts: 2, IsTruncated: false, Parts: partsOf(2, 3) });
  t.equal(Number(out.size_only), WHOLE.length, 'only what is asked for');

  // A multipart object without checksums: S3 counts its parts and lists none.
  const id = await createUpload(server, 'sums', 'unsummed');
  await s3(server, 'PUT', partPath('sums', 'unsummed', id, 1), { body: PARTS[2] });
  await s3(server, 'POST', `${objectPath('sums', 'unsummed')}?uploadId=${id}`, { body: completeBody([{ number: 1, etag: md5(PARTS[2]!) }]) });
  const unsummed = await s3(server, 'GET', `${objectPath('sums', 'unsummed')}?attributes`, { headers: { 'x-amz-object-attributes': 'ObjectParts,Checksum' } });
  t.equal(unsummed.status, 200);
  t.equal(xmlValue(unsummed.text, 'PartsCount'), '1');
  t.notMatch(unsummed.text, /<Part>|<Checksum>/);

  const none = await s3(server, 'GET', `${objectPath('sums', 'single')}?attributes`);
  t.equal(errorCode(none), 'InvalidRequest', 'x-amz-object-attributes is required');
  const unknown = await s3(server, 'GET', `${objectPath('sums', 'single')}?attributes`, { headers: { 'x-amz-object-attributes': 'ETag,Colour' } });
  t.equal(errorCode(unknown), 'InvalidArgument', 'an unknown attribute');
  const missing = await s3(server, 'GET', `${objectPath('sums', 'absent')}?attributes`, { headers: { 'x-amz-object-attributes': 'ETag' } });
  t.equal(errorCode(missing), 'NoSuchKey');
  const cli = awsJson(await aws(server, ['s3api', 'get-object-attributes', '--bucket', 'sums', '--key', 'single', '--object-attributes', 'ObjectSize', 'ETag']));
  t.same([cli.ObjectSize, cli.ETag], [bytes.length, md5(bytes)], 'the aws cli');
});

t.test('CopyObject keeps a full-object checksum, drops a composite one, makes one it is asked for', async (t) => {
  const copy = (key: string, source: string, headers: Record<string, string> = {}) =>
    s3(server, 'PUT', objectPath('sums', key), { headers: { 'x-amz-copy-source': `/sums/${source}`, ...headers } });
  const kept = await copy('copy-full', 'full');
  t.equal(xmlValue(kept.text, 'ChecksumCRC32'), b64('crc32', WHOLE), 'the full-object CRC32 describes the copy too');
  const head = await s3(server, 'HEAD', '/sums/copy-full', { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
  t.equal(head.headers['x-amz-checksum-crc32'], b64('crc32', WHOLE));
  const dropped = await copy('copy-sha', 'sha');
  t.notMatch(dropped.text, /Checksum/, 'a composite does not describe a part-less copy');
  const made = await copy('copy-made', 'sha', { 'x-amz-checksum-algorithm': 'SHA256' });
  t.equal(xmlValue(made.text, 'ChecksumSHA256'), b64('sha256', WHOLE), 'x-amz-checksum-algorithm: the SHA256 of the copied bytes');
});
