// CompleteMultipartUpload: validate the part list, claim the upload, stream the parts into a temp
// file renamed into place, under the request's If-Match / If-None-Match. While it runs, whitespace
// keeps the client's connection alive (after a 200 header, as S3 does); an error found after that
// arrives as an Error document in the body.
import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { S3Error, entityTooSmall, invalidPart, isS3Error, preconditionFailed, toS3Error } from '../errors';
import { headerValue } from '../http/headers';
import { child, childrenNamed } from '../http/request-xml';
import { errorDocument, sendXml } from '../http/respond';
import { XML_DECLARATION, xmlDocument, type XmlNode } from '../http/xml';
import {
  partsContent,
  type BucketName,
  type ClaimedUpload,
  type CompletedUpload,
  type ObjectKey,
  type PartInfo,
  type WriteCondition,
} from '../namespace';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../streams/checksums';
import { readXmlBody } from './body';
import { checksumNodes } from './checksum-nodes';
import { assembledChecksum, type NamedPart } from './complete-checksum';
import type { RequestContext } from './context';
import { writeCondition } from './headers';
import { uploadIdOf } from './multipart';
import { isPartNumber } from './query';
import { bucketOf, keyOf } from './target';

/** S3's smallest part, except the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_COMPLETE_XML = 4 * 1024 * 1024;

/** A part the request names; its Checksum<ALG> elements are those SDKs that upload with checksums send. */
interface RequestedPart extends NamedPart {
  etag: string | undefined;
}

/** Sends the 200 header and then a space every interval, once the complete outlasts one interval. */
class KeepAlive {
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly res: ServerResponse,
    intervalMs: number,
  ) {
    this.timer = setInterval(
      () => {
        // Every tick sends a byte of whitespace; the first one comes after the 200 header and the
        // XML declaration, which must open the document.
        if (!res.headersSent) {
          res.writeHead(200, { 'Content-Type': 'application/xml' });
          res.write(`${XML_DECLARATION} `);
        } else {
          res.write(' ');
        }
      },
      Math.max(10, intervalMs),
    );
  }
  get streaming(): boolean {
    return this.res.headersSent;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function readPartList(ctx: RequestContext): Promise<RequestedPart[]> {
  // An empty body names no part: MalformedXML, as S3 answers. The request's x-amz-checksum-* are
  // the object's, checked once it is assembled.
  const etagRequired = ctx.services.config.compat === 's3';
  const root = await readXmlBody(ctx, MAX_COMPLETE_XML, { emptyIs: 'MalformedXML', checksumHeadersNameObject: true });
  if (root.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML');
  const parts = childrenNamed(root, 'Part').map((part) => {
    const numberText = child(part, 'PartNumber')?.text.trim() ?? '';
    if (!isPartNumber(numberText)) throw new S3Error('MalformedXML');
    const partNumber = Number(numberText);
    // Alluxio's documented example completes parts named by number only; S3 requires their ETags.
    if (etagRequired && !child(part, 'ETag')) throw new S3Error('MalformedXML');
    const etag = child(part, 'ETag')
      ?.text.trim()
      .replace(/^"(.*)"$/, '$1')
      .replace(/^&quot;(.*)&quot;$/, '$1');
    const checksums = new Map<ChecksumAlgorithm, string>();
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = child(part, `Checksum${algorithm.toUpperCase()}`)?.text.trim();
      if (value !== undefined) checksums.set(algorithm, value);
    }
    return { partNumber, etag, checksums };
  });
  if (parts.length === 0) {
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema: it lists no part.',
    );
  }
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder');
  }
  return parts;
}

/** The parts to assemble, checked against what was uploaded. */
function choose(requested: RequestedPart[], uploaded: PartInfo[]): PartInfo[] {
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  const chosen = requested.map(({ partNumber, etag, checksums }) => {
    const part = byNumber.get(partNumber);
    // A checksum the client names for a part must be the one the part was stored with, as S3 checks.
    const named = part?.checksum ? checksums.get(part.checksum.algorithm) : undefined;
    if (!part || (etag !== undefined && etag !== part.etag) || (named !== undefined && named !== part.checksum?.value)) {
      throw invalidPart(partNumber, etag);
    }
    return part;
  });
  chosen.slice(0, -1).forEach((part) => {
    if (part.size < MIN_PART_SIZE) throw entityTooSmall(part.partNumber, part.size, MIN_PART_SIZE);
  });
  return chosen;
}

