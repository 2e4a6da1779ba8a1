// Every failure of the multipart family, over raw HTTP: part numbers out of range, NoSuchUpload in
// all its forms, what CompleteMultipartUpload refuses (InvalidPart, InvalidPartOrder,
// EntityTooSmall, MalformedXML), UploadPartCopy's range and conditions, and GetObject's partNumber.
import { crc32 } from 'node:zlib';
import t from 'tap';
import { createBucket, errorCode, objectPath, putObject, s3, startSluice, xmlValue, xmlValues, type Sluice } from '../lib/harness';
import { MiB, complete, createUpload, md5, multipartETag, partPath, patternBytes, putPart, s3Code, uploadPart } from '../lib/multipart-helpers';

const FIVE = patternBytes(5 * MiB, 7);
const FIVE_MD5 = md5(FIVE);

let server: Sluice;
t.before(async () => {
  server = await startSluice();
  await createBucket(server, 'errs');
});
t.teardown(() => server.stop());

t.test('part numbers outside 1..10000 are InvalidArgument; the bounds are accepted', async (t) => {
  const id = await createUpload(server, 'errs', 'numbers');
  for (const n of ['0', '10001', '-1', 'abc', '1.5', '']) {
    const res = await putPart(server, 'errs', 'numbers', id, n, Buffer.from('x'));
    t.equal(res.status, 400, `partNumber=${n}: 400`);
    t.equal(errorCode(res), 'InvalidArgument', `partNumber=${n}: InvalidArgument`);
  }
  t.equal((await putPart(server, 'errs', 'numbers', id, 1, Buffer.from('first'))).status, 200);
  t.equal((await putPart(server, 'errs', 'numbers', id, 10000, Buffer.from('last'))).status, 200);
  const list = await s3(server, 'GET', `${objectPath('errs', 'numbers')}?uploadId=${id}`);
  t.same(
    [...list.text.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1]),
    ['1', '10000'],
  );
  const copy = await s3(server, 'PUT', partPath('errs', 'numbers', id, 0), { headers: { 'x-amz-copy-source': '/errs/whatever' } });
  t.equal(errorCode(copy), 'InvalidArgument', 'UploadPartCopy checks the part number too');
});

t.test('NoSuchUpload: unknown id, aborted id, completed id, the id of another key', async (t) => {
  const unknown = '0f0e0d0c-0b0a-4909-8807-060504030201';
  const garbage = '../../../etc/passwd';
  const aborted = await createUpload(server, 'errs', 'gone');
  t.equal((await s3(server, 'DELETE', `${objectPath('errs', 'gone')}?uploadId=${aborted}`)).status, 204);
  const done = await createUpload(server, 'errs', 'done');
  const etag = await uploadPart(server, 'errs', 'done', done, 1, Buffer.from('done'));
  t.equal((await complete(server, 'errs', 'done', done, [{ partNumber: 1, etag }])).status, 200);
  const other = await createUpload(server, 'errs', 'owner-key');

  const cases: [string, string, string][] = [
    ['unknown id', 'gone', unknown],
    ['not an id at all', 'gone', garbage],
    ['aborted id', 'gone', aborted],
    ['id of another key', 'not-owner-key', other],
  ];
  for (const [what, key, id] of cases) {
    const q = `?uploadId=${encodeURIComponent(id)}`;
    const part = await s3(server, 'PUT', partPath('errs', key, id, 1), { body: 'x' });
    t.equal(errorCode(part), 'NoSuchUpload', `UploadPart, ${what}`);
    t.equal(part.status, 404);
    t.equal(errorCode(await s3(server, 'GET', `${objectPath('errs', key)}${q}`)), 'NoSuchUpload', `ListParts, ${what}`);
    t.equal(errorCode(await complete(server, 'errs', key, id, [{ partNumber: 1 }])), 'NoSuchUpload', `Complete, ${what}`);
    t.equal(errorCode(await s3(server, 'DELETE', `${objectPath('errs', key)}${q}`)), 'NoSuchUpload', `Abort, ${what}`);
  }
  t.equal(errorCode(await s3(server, 'PUT', partPath('errs', 'done', done, 2), { body: 'late' })), 'NoSuchUpload', 'UploadPart after complete');
  t.equal(errorCode(await s3(server, 'DELETE', `${objectPath('errs', 'done')}?uploadId=${done}`)), 'NoSuchUpload', 'Abort after complete');
  const copy = await s3(server, 'PUT', partPath('errs', 'gone', aborted, 1), { headers: { 'x-amz-copy-source': '/errs/done' } });
  t.equal(errorCode(copy), 'NoSuchUpload', 'UploadPartCopy, aborted id');
  t.equal(errorCode(await s3(server, 'POST', `${objectPath('nobucket', 'k')}?uploads`)), 'NoSuchBucket', 'Create in a missing bucket');
  // The other key's upload is untouched by all this.
  t.equal((await s3(server, 'GET', `${objectPath('errs', 'owner-key')}?uploadId=${other}`)).status, 200);
});

