// A pass-through that hashes what flows (MD5 for the ETag, plus an optional S3 checksum) and
// counts the bytes, failing the pipeline when there are more or fewer than announced.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../http/errors';
import type { ChecksumAlgorithm } from '../namespace/metadata';
import { createCrc, type Checksum } from './crc';

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  if (algorithm === 'sha1' || algorithm === 'sha256') {
    const hash: Hash = createHash(algorithm);
    return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
  }
  return createCrc(algorithm);
}

export interface DigestOptions {
  /** Bytes the body must have; fewer is IncompleteBody, more is an error as soon as it shows. */
  expectedLength?: number;
  /** Checksums to compute besides the MD5 (x-amz-checksum-*, the SigV4 payload SHA-256). */
  checksums?: ChecksumAlgorithm[];
}

export class DigestStream extends Transform {
  private readonly md5 = createHash('md5');
  private readonly checksums: Map<ChecksumAlgorithm, Checksum>;
  private readonly expectedLength: number | undefined;
  bytes = 0;

  constructor(options: DigestOptions = {}) {
    super({ highWaterMark: 1 << 20 });
    this.expectedLength = options.expectedLength;
    this.checksums = new Map((options.checksums ?? []).map((algorithm) => [algorithm, createChecksum(algorithm)]));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedLength !== undefined && this.bytes > this.expectedLength) {
      callback(new S3Error('InvalidRequest', `The body is longer than the ${this.expectedLength} bytes announced.`));
      return;
    }
    this.md5.update(chunk);
    for (const checksum of this.checksums.values()) checksum.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedLength !== undefined && this.bytes < this.expectedLength) {
      callback(new S3Error('IncompleteBody', `The body has ${this.bytes} bytes; ${this.expectedLength} were announced.`));
      return;
    }
    callback();
  }

  /** The MD5 of every byte that passed; call once, after the stream ended. */
  md5Digest(): Buffer {
    return this.md5.digest();
  }

  checksumDigest(algorithm: ChecksumAlgorithm): Buffer | undefined {
    return this.checksums.get(algorithm)?.digest();
  }
}