/** The multipart ETag: MD5 of the parts' binary MD5s, then `-N`. */
export function multipartETag(parts: PartInfo[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(Buffer.from(part.etag, 'hex'));
  return `${hash.digest('hex')}-${parts.length}`;
}

/** Answers with the result; once keep-alive whitespace went out, the rest of the document follows it. */
function sendResult(res: ServerResponse, result: CompletedUpload, streaming = false): void {
  const nodes: XmlNode[] = [
    ['Location', `/${result.bucket}/${result.key}`],
    ['Bucket', result.bucket],
    ['Key', result.key],
    ['ETag', `"${result.etag}"`],
    ...checksumNodes(result.checksum),
  ];
  if (streaming) res.end(xmlDocument('CompleteMultipartUploadResult', nodes).slice(XML_DECLARATION.length));
  else sendXml(res, 200, 'CompleteMultipartUploadResult', nodes);
}

export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const found = await ctx.services.namespace.uploads.locate(uploadId, bucket, key);
  if (found.state === 'done') {
    // Completed before: the same answer again, as S3 gives.
    await ctx.services.namespace.buckets.require(bucket);
    return sendResult(ctx.res, found.result);
  }
  const requested = await readPartList(ctx);
  // Checked now, so that a refusal is a 412 rather than an error after the keep-alive's 200; and
  // again when the object is put in place, which is what decides.
  const condition = writeCondition(ctx.req.headers, key);
  await precheck(ctx, bucket, key, condition);

  // From here on the client hears from us at least every interval, whatever we wait for.
  const keepAlive = new KeepAlive(ctx.res, ctx.services.config.multipart.keepAliveIntervalMs);
  try {
    const result = await completeOnce(ctx, uploadId, bucket, key, requested, condition);
    keepAlive.stop();
    sendResult(ctx.res, result, keepAlive.streaming);
  } catch (e) {
    keepAlive.stop();
    if (!keepAlive.streaming) throw e;
    // The 200 is out: the failure goes in the body, as S3 does.
    const error = toS3Error(e);
    ctx.res.end(errorDocument(error, ctx.target.rawPath, ctx.requestId).slice(XML_DECLARATION.length));
  }
}

/** Throws what the conditions say of the object there now. */
async function precheck(ctx: RequestContext, bucket: BucketName, key: ObjectKey, condition: WriteCondition): Promise<void> {
  if (!condition.createOnly && !condition.check) return;
  const current = await ctx.services.namespace.objects.head(bucket, key).catch((e: unknown) => {
    if (isS3Error(e, 'NoSuchKey')) return undefined;
    throw e;
  });
  if (current && condition.createOnly) throw preconditionFailed('If-None-Match');
  condition.check?.(current);
}

/**
 * Claims the upload and assembles it; or, while another request or process holds it, waits for
 * its result. If that one gives the upload back (its complete failed), this one tries in turn.
 */
async function completeOnce(
  ctx: RequestContext,
  uploadId: string,
  bucket: BucketName,
  key: ObjectKey,
  requested: RequestedPart[],
  condition: WriteCondition,
): Promise<CompletedUpload> {
  const uploads = ctx.services.namespace.uploads;
  for (;;) {
    const claim = await uploads.claim(uploadId, bucket, key);
    if (claim) return assemble(ctx, claim, { bucket, key, requested, condition });
    const found = await uploads.locate(uploadId, bucket, key); // NoSuchUpload once aborted
    if (found.state === 'done') return found.result;
    if (ctx.res.destroyed) throw new S3Error('RequestTimeout');
    if (found.state === 'claimed') await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the complete request asks: the object, its parts, and the conditions of its writing. */
interface Completion {
  bucket: BucketName;
  key: ObjectKey;
  requested: RequestedPart[];
  condition: WriteCondition;
}

async function assemble(ctx: RequestContext, claim: ClaimedUpload, completion: Completion): Promise<CompletedUpload> {
  const { bucket, key, requested, condition } = completion;
  const { config, namespace } = ctx.services;
  // The claimed folder must look alive to every cleaner (ours and other processes') while we
  // assemble, however long that takes and whatever the keep-alive interval.
  const touching = setInterval(() => void claim.touch(), Math.max(50, Math.min(config.multipart.timeoutMs / 4, 60_000)));
  let release: (() => void) | undefined;
  try {
    const record = claim.record;
    let parts: PartInfo[];
    let checksum: ReturnType<typeof assembledChecksum>;
    let size: number;
    try {
      parts = choose(requested, claim.parts);
      size = parts.reduce((sum, p) => sum + p.size, 0);
      const declared = headerValue(ctx.req.headers, 'x-amz-mp-object-size')?.trim();
      if (declared !== undefined && declared !== String(size)) {
        throw new S3Error('InvalidRequest', `The x-amz-mp-object-size ${declared} is not the size of the parts, ${size}.`);
      }
      checksum = assembledChecksum(record, requested, parts, ctx.req.headers);
      release = await namespace.uploads.assemblies.acquire();
    } catch (e) {
      await claim.release();
      throw e;
    }
    const etag = multipartETag(parts);
    try {
      const content = { source: partsContent(parts), size };
      const attributes = {
        etag,
        headers: record.headers,
        userMeta: record.userMeta,
        tags: record.tags,
        owner: record.owner,
        ...(record.permissions ? { permissions: record.permissions } : {}),
        partSizes: parts.map((p) => p.size),
        ...checksum,
      };
      await namespace.objects.write(bucket, key, content, record.owner, () => attributes, condition);
    } catch (e) {
      await claim.release().catch(() => undefined); // nothing was written: the client may retry
      throw e;
    }
    const result: CompletedUpload = { bucket, key, etag, ...(checksum ? { checksum: checksum.checksum } : {}) };
    await claim.finish(result);
    return result;
  } finally {
    clearInterval(touching);
    release?.();
  }
}
