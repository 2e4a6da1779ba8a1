// The checksum of a multipart object from its parts': composite (checksum of the parts' digests,
// then -N) and full-object (the CRC of the whole, combined), against the whole data hashed here.
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import {
  CHECKSUM_ALGORITHMS,
  checksumTypesOf,
  createChecksum,
  defaultChecksumType,
  multipartChecksum,
  type ChecksumAlgorithm,
} from './checksums';

const digestOf = (algorithm: ChecksumAlgorithm, data: Buffer): Buffer => {
  const checksum = createChecksum(algorithm);
  checksum.update(data);
  return checksum.digest();
};
const parts = [randomBytes(1000), randomBytes(0), randomBytes(70_001), randomBytes(3)];
const described = (algorithm: ChecksumAlgorithm): { value: string; size: number }[] =>
  parts.map((p) => ({ value: digestOf(algorithm, p).toString('base64'), size: p.length }));

t.test('composite: the checksum of the binary part checksums, then -N', async (t) => {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const expected = digestOf(algorithm, Buffer.concat(parts.map((p) => digestOf(algorithm, p)))).toString('base64');
    t.equal(multipartChecksum(algorithm, 'COMPOSITE', described(algorithm)), `${expected}-4`, algorithm);
  }
  const sha = createHash('sha256').update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest()))).digest('base64');
  t.equal(multipartChecksum('sha256', 'COMPOSITE', described('sha256')), `${sha}-4`, 'node:crypto agrees');
});

t.test('full object: the CRC of the whole object, from the parts alone', async (t) => {
  for (const algorithm of ['crc32', 'crc32c', 'crc64nvme'] as const) {
    const whole = digestOf(algorithm, Buffer.concat(parts)).toString('base64');
    t.equal(multipartChecksum(algorithm, 'FULL_OBJECT', described(algorithm)), whole, algorithm);
  }
  t.throws(() => multipartChecksum('sha1', 'FULL_OBJECT', described('sha1')), 'a SHA cannot be combined');
});

t.test('which types an algorithm allows, and its default', async (t) => {
  t.same(checksumTypesOf('crc64nvme'), ['FULL_OBJECT']);
  t.same(checksumTypesOf('sha256'), ['COMPOSITE']);
  t.same(checksumTypesOf('crc32c'), ['COMPOSITE', 'FULL_OBJECT']);
  t.equal(defaultChecksumType('crc64nvme'), 'FULL_OBJECT');
  t.equal(defaultChecksumType('crc32'), 'COMPOSITE');
});
