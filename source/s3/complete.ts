// CompleteMultipartUpload: validate the part list, claim the upload, stream the parts into a temp
// file renamed into place. While it runs, whitespace keeps the client's connection alive (after
// a 200 header, as S3 does); an error found after that arrives as an Error document in the body.
import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import type { RequestContext } from '../http/context';
import { S3Error, toS3Error } from '../http/errors';
import { child, childrenNamed, readXmlBody } from '../http/request-xml';
import { errorDocument } from '../http/respond';
import { xmlDocument, type XmlNode } from '../http/xml';
import type { Namespace } from '../namespace';
import type { CompletedUpload, PartInfo } from '../namespace/uploads';
import { MAX_PARTS, uploadIdOf, uploadsOf } from './multipart';
import { bucketOf, keyOf } from './target';

/** S3's smallest part, except the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_COMPLETE_XML = 4 * 1024 * 1024;
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

interface RequestedPart {
  partNumber: number;
  etag: string | undefined;
}

/** Bounds how many completes run at once in this process. */
class Pool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}
  async acquire(): Promise<() => void> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}

const pools = new WeakMap<Namespace, Pool>();

function poolOf(ctx: RequestContext): Pool {
  let pool = pools.get(ctx.services.namespace);
  if (!pool) pools.set(ctx.services.namespace, (pool = new Pool(ctx.services.config.multipart.completePoolSize)));
  return pool;
}

/** Sends the 200 header and then a space every interval, once the complete outlasts one interval. */
class KeepAlive {
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly res: ServerResponse,
    intervalMs: number,
    onTick: () => void,
  ) {
    this.timer = setInterval(() => {
      if (!res.headersSent) {
        res.writeHead(200, { 'Content-Type': 'application/xml' });
        res.write(XML_DECLARATION);
      } else {
        res.write(' ');
      }
      onTick();
    }, Math.max(10, intervalMs));
  }
  get streaming(): boolean {
    return this.res.headersSent;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function readPartList(ctx: RequestContext): Promise<RequestedPart[]> {
  const root = await readXmlBody(ctx.req, MAX_COMPLETE_XML);
  if (root.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML');
  const parts = childrenNamed(root, 'Part').map((part) => {
    const numberText = child(part, 'PartNumber')?.text.trim() ?? '';
    const partNumber = Number(numberText);
    if (!/^\d+$/.test(numberText) || partNumber < 1 || partNumber > MAX_PARTS) throw new S3Error('MalformedXML');
    // Alluxio's documented example completes parts named by number only; S3 clients send ETags.
    const etag = child(part, 'ETag')?.text.trim().replace(/^"(.*)"$/, '$1').replace(/^&quot;(.*)&quot;$/, '$1');
    return { partNumber, etag };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema: it lists no part.');
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder');
  }
  return parts;
}

/** The parts to assemble, checked against what was uploaded. */
function choose(requested: RequestedPart[], uploaded: PartInfo[]): PartInfo[] {
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  const chosen = requested.map(({ partNumber, etag }) => {
    const part = byNumber.get(partNumber);
    if (!part || (etag !== undefined && etag !== part.etag)) {
      throw new S3Error('InvalidPart', undefined, { PartNumber: String(partNumber), ...(etag !== undefined ? { ETag: etag } : {}) });
    }
    return part;
  });
  chosen.slice(0, -1).forEach((part) => {
    if (part.size < MIN_PART_SIZE) {
      throw new S3Error('EntityTooSmall', undefined, { PartNumber: String(part.partNumber), ProposedSize: String(part.size), MinSizeAllowed: String(MIN_PART_SIZE) });
    }
  });
  return chosen;
}

/** The multipart ETag: MD5 of the parts' binary MD5s, then `-N`. */
export function multipartETag(parts: PartInfo[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(Buffer.from(part.etag, 'hex'));
  return `${hash.digest('hex')}-${parts.length}`;
}

async function* concatenate(parts: PartInfo[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    for await (const chunk of createReadStream(part.path, { highWaterMark: 8 << 20 })) yield chunk as Buffer;
  }
}

function resultDocument(result: CompletedUpload): string {
  const children: XmlNode[] = [
    ['Location', `/${result.bucket}/${result.key}`],
    ['Bucket', result.bucket],
    ['Key', result.key],
    ['ETag', `"${result.etag}"`],
  ];
  return xmlDocument('CompleteMultipartUploadResult', children);
}

export async function completeMultipartUpload(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const uploads = uploadsOf(ctx);
  const previous = await uploads.completed(uploadId);
  if (previous && previous.bucket === bucket && previous.key === key) {
    await ctx.services.namespace.buckets.require(bucket);
    return sendDocument(ctx, resultDocument(previous));
  }
  await uploads.get(uploadId, bucket, key).catch(async (e: unknown) => {
    // Completed by someone else a moment ago: the same answer as theirs.
    const done = await uploads.completed(uploadId);
    if (!done || done.bucket !== bucket || done.key !== key) throw e;
  });
  const requested = await readPartList(ctx);

  const release = await poolOf(ctx).acquire();
  let claim: Awaited<ReturnType<typeof uploads.claim>>;
  const keepAlive = new KeepAlive(ctx.res, ctx.services.config.multipart.keepAliveIntervalMs, () => void claim?.touch());
  try {
    claim = await uploads.claim(uploadId, bucket, key);
    let result: CompletedUpload;
    if (!claim) {
      result = await awaitOtherComplete(ctx, uploadId, bucket, key);
    } else {
      let parts: PartInfo[];
      try {
        parts = choose(requested, claim.parts);
      } catch (e) {
        await claim.release();
        throw e;
      }
      const record = claim.record;
      const etag = multipartETag(parts);
      try {
        await ctx.services.namespace.objects.write(bucket, key, Readable.from(concatenate(parts), { objectMode: false }), record.owner, () => ({
          etag,
          headers: record.headers,
          userMeta: record.userMeta,
          tags: record.tags,
          owner: record.owner,
          partSizes: parts.map((p) => p.size),
        }));
      } catch (e) {
        await claim.release().catch(() => undefined); // nothing was written: the client may retry
        throw e;
      }
      result = { bucket, key, etag };
      await claim.finish(result);
    }
    keepAlive.stop();
    sendDocument(ctx, resultDocument(result), keepAlive.streaming);
  } catch (e) {
    keepAlive.stop();
    if (!keepAlive.streaming) throw e;
    // The 200 is out: the failure goes in the body, as S3 does.
    const error = toS3Error(e);
    ctx.res.end(errorDocument(error, ctx.target.rawPath, ctx.requestId).slice(XML_DECLARATION.length));
  } finally {
    release();
  }
}

/** Another process or request holds the upload: wait for its result. */
async function awaitOtherComplete(ctx: RequestContext, uploadId: string, bucket: string, key: string): Promise<CompletedUpload> {
  const uploads = uploadsOf(ctx);
  for (;;) {
    const done = await uploads.completed(uploadId);
    if (done && done.bucket === bucket && done.key === key) return done;
    if (!(await uploads.isClaimed(uploadId))) {
      const again = await uploads.completed(uploadId);
      if (again && again.bucket === bucket && again.key === key) return again;
      throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
    }
    if (ctx.res.destroyed) throw new S3Error('RequestTimeout');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sendDocument(ctx: RequestContext, document: string, streaming = false): void {
  if (streaming) {
    ctx.res.end(document.slice(XML_DECLARATION.length));
    return;
  }
  ctx.res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(document) });
  ctx.res.end(document);
}
