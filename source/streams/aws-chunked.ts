// Decodes `Content-Encoding: aws-chunked` bodies: signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
// and unsigned chunks with a checksum trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER). Only the
// payload flows on; chunk signatures and trailers are kept for whoever verifies them.
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors';
import { STAGE_BYTES } from './buffer-sizes';

const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;

type State = 'header' | 'data' | 'data-end' | 'trailer' | 'done';

export interface ChunkInfo {
  size: number;
  signature: string | undefined;
}

export class AwsChunkedDecoder extends Transform {
  private state: State = 'header';
  private line = '';
  private remaining = 0;
  private crlfSeen = 0;
  private trailerBytes = 0;
  /** Trailer headers (lower-case names), e.g. x-amz-checksum-crc32. */
  readonly trailers = new Map<string, string>();
  /** Every chunk's size and signature, in order, for SigV4 chunk verification. */
  readonly chunks: ChunkInfo[] = [];
  /** Called with each chunk's header and payload slices as they pass (for signature checks). */
  onChunkData: ((data: Buffer) => void) | undefined;
  onChunkEnd: ((chunk: ChunkInfo) => void) | undefined;

  constructor() {
    super({ highWaterMark: STAGE_BYTES });
  }

  private fail(message: string): S3Error {
    return new S3Error('InvalidRequest', `Malformed aws-chunked body: ${message}.`);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let offset = 0;
      while (offset < chunk.length) {
        switch (this.state) {
          case 'header':
          case 'trailer': {
            const newline = chunk.indexOf(0x0a, offset);
            const end = newline === -1 ? chunk.length : newline + 1;
            // Bounds are checked before the bytes are copied into the line, not after.
            if (this.state === 'trailer') {
              this.trailerBytes += end - offset;
              if (this.trailerBytes > MAX_TRAILER_BYTES) throw this.fail('trailer too long');
            } else if (this.line.length + (end - offset) > MAX_LINE) {
              throw this.fail('chunk header too long');
            }
            this.line += chunk.toString('latin1', offset, end);
            offset = end;
            if (newline === -1) break;
            const text = this.line.replace(/\r?\n$/, '');
            this.line = '';
            if (this.state === 'header') this.startChunk(text);
            else this.trailerLine(text);
            break;
          }
          case 'data': {
            const take = Math.min(this.remaining, chunk.length - offset);
            const slice = chunk.subarray(offset, offset + take);
            this.onChunkData?.(slice);
            this.push(slice);
            this.remaining -= take;
            offset += take;
            if (this.remaining === 0) this.state = 'data-end';
            break;
          }
          case 'data-end': {
            const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
            if (chunk[offset] !== expected) throw this.fail('chunk data is not followed by CRLF');
            offset++;
            if (++this.crlfSeen === 2) {
              this.crlfSeen = 0;
              this.onChunkEnd?.(this.chunks[this.chunks.length - 1]!);
              this.state = 'header';
            }
            break;
          }
          case 'done': {
            // Only line ends may follow the final empty line.
            for (; offset < chunk.length; offset++) {
              if (chunk[offset] !== 0x0d && chunk[offset] !== 0x0a) throw this.fail('data after the final chunk');
            }
            break;
          }
        }
      }
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  private startChunk(text: string): void {
    const [sizeText, ...extensions] = text.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText!.trim())) throw this.fail(`bad chunk size "${sizeText!.slice(0, 32)}"`);
    const size = parseInt(sizeText!.trim(), 16);
    if (!Number.isSafeInteger(size)) throw this.fail('chunk size too large');
    let signature: string | undefined;
    for (const extension of extensions) {
      const [name, value] = extension.split('=');
      if (name?.trim() === 'chunk-signature') signature = value?.trim();
    }
    const info = { size, signature };
    this.chunks.push(info);
    if (size === 0) {
      this.onChunkEnd?.(info);
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  private trailerLine(text: string): void {
    if (text === '') {
      this.state = 'done';
      return;
    }
    const colon = text.indexOf(':');
    if (colon <= 0) throw this.fail('bad trailer line');
    this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
  }

  override _flush(callback: TransformCallback): void {
    // Some SDKs end the body right after the trailers, without the final empty line.
    if (this.state === 'done' || (this.state === 'trailer' && this.line === '')) callback();
    else callback(new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.'));
  }
}
