// Single objects: PutObject, GetObject, HeadObject, DeleteObject (conditional too).
import { S3Error, invalidArgument, invalidPartNumber } from '../errors';
import { headerValue } from '../http/headers';
import { sendEmpty, setSafeHeader } from '../http/respond';
import { isFolderKey, type ObjectInfo } from '../namespace';
import { newAcl, newPermissions } from './acls';
import { receiveBody } from './body';
import { checksumHeaders, objectChecksumOf } from './checksum-nodes';
import type { RequestContext } from './context';
import {
  checkConditions,
  deleteConditionOf,
  parseContentHeaders,
  parseRange,
  parseUserMetadata,
  readConditions,
  setObjectHeaders,
  writeCondition,
} from './headers';
import { MAX_PARTS, isPartNumber } from './query';
import { parseTaggingHeader } from './tagging';
import { bucketOf, keyOf } from './target';

const RESPONSE_OVERRIDES: [string, string][] = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

export async function putObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { config, namespace } = ctx.services;
  const headers = parseContentHeaders(ctx.req.headers);
  const userMeta = parseUserMetadata(ctx.req.headers, config.metadataMaxSize);
  const tags = parseTaggingHeader(headerValue(ctx.req.headers, 'x-amz-tagging'), config.taggingRestrictions);
  const condition = writeCondition(ctx.req.headers, key);
  const acl = newAcl(ctx);
  const body = receiveBody(ctx); // before any await: a client that hangs up is heard from here on
  const permissions = await newPermissions(ctx, acl, ctx.user, bucket);

  // A folder object (`dir/`) without bytes is a directory; one with bytes is written like any object.
  if (isFolderKey(key) && body.expectedLength === 0) {
    await namespace.buckets.require(bucket);
    // Read to its end (it announced none): a body that sends bytes anyway fails its length check.
    for await (const _chunk of body.source as AsyncIterable<Buffer>) continue;
    body.verify();
    const info = await namespace.objects.createFolder(bucket, key, ctx.user, tags, permissions);
    sendEmpty(ctx.res, 200, { ETag: `"${info.etag}"` });
    return;
  }

  const info = await namespace.objects.write(
    bucket,
    key,
    { source: body.source, size: body.expectedLength },
    ctx.user,
    () => {
      const verified = body.verify();
      return {
        etag: verified.md5.toString('hex'),
        headers,
        userMeta,
        tags,
        owner: ctx.user,
        permissions,
        ...(verified.checksum ? { checksum: { ...verified.checksum, type: 'FULL_OBJECT' as const } } : {}),
      };
    },
    condition,
  );
  sendEmpty(ctx.res, 200, { ETag: `"${info.etag}"`, ...checksumHeaders(info.checksum) });
}

/** The byte range of part N of a multipart object (S3's GetObject?partNumber). */
function partRange(info: ObjectInfo, partText: string): { start: number; end: number } {
  if (!isPartNumber(partText)) {
    throw invalidArgument(`Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`, 'partNumber', partText);
  }
  const part = Number(partText);
  const sizes = info.partSizes ?? [info.size];
  if (part > sizes.length) throw invalidPartNumber(partText, sizes.length);
  const start = sizes.slice(0, part - 1).reduce((a, b) => a + b, 0);
  return { start, end: start + sizes[part - 1]! - 1 };
}

async function readObject(ctx: RequestContext, withBody: boolean): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { info, body } = await ctx.services.namespace.objects.open(bucket, key);
  try {
    checkConditions(readConditions(ctx.req.headers), info);
    const { res } = ctx;
    const partNumber = ctx.target.query.get('partNumber');
    const rangeHeader = headerValue(ctx.req.headers, 'range');
    if (partNumber !== null && rangeHeader !== undefined) {
      throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter.');
    }
    const range = partNumber !== null ? partRange(info, partNumber) : parseRange(rangeHeader, info.size);
    setObjectHeaders(res, info, partNumber !== null, ctx.services.namespace.tiers !== undefined);
    for (const [param, name] of RESPONSE_OVERRIDES) {
      const value = ctx.target.query.get(param);
      if (value !== null) setSafeHeader(res, name, value);
    }
    // The whole object's checksum, with its type; a range (or a part) has none of its own.
    const wantsChecksum = headerValue(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
    if (wantsChecksum && !range) {
      for (const [name, value] of Object.entries(checksumHeaders(objectChecksumOf(info)))) res.setHeader(name, value);
    }
    const length = range ? range.end - range.start + 1 : info.size;
    if (range) {
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
    } else {
      res.statusCode = 200;
    }
    res.setHeader('Content-Length', length);
    if (!withBody || !body || length === 0) {
      res.end();
      return;
    }
    await body.sendRange(range?.start ?? 0, length, res);
  } finally {
    await body?.close();
  }
}

export async function getObject(ctx: RequestContext): Promise<void> {
  await readObject(ctx, true);
}

export async function headObject(ctx: RequestContext): Promise<void> {
  await readObject(ctx, false);
}

export async function deleteObject(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.objects.delete(bucketOf(ctx), keyOf(ctx), deleteConditionOf(ctx.req.headers));
  sendEmpty(ctx.res, 204);
}
