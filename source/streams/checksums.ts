// The digests of a body: the MD5 for the ETag and the S3 checksums a client may announce,
// updated together (on the event loop for small bodies, in the hash workers for big ones); and
// the checksum of a multipart object, made from its parts' checksums.
import { createHash, type Hash } from 'node:crypto';
import { combineCrc, createCrc, type Checksum, type CrcAlgorithm } from './crc';

/** The checksums S3 clients may announce (x-amz-checksum-*), in S3's lower-case names. */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** The size of each checksum's digest in bytes. */
export const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };

/**
 * How a multipart object's checksum is made: COMPOSITE, the checksum of the parts' checksums
 * (written `<base64>-N`); FULL_OBJECT, the checksum of the whole object (a single PUT's is one).
 */
export const CHECKSUM_TYPES = ['COMPOSITE', 'FULL_OBJECT'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

const isCrc = (algorithm: ChecksumAlgorithm): algorithm is CrcAlgorithm =>
  algorithm === 'crc32' || algorithm === 'crc32c' || algorithm === 'crc64nvme';

/** The types S3 allows a multipart upload of `algorithm`: a CRC64NVME only full-object, a SHA only composite, CRC32(C) either. */
export function checksumTypesOf(algorithm: ChecksumAlgorithm): readonly ChecksumType[] {
  if (algorithm === 'crc64nvme') return ['FULL_OBJECT'];
  return isCrc(algorithm) ? CHECKSUM_TYPES : ['COMPOSITE'];
}

/** The type of a multipart upload that names only its algorithm, as S3 chooses it. */
export function defaultChecksumType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE';
}

/**
 * The checksum of a multipart object from its parts' (base64 digests, in order, and sizes),
 * without reading the parts: a composite is the checksum of the parts' binary digests, then
 * `-N`; a full-object CRC is the parts' CRCs combined by their lengths.
 */
export function multipartChecksum(algorithm: ChecksumAlgorithm, type: ChecksumType, parts: { value: string; size: number }[]): string {
  const digests = parts.map((part) => Buffer.from(part.value, 'base64'));
  if (type === 'COMPOSITE') {
    const checksum = createChecksum(algorithm);
    for (const digest of digests) checksum.update(digest);
    return `${checksum.digest().toString('base64')}-${parts.length}`;
  }
  if (!isCrc(algorithm)) throw new Error(`A full-object ${algorithm} cannot be made from its parts.`);
  let whole = createCrc(algorithm).digest(); // of zero bytes
  parts.forEach((part, i) => (whole = combineCrc(algorithm, whole, digests[i]!, part.size)));
  return whole.toString('base64');
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  if (algorithm === 'sha1' || algorithm === 'sha256') {
    const hash: Hash = createHash(algorithm);
    return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
  }
  return createCrc(algorithm);
}

export interface Digests {
  md5: Buffer;
  checksums: Map<ChecksumAlgorithm, Buffer>;
}

export class DigestSet {
  private readonly md5 = createHash('md5');
  private readonly checksums: [ChecksumAlgorithm, Checksum][];

  constructor(algorithms: readonly ChecksumAlgorithm[]) {
    this.checksums = algorithms.map((algorithm) => [algorithm, createChecksum(algorithm)]);
  }

  update(chunk: Buffer): void {
    this.md5.update(chunk);
    for (const [, checksum] of this.checksums) checksum.update(chunk);
  }

  /** Finalizes every digest; call once. */
  digests(): Digests {
    return { md5: this.md5.digest(), checksums: new Map(this.checksums.map(([algorithm, checksum]) => [algorithm, checksum.digest()])) };
  }
}
