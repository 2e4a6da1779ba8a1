// Receiving a request body: aws-chunked decoding, byte counting and every digest a client can
// announce (Content-MD5, x-amz-checksum-*, a trailer checksum, x-amz-content-sha256), verified
// once the last byte is in.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { ChunkSignatureVerifier } from '../auth/chunk-signatures';
import { S3Error } from '../errors';
import { headerValue } from '../http/headers';
import { parseXml, type XmlElement } from '../http/request-xml';
import { AwsChunkedDecoder } from '../streams/aws-chunked';
import { STAGE_BYTES } from '../streams/buffer-sizes';
import { CHECKSUM_ALGORITHMS, CHECKSUM_BYTES, type ChecksumAlgorithm } from '../streams/checksums';
import { collectBounded } from '../streams/collect';
import { DigestStream } from '../streams/digest';
import { pump } from '../streams/pump';
import type { RequestContext } from './context';

/** What receiving a body needs of a request (a RequestContext is one). */
export type BodySource = Pick<RequestContext, 'req' | 'res' | 'identity' | 'sendContinue'> & {
  services: { config: { bodyTimeoutMs: number } };
};

export interface VerifiedBody {
  md5: Buffer;
  size: number;
  /** The checksum the client announced (verified), to record and echo. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface IncomingBody {
  /** The decoded payload, to be piped to its destination. */
  source: Readable;
  /** Its length, as announced (Content-Length, or the decoded length of an aws-chunked body). */
  expectedLength: number | undefined;
  /** Call after `source` ended: checks lengths and digests, throws the S3 error on a mismatch. */
  verify(): VerifiedBody;
}

function decodeBase64Digest(value: string, bytes: number, what: string): Buffer {
  const digest = Buffer.from(value, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || digest.length !== bytes) {
    throw new S3Error('InvalidDigest', `The ${what} you specified is not valid.`);
  }
  return digest;
}

export interface BodyOptions {
  /**
   * A checksum to compute whether or not the client announced it (a multipart upload's algorithm,
   * for its parts); a body that announces another one is InvalidRequest.
   */
  checksum?: ChecksumAlgorithm | undefined;
  /** x-amz-checksum-* headers describe an object, not this body (CompleteMultipartUpload's). */
  checksumHeadersNameObject?: boolean;
}

interface AnnouncedChecksum {
  algorithm: ChecksumAlgorithm;
  value?: string;
  inTrailer: boolean;
}

/** The checksum to verify and record: the one the client announced (and its value if sent as a header), or the required one. */
function announcedChecksum(ctx: BodySource, options: BodyOptions): AnnouncedChecksum | undefined {
  const announced = options.checksumHeadersNameObject ? undefined : clientChecksum(ctx);
  const required = options.checksum;
  if (required === undefined) return announced;
  if (announced && announced.algorithm !== required) {
    throw new S3Error(
      'InvalidRequest',
      `Checksum Type mismatch occurred, expected checksum Type: ${required}, actual checksum Type: ${announced.algorithm}`,
    );
  }
  return announced ?? { algorithm: required, inTrailer: false };
}

function clientChecksum(ctx: BodySource): AnnouncedChecksum | undefined {
  const inHeaders = CHECKSUM_ALGORITHMS.filter((a) => headerValue(ctx.req.headers, `x-amz-checksum-${a}`) !== undefined);
  if (inHeaders.length > 1)
    throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum types are not allowed.');
  if (inHeaders.length === 1)
    return { algorithm: inHeaders[0]!, value: headerValue(ctx.req.headers, `x-amz-checksum-${inHeaders[0]!}`)!, inTrailer: false };
  const trailer = headerValue(ctx.req.headers, 'x-amz-trailer')?.trim().toLowerCase();
  if (trailer) {
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => trailer === `x-amz-checksum-${a}`);
    if (!algorithm) throw new S3Error('InvalidRequest', `The trailer "${trailer}" is not supported.`);
    return { algorithm, inTrailer: true };
  }
  const declared = headerValue(ctx.req.headers, 'x-amz-sdk-checksum-algorithm') ?? headerValue(ctx.req.headers, 'x-amz-checksum-algorithm');
  if (declared) return { algorithm: checksumAlgorithmNamed(declared), inTrailer: false };
  return undefined;
}