t.test('CompleteMultipartUpload refuses bad part lists and the upload survives each refusal', async (t) => {
  const key = 'checked.bin';
  const id = await createUpload(server, 'errs', key);
  const small = Buffer.from('a part well under 5 MiB');
  const e1 = await uploadPart(server, 'errs', key, id, 1, FIVE);
  const e2 = await uploadPart(server, 'errs', key, id, 2, small);
  const e3 = await uploadPart(server, 'errs', key, id, 3, FIVE);
  const e4 = await uploadPart(server, 'errs', key, id, 4, small);
  t.equal(e1, FIVE_MD5);

  const refusals: [string, Parameters<typeof complete>[4], string][] = [
    ['a part never uploaded', [{ partNumber: 1, etag: e1 }, { partNumber: 5, etag: e1 }], 'InvalidPart'],
    ['a wrong ETag', [{ partNumber: 1, etag: e1 }, { partNumber: 3, etag: 'ffffffffffffffffffffffffffffffff' }], 'InvalidPart'],
    ['the ETag of another part', [{ partNumber: 1, etag: e3.replace(/^./, (c) => (c === '0' ? '1' : '0')) }], 'InvalidPart'],
    ['descending numbers', [{ partNumber: 3, etag: e3 }, { partNumber: 1, etag: e1 }], 'InvalidPartOrder'],
    ['a repeated number', [{ partNumber: 1, etag: e1 }, { partNumber: 1, etag: e1 }], 'InvalidPartOrder'],
    ['a small part that is not last', [{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: e2 }, { partNumber: 3, etag: e3 }], 'EntityTooSmall'],
    ['garbage', 'this is not xml <<<', 'MalformedXML'],
    ['an empty body', '', 'MalformedXML'],
    ['a body of white space', '  \n ', 'MalformedXML'],
    ['an empty part list', '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CompleteMultipartUpload>', 'MalformedXML'],
    ['the wrong root', `<Delete><Part><PartNumber>1</PartNumber><ETag>"${e1}"</ETag></Part></Delete>`, 'MalformedXML'],
    ['a part number that is no number', `<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>"${e1}"</ETag></Part></CompleteMultipartUpload>`, 'MalformedXML'],
    ['part number 0', `<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>"${e1}"</ETag></Part></CompleteMultipartUpload>`, 'MalformedXML'],
    ['unclosed', `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>`, 'MalformedXML'],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "1">]><CompleteMultipartUpload><Part><PartNumber>&e;</PartNumber></Part></CompleteMultipartUpload>`, 'MalformedXML'],
  ];
  for (const [what, body, code] of refusals) {
    const res = await complete(server, 'errs', key, id, body);
    t.equal(s3Code(res), code, `${what}: ${code}`);
    t.equal(res.status, 400, `${what}: 400`);
  }
  const tooSmall = await complete(server, 'errs', key, id, [{ partNumber: 2, etag: e2 }, { partNumber: 3, etag: e3 }]);
  t.equal(xmlValue(tooSmall.text, 'PartNumber'), '2', 'EntityTooSmall names the part');
  const invalid = await complete(server, 'errs', key, id, [{ partNumber: 7, etag: e1 }]);
  t.equal(xmlValue(invalid.text, 'PartNumber'), '7', 'InvalidPart names the part');
  t.equal(errorCode(await s3(server, 'HEAD', objectPath('errs', key))), undefined);
  t.equal((await s3(server, 'HEAD', objectPath('errs', key))).status, 404, 'no object after the refusals');

  // Still in progress: it lists, and completes with a valid subset (parts 1, 3 and the small 4).
  t.equal((await s3(server, 'GET', `${objectPath('errs', key)}?uploadId=${id}`)).status, 200);
  const ok = await complete(server, 'errs', key, id, [{ partNumber: 1, etag: e1 }, { partNumber: 3, etag: e3 }, { partNumber: 4, etag: e4 }]);
  t.equal(ok.status, 200, ok.text);
  t.equal(xmlValue(ok.text, 'ETag'), `&quot;${multipartETag([e1, e3, e4])}&quot;`, 'the ETag counts only the parts completed');
  const got = await s3(server, 'GET', objectPath('errs', key));
  t.equal(got.body.length, 10 * MiB + small.length, 'parts left out of the list are not in the object');
  t.equal(md5(got.body), md5(Buffer.concat([FIVE, FIVE, small])));

  // A single part under 5 MiB is fine: it is the last.
  const single = await createUpload(server, 'errs', 'single');
  const se = await uploadPart(server, 'errs', 'single', single, 3, small);
  const res = await complete(server, 'errs', 'single', single, [{ partNumber: 3, etag: se }]);
  t.equal(res.status, 200);
  t.equal((await s3(server, 'GET', objectPath('errs', 'single'))).text, small.toString());
});

t.test('ETags are matched with or without quotes; parts can be completed by number only', async (t) => {
  const id = await createUpload(server, 'errs', 'quotes');
  const e1 = await uploadPart(server, 'errs', 'quotes', id, 1, FIVE);
  const e2 = await uploadPart(server, 'errs', 'quotes', id, 2, Buffer.from('tail'));
  const xml = `<CompleteMultipartUpload><Part><ETag>${e1}</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>&quot;${e2}&quot;</ETag></Part></CompleteMultipartUpload>`;
  const res = await complete(server, 'errs', 'quotes', id, xml);
  t.equal(res.status, 200, res.text);
  t.equal(xmlValue(res.text, 'ETag'), `&quot;${multipartETag([e1, e2])}&quot;`);
  // Alluxio's documented form: part numbers without ETags.
  const bare = await createUpload(server, 'errs', 'bare');
  await uploadPart(server, 'errs', 'bare', bare, 1, Buffer.from('alluxio'));
  t.equal((await complete(server, 'errs', 'bare', bare, [{ partNumber: 1 }])).status, 200);
});

t.test('re-uploading a part number replaces it', async (t) => {
  const id = await createUpload(server, 'errs', 'replace');
  const first = Buffer.from('first version of part one');
  const second = Buffer.from('second, longer version of part one');
  const e1 = await uploadPart(server, 'errs', 'replace', id, 1, first);
  const e2 = await uploadPart(server, 'errs', 'replace', id, 1, second);
  t.not(e1, e2);
  const list = await s3(server, 'GET', `${objectPath('errs', 'replace')}?uploadId=${id}`);
  t.equal([...list.text.matchAll(/<Part>/g)].length, 1, 'one part listed');
  t.equal(xmlValue(list.text, 'ETag'), `&quot;${e2}&quot;`);
  t.equal(xmlValue(list.text, 'Size'), String(second.length));
  t.equal(s3Code(await complete(server, 'errs', 'replace', id, [{ partNumber: 1, etag: e1 }])), 'InvalidPart', 'the old ETag is gone');
  t.equal((await complete(server, 'errs', 'replace', id, [{ partNumber: 1, etag: e2 }])).status, 200);
  t.equal((await s3(server, 'GET', objectPath('errs', 'replace'))).text, second.toString());
});

t.test('UploadPartCopy: range errors, missing source, copy-source conditions', async (t) => {
  const source = patternBytes(1000, 3);
  const put = await putObject(server, 'errs', 'copy-src', source);
  const sourceETag = String(put.headers.etag);
  const id = await createUpload(server, 'errs', 'copied');
  const copy = (n: number, headers: Record<string, string>) => s3(server, 'PUT', partPath('errs', 'copied', id, n), { headers: { 'x-amz-copy-source': '/errs/copy-src', ...headers } });
  t.equal(errorCode(await copy(1, { 'x-amz-copy-source-range': 'bytes=0-1000' })), 'InvalidRange', 'a range past the end');
  t.equal(errorCode(await copy(1, { 'x-amz-copy-source-range': 'bytes=10-5' })), 'InvalidArgument', 'a reversed range');
  t.equal(errorCode(await copy(1, { 'x-amz-copy-source-range': 'bytes=5-' })), 'InvalidArgument', 'an open range');
  t.equal(errorCode(await copy(1, { 'x-amz-copy-source': '/errs/no-such-source' })), 'NoSuchKey');
  t.equal(errorCode(await copy(1, { 'x-amz-copy-source-if-match': '"0123"' })), 'PreconditionFailed');
  t.equal(errorCode(await copy(1, { 'x-amz-copy-source-if-none-match': sourceETag })), 'PreconditionFailed');
  const ok = await copy(1, { 'x-amz-copy-source-if-match': sourceETag, 'x-amz-copy-source-range': 'bytes=100-199' });
  t.equal(ok.status, 200, ok.text);
  t.equal(xmlValue(ok.text, 'ETag'), `&quot;${md5(source.subarray(100, 200))}&quot;`);
  const whole = await copy(2, {});
  t.equal(xmlValue(whole.text, 'ETag'), `&quot;${md5(source)}&quot;`, 'no range: the whole object');
  const list = await s3(server, 'GET', `${objectPath('errs', 'copied')}?uploadId=${id}`);
  t.same(
    [...list.text.matchAll(/<Size>(\d+)<\/Size>/g)].map((m) => m[1]),
    ['100', '1000'],
    'only the successful copies became parts',
  );
});

t.test('GetObject/HeadObject partNumber: ranges of a multipart object, errors out of range', async (t) => {
  const id = await createUpload(server, 'errs', 'parted');
  const tail = Buffer.from('tail part');
  const e1 = await uploadPart(server, 'errs', 'parted', id, 1, FIVE);
  const e2 = await uploadPart(server, 'errs', 'parted', id, 2, tail);
  t.equal((await complete(server, 'errs', 'parted', id, [{ partNumber: 1, etag: e1 }, { partNumber: 2, etag: e2 }])).status, 200);
  const p2 = await s3(server, 'GET', `${objectPath('errs', 'parted')}?partNumber=2`);
  t.equal(p2.status, 206);
  t.equal(p2.text, tail.toString());
  t.equal(p2.headers['x-amz-mp-parts-count'], '2');
  t.equal(p2.headers['content-range'], `bytes ${5 * MiB}-${5 * MiB + tail.length - 1}/${5 * MiB + tail.length}`);
  const h1 = await s3(server, 'HEAD', `${objectPath('errs', 'parted')}?partNumber=1`);
  t.equal(h1.headers['content-length'], String(5 * MiB));
  t.equal(h1.headers.etag, `"${multipartETag([e1, e2])}"`, 'the ETag is the whole object\'s');
  const p3 = await s3(server, 'GET', `${objectPath('errs', 'parted')}?partNumber=3`);
  t.equal(p3.status, 416);
  t.equal(errorCode(p3), 'InvalidPartNumber');
  t.equal(errorCode(await s3(server, 'GET', `${objectPath('errs', 'parted')}?partNumber=0`)), 'InvalidArgument');
});

t.test('part checksums: recorded, listed, and checked by CompleteMultipartUpload', async (t) => {
  const crc = (data: Buffer): string => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(data) >>> 0);
    return out.toString('base64');
  };
  const id = await createUpload(server, 'errs', 'summed', { 'x-amz-checksum-algorithm': 'CRC32' });
  const tail = Buffer.from('checksummed tail');
  const p1 = await s3(server, 'PUT', partPath('errs', 'summed', id, 1), { body: FIVE, headers: { 'x-amz-checksum-crc32': crc(FIVE) } });
  t.equal(p1.status, 200);
  t.equal(p1.headers['x-amz-checksum-crc32'], crc(FIVE), 'the part\'s checksum is echoed');
  const bad = await s3(server, 'PUT', partPath('errs', 'summed', id, 2), { body: tail, headers: { 'x-amz-checksum-crc32': crc(FIVE) } });
  t.equal(errorCode(bad), 'BadDigest', 'a part whose checksum does not match is refused');
  const p2 = await s3(server, 'PUT', partPath('errs', 'summed', id, 2), { body: tail, headers: { 'x-amz-checksum-crc32': crc(tail) } });
  t.equal(p2.status, 200);
  const list = await s3(server, 'GET', `${objectPath('errs', 'summed')}?uploadId=${id}`);
  t.same(xmlValues(list.text, 'ChecksumCRC32'), [crc(FIVE), crc(tail)], 'ListParts shows each part\'s checksum');
  t.equal(xmlValue(list.text, 'ChecksumAlgorithm'), 'CRC32');
  const withSums = (first: string) =>
    `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${FIVE_MD5}"</ETag><ChecksumCRC32>${first}</ChecksumCRC32></Part>` +
    `<Part><PartNumber>2</PartNumber><ETag>"${md5(tail)}"</ETag><ChecksumCRC32>${crc(tail)}</ChecksumCRC32></Part></CompleteMultipartUpload>`;
  t.equal(s3Code(await complete(server, 'errs', 'summed', id, withSums(crc(tail)))), 'InvalidPart', 'a checksum that is not the part\'s: InvalidPart');
  const ok = await complete(server, 'errs', 'summed', id, withSums(crc(FIVE)));
  t.equal(ok.status, 200, ok.text);
  t.equal(xmlValue(ok.text, 'ETag'), `&quot;${multipartETag([FIVE_MD5, md5(tail)])}&quot;`);
});

// AWS refuses the pair rather than serve one of the two ranges.
t.test('GetObject with both partNumber and Range is InvalidRequest', async (t) => {
  const id = await createUpload(server, 'errs', 'part-and-range');
  const e1 = await uploadPart(server, 'errs', 'part-and-range', id, 1, Buffer.from('only part'));
  t.equal((await complete(server, 'errs', 'part-and-range', id, [{ partNumber: 1, etag: e1 }])).status, 200);
  const res = await s3(server, 'GET', `${objectPath('errs', 'part-and-range')}?partNumber=1`, { headers: { Range: 'bytes=0-1' } });
  t.equal(res.status, 400);
  t.equal(errorCode(res), 'InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
});
