// A pass-through that hashes what flows (MD5 for the ETag, plus optional S3 checksums) and
// counts the bytes, failing the pipeline when there are more or fewer than announced. Small
// bodies are hashed on the event loop; bigger ones (or of unknown length) in a hash worker.
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors';
import { STAGE_BYTES } from './buffer-sizes';
import { DigestSet, type ChecksumAlgorithm, type Digests } from './checksums';
import { hashPool, type OffloadedHash } from './hash-pool';

/** Bodies up to this size are hashed in place: handing them to a worker would cost more than hashing. */
const INLINE_LIMIT = 128 * 1024;

export interface DigestOptions {
  /** Bytes the body must have; fewer is IncompleteBody, more is an error as soon as it shows. */
  expectedLength?: number;
  /** Checksums to compute besides the MD5 (x-amz-checksum-*, the SigV4 payload SHA-256). */
  checksums?: ChecksumAlgorithm[];
}

export class DigestStream extends Transform {
  private readonly algorithms: ChecksumAlgorithm[];
  private readonly inline: DigestSet | undefined;
  /** Started with the first byte: a body never read holds no job. */
  private offloaded: OffloadedHash | undefined;
  private readonly expectedLength: number | undefined;
  private digests: Digests | undefined;
  bytes = 0;

  constructor(options: DigestOptions = {}) {
    super({ highWaterMark: STAGE_BYTES });
    this.expectedLength = options.expectedLength;
    this.algorithms = options.checksums ?? [];
    if (this.expectedLength !== undefined && this.expectedLength <= INLINE_LIMIT) this.inline = new DigestSet(this.algorithms);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedLength !== undefined && this.bytes > this.expectedLength) {
      callback(new S3Error('InvalidRequest', `The body is longer than the ${this.expectedLength} bytes announced.`));
      return;
    }
    if (this.inline) {
      this.inline.update(chunk);
      callback(null, chunk);
      return;
    }
    // The bytes go on downstream at once; only the next chunk waits for a busy worker.
    this.push(chunk);
    this.offloaded ??= hashPool.start(this.algorithms);
    const wait = this.offloaded.update(chunk);
    if (wait) wait.then(() => callback(), callback);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedLength !== undefined && this.bytes < this.expectedLength) {
      callback(new S3Error('IncompleteBody', `The body has ${this.bytes} bytes; ${this.expectedLength} were announced.`));
      return;
    }
    if (!this.offloaded) {
      this.digests = (this.inline ?? new DigestSet(this.algorithms)).digests();
      callback();
      return;
    }
    this.offloaded.finish().then((digests) => {
      this.digests = digests;
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.offloaded?.abandon();
    callback(error);
  }

  /** The MD5 of every byte that passed; valid once the stream ended. */
  md5Digest(): Buffer {
    if (!this.digests) throw new Error('The digest is read before the body ended.');
    return this.digests.md5;
  }

  checksumDigest(algorithm: ChecksumAlgorithm): Buffer | undefined {
    if (!this.digests) throw new Error('The digest is read before the body ended.');
    return this.digests.checksums.get(algorithm);
  }
}
