// CopyObject: x-amz-copy-source with its conditions and the metadata and tagging directives.
// The bytes stream from one file to a new temp file; a copy onto itself with REPLACE only
// rewrites the metadata.
import { S3Error, invalidArgument } from '../errors';
import { headerValue } from '../http/headers';
import { sendXml } from '../http/respond';
import { attributesOf, isFolderKey, type ObjectAttributes } from '../namespace';
import { newAcl, newPermissions } from './acls';
import type { RequestContext } from './context';
import { openCopySource, parseCopySource } from './copy-source';
import { checkConditions, parseContentHeaders, parseUserMetadata, readConditions } from './headers';
import { folderHoldsNoData } from './objects';
import { parseTaggingHeader } from './tagging';
import { bucketOf, keyOf } from './target';

function directive(ctx: RequestContext, name: string): 'COPY' | 'REPLACE' {
  const value = (headerValue(ctx.req.headers, name) ?? 'COPY').toUpperCase();
  if (value !== 'COPY' && value !== 'REPLACE') throw invalidArgument(`Unknown ${name} value "${value}".`, name);
  return value;
}

export async function copyObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { config, namespace } = ctx.services;
  const headers = ctx.req.headers;
  const sourceName = parseCopySource(headerValue(headers, 'x-amz-copy-source')!);
  const metadataDirective = directive(ctx, 'x-amz-metadata-directive');
  const taggingDirective = directive(ctx, 'x-amz-tagging-directive');
  // Everything the request names is checked before any byte moves.
  const requestHeaders = metadataDirective === 'REPLACE' ? parseContentHeaders(headers) : undefined;
  const requestMeta = metadataDirective === 'REPLACE' ? parseUserMetadata(headers, config.metadataMaxSize) : undefined;
  const requestTags =
    taggingDirective === 'REPLACE' ? parseTaggingHeader(headerValue(headers, 'x-amz-tagging'), config.taggingRestrictions) : undefined;
  await namespace.buckets.require(bucket);
  // The copy is a new object: it gets the ACL the request names or the defaults, not the source's (as in S3).
  const permissions = await newPermissions(ctx, newAcl(ctx), ctx.user, bucket);

  const source = await openCopySource(namespace, sourceName);
  const { info } = source;
  try {
    checkConditions(readConditions(headers, 'x-amz-copy-source-'), info, true);
    const sameObject =
      namespace.buckets.directoryOf(sourceName.bucket) + '/' + sourceName.key === namespace.buckets.directoryOf(bucket) + '/' + key;
    const attributes = (etag: string): ObjectAttributes => ({
      ...attributesOf(info),
      etag,
      headers: requestHeaders ?? info.headers,
      userMeta: requestMeta ?? info.userMeta,
      tags: requestTags ?? info.tags,
      owner: ctx.user,
      permissions,
    });

    if (sameObject) {
      if (metadataDirective === 'COPY' && taggingDirective === 'COPY') {
        throw new S3Error(
          'InvalidRequest',
          'This copy request is illegal because it is trying to copy an object to itself without changing the ' +
            "object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      const updated = await namespace.objects.updateAttributes(bucket, key, () => ({ ...attributes(info.etag), owner: info.owner }));
      sendCopyResult(ctx, updated.etag, updated.lastModified);
      return;
    }

    if (isFolderKey(key) && info.size > 0) throw folderHoldsNoData(key);
    if (isFolderKey(key)) {
      const folder = await namespace.objects.createFolder(bucket, key, ctx.user, requestTags ?? info.tags, permissions);
      sendCopyResult(ctx, folder.etag, folder.lastModified);
      return;
    }
    const { bytes, done } = source.read();
    const written = await namespace.objects.write(bucket, key, { source: bytes, size: info.size }, ctx.user, async () => {
      await done;
      // The copy is one new part-less object: its checksum, if the source had one, is not carried.
      const { partSizes: _parts, checksum: _checksum, ...rest } = attributes(bytes.md5Digest().toString('hex'));
      return rest;
    });
    sendCopyResult(ctx, written.etag, written.lastModified);
  } finally {
    await source.close();
  }
}

function sendCopyResult(ctx: RequestContext, etag: string, lastModified: Date): void {
  sendXml(ctx.res, 200, 'CopyObjectResult', [
    ['LastModified', lastModified.toISOString()],
    ['ETag', `"${etag}"`],
  ]);
}