/** A checksum algorithm as a header names it (`CRC32`, `sha256`, ...); InvalidRequest for others. */
export function checksumAlgorithmNamed(text: string): ChecksumAlgorithm {
  const name = text.trim().toLowerCase();
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => a === name);
  if (!algorithm) throw new S3Error('InvalidRequest', `Checksum algorithm "${text}" is not supported.`);
  return algorithm;
}

/**
 * Fails the body with RequestTimeout (as S3 does) when the client sends nothing for `timeoutMs`
 * while sluice is ready for more; a body paused by backpressure (a slow disk) is not stalled.
 */
function watchForStall(req: IncomingMessage, inlet: PassThrough, timeoutMs: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (req.complete || inlet.destroyed) return;
    if (req.isPaused() || inlet.writableNeedDrain) {
      timer.refresh();
      return;
    }
    inlet.destroy(new S3Error('RequestTimeout', `The body sent nothing for ${timeoutMs / 1000} s.`));
  }, timeoutMs);
  timer.unref();
  req.on('data', () => timer.refresh());
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

/**
 * Prepares to receive a body. Everything that can be checked from the headers is checked before
 * a byte is read, so a bad request fails without writing anything.
 */
export function receiveBody(ctx: BodySource, options: BodyOptions = {}): IncomingBody {
  const { req } = ctx;
  const contentSha256 = headerValue(ctx.req.headers, 'x-amz-content-sha256');
  // The framing is the payload hash's to say; a Content-Encoding that lists aws-chunked does not
  // make a plain body aws-chunked (boto3 sends ContentEncoding='aws-chunked' as a stored value).
  const chunked = contentSha256?.startsWith('STREAMING-') ?? false;
  const contentLength = headerValue(ctx.req.headers, 'content-length');
  if (contentLength === undefined && headerValue(ctx.req.headers, 'transfer-encoding') === undefined)
    throw new S3Error('MissingContentLength');
  let expectedLength: number | undefined;
  const lengthText = chunked ? headerValue(ctx.req.headers, 'x-amz-decoded-content-length') : contentLength;
  if (lengthText !== undefined) {
    if (!/^\d{1,16}$/.test(lengthText.trim())) throw new S3Error('InvalidArgument', 'The content length is not a valid number.');
    expectedLength = Number(lengthText);
  } else if (chunked) {
    throw new S3Error('MissingContentLength', 'aws-chunked uploads must send x-amz-decoded-content-length.');
  }

  const md5Header = headerValue(ctx.req.headers, 'content-md5');
  const expectedMd5 = md5Header === undefined ? undefined : decodeBase64Digest(md5Header.trim(), 16, 'Content-MD5');
  const checksum = announcedChecksum(ctx, options);
  if (checksum?.value !== undefined)
    decodeBase64Digest(checksum.value.trim(), CHECKSUM_BYTES[checksum.algorithm], `x-amz-checksum-${checksum.algorithm}`);
  let payloadSha256: Buffer | undefined;
  if (contentSha256 !== undefined && /^[0-9a-fA-F]{64}$/.test(contentSha256)) payloadSha256 = Buffer.from(contentSha256, 'hex');

  const algorithms: ChecksumAlgorithm[] = [];
  if (checksum) algorithms.push(checksum.algorithm);
  if (payloadSha256 && checksum?.algorithm !== 'sha256') algorithms.push('sha256');
  const digest = new DigestStream({ ...(expectedLength !== undefined ? { expectedLength } : {}), checksums: algorithms });
  const decoder = chunked ? new AwsChunkedDecoder() : undefined;
  // SigV4: each chunk of a signed stream is verified as it passes, chained from the request's signature.
  const signed = ctx.identity.signature;
  const chunkSigned =
    contentSha256 === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || contentSha256 === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
  const chunkVerifier = decoder && signed && chunkSigned ? new ChunkSignatureVerifier(signed) : undefined;
  if (decoder && chunkVerifier) {
    decoder.onChunkData = (slice) => chunkVerifier.data(slice);
    decoder.onChunkEnd = (chunk) => chunkVerifier.end(chunk);
  }

  // The request is piped, not pipelined: a failure downstream must leave the socket alive so
  // that the error response can still be sent.
  const inlet = new PassThrough({ highWaterMark: STAGE_BYTES });
  ctx.sendContinue(); // everything that could refuse the request on its headers has
  req.pipe(inlet);
  const abort = (): void => {
    if (!req.complete) inlet.destroy(new S3Error('IncompleteBody', 'The client closed the connection before the whole body arrived.'));
  };
  req.once('error', abort);
  req.once('close', abort);
  // Authorization awaits before a handler gets here: a client may have hung up already.
  if (req.destroyed) abort();
  watchForStall(req, inlet, ctx.services.config.bodyTimeoutMs);
  // A failure reaches the consumer through `digest`.
  (decoder ? pump(inlet, decoder, digest) : pump(inlet, digest)).catch(() => undefined);
  // A handler that fails before reading the whole body leaves it unread: release its hashing.
  ctx.res.once('close', () => {
    if (!digest.readableEnded) digest.destroy();
  });

  return {
    source: digest,
    expectedLength,
    verify(): VerifiedBody {
      if (chunkVerifier && contentSha256?.endsWith('-TRAILER')) chunkVerifier.trailer(decoder!.trailers);
      const md5 = digest.md5Digest();
      // A hash can be finalized only once, and x-amz-checksum-sha256 and the SigV4 payload hash
      // share one: read each digest a single time.
      const digests = new Map(algorithms.map((a) => [a, digest.checksumDigest(a)!]));
      if (expectedMd5 && !expectedMd5.equals(md5))
        throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      if (payloadSha256 && !payloadSha256.equals(digests.get('sha256')!)) throw new S3Error('XAmzContentSHA256Mismatch');
      let verified: VerifiedBody['checksum'];
      if (checksum) {
        const actual = digests.get(checksum.algorithm)!.toString('base64');
        const expected = checksum.inTrailer ? decoder?.trailers.get(`x-amz-checksum-${checksum.algorithm}`) : checksum.value;
        if (checksum.inTrailer && expected === undefined) {
          throw new S3Error('InvalidRequest', `The trailer x-amz-checksum-${checksum.algorithm} was announced but not sent.`);
        }
        if (expected !== undefined && expected.trim() !== actual) {
          throw new S3Error('BadDigest', `The ${checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
        }
        verified = { algorithm: checksum.algorithm, value: actual };
      }
      return { md5, size: digest.bytes, ...(verified ? { checksum: verified } : {}) };
    },
  };
}

/**
 * Reads a small body (an XML document) whole, at most `limit` bytes, with every digest verified
 * and under --body-timeout like any body. No Content-Length and no chunked encoding is no body.
 */
export async function readSmallBody(ctx: BodySource, limit: number, options: BodyOptions = {}): Promise<string> {
  const { headers } = ctx.req;
  const tooLarge = (): S3Error => new S3Error('MalformedXML', `The XML body must not exceed ${limit} bytes.`);
  const declared = headerValue(headers, 'content-length');
  if (declared === undefined && headerValue(headers, 'transfer-encoding') === undefined) return '';
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const body = receiveBody(ctx, options);
  const bytes = await collectBounded(body.source, limit, tooLarge);
  body.verify();
  return bytes.toString('utf8');
}

/** Reads and parses a request's XML document; an empty body is MissingRequestBodyError (or `emptyIs`). */
export async function readXmlBody(
  ctx: BodySource,
  limit: number,
  options: BodyOptions & { emptyIs?: 'MalformedXML' } = {},
): Promise<XmlElement> {
  const text = await readSmallBody(ctx, limit, options);
  if (text.trim() === '') throw new S3Error(options.emptyIs ?? 'MissingRequestBodyError');
  return parseXml(text);
}
