// Verifies the signature of each chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body as it
// streams: chunk n is signed over its data and the signature of chunk n-1, starting from the
// request's own signature. The trailer of a -TRAILER body is signed the same way.
import { createHash, type Hash } from 'node:crypto';
import { S3Error } from '../errors';
import type { ChunkInfo } from '../streams/aws-chunked';
import { EMPTY_SHA256, hmacHex, signaturesEqual, type VerifiedSignature } from './sigv4';

export class ChunkSignatureVerifier {
  private previous: string;
  private hash: Hash = createHash('sha256');

  constructor(private readonly request: VerifiedSignature) {
    this.previous = request.signature;
  }

  /** Feeds payload bytes of the current chunk. */
  data(slice: Buffer): void {
    this.hash.update(slice);
  }

  /** Checks the signature of the chunk that just ended (including the final empty one). */
  end(chunk: ChunkInfo): void {
    const dataHash = chunk.size === 0 ? EMPTY_SHA256 : this.hash.digest('hex');
    this.hash = createHash('sha256');
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', this.request.amzDate, this.request.scope, this.previous, EMPTY_SHA256, dataHash].join('\n');
    const expected = hmacHex(this.request.signingKey, toSign);
    if (chunk.signature === undefined || !signaturesEqual(expected, chunk.signature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature does not match the chunk.');
    }
    this.previous = expected;
  }

  /** Checks x-amz-trailer-signature over the trailer lines (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER). */
  trailer(trailers: Map<string, string>): void {
    const signature = trailers.get('x-amz-trailer-signature');
    const lines = [...trailers]
      .filter(([name]) => name !== 'x-amz-trailer-signature')
      .map(([name, value]) => `${name}:${value}\n`)
      .join('');
    const toSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      this.request.amzDate,
      this.request.scope,
      this.previous,
      createHash('sha256').update(lines).digest('hex'),
    ].join('\n');
    if (signature === undefined || !signaturesEqual(hmacHex(this.request.signingKey, toSign), signature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The trailer signature does not match the trailer.');
    }
  }
}
