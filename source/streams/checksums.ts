// The digests of a body: the MD5 for the ETag and the S3 checksums a client may announce,
// updated together. Used on the event loop for small bodies and in the hash workers for big ones.
import { createHash, type Hash } from 'node:crypto';
import { createCrc, type Checksum } from './crc';

/** The checksums S3 clients may announce (x-amz-checksum-*), in S3's lower-case names. */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** The size of each checksum's digest in bytes. */
export const CHECKSUM_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };

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
