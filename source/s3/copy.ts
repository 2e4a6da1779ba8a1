// CopyObject: x-amz-copy-source with its conditions and the metadata and tagging directives.
// The bytes stream from one file to a new temp file renamed into place, a copy onto itself too:
// it is a new version, with a new LastModified, as in S3.
import { S3Error, invalidArgument } from '../errors';
import { headerValue } from '../http/headers';
import { sendXml } from '../http/respond';
import { attributesOf, isFolderKey, type ObjectAttributes, type ObjectChecksum, type ObjectInfo } from '../namespace';
import { newAcl, newPermissions } from './acls';
import { checksumAlgorithmNamed } from './body';
import { checksumNodes, objectChecksumOf } from './checksum-nodes';
import type { RequestContext } from './context';
import { openCopySource, parseCopySource } from './copy-source';
import { checkConditions, parseContentHeaders, parseUserMetadata, readConditions } from './headers';
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
  const algorithmName = headerValue(headers, 'x-amz-checksum-algorithm');
  const algorithm = algorithmName === undefined ? undefined : checksumAlgorithmNamed(algorithmName);
  await namespace.buckets.require(bucket);
  // The copy is a new object: it gets the ACL the request names or the defaults, not the source's (as in S3).
  const permissions = await newPermissions(ctx, newAcl(ctx), ctx.user, bucket);

  const source = await openCopySource(namespace, sourceName);
  const { info } = source;
  try {
    checkConditions(readConditions(headers, 'x-amz-copy-source-'), info, true);
    const sameObject =
      namespace.buckets.directoryOf(sourceName.bucket) + '/' + sourceName.key === namespace.buckets.directoryOf(bucket) + '/' + key;
    if (sameObject && metadataDirective === 'COPY' && taggingDirective === 'COPY') {
      throw new S3Error(
        'InvalidRequest',
        'This copy request is illegal because it is trying to copy an object to itself without changing the ' +
          "object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }

    if (isFolderKey(key) && info.size === 0) {
      const folder = await namespace.objects.createFolder(bucket, key, ctx.user, requestTags ?? info.tags, permissions);
      sendCopyResult(ctx, folder);
      return;
    }
    const { bytes, done } = source.read(0, info.size, algorithm);
    // A copy onto itself keeps its owner; any other belongs to the caller.
    const owner = sameObject ? info.owner : ctx.user;
    const written = await namespace.objects.write(bucket, key, { source: bytes, size: info.size }, owner, async () => {
      await done;
      // The copy is one new part-less object: a composite checksum (of parts) does not describe it, a
      // full-object one still does; a named algorithm gives it a new one.
      const { partSizes: _parts, checksum: _checksum, partChecksums: _partChecksums, ...rest } = attributesOf(info);
      const carried = objectChecksumOf(info);
      const checksum: ObjectChecksum | undefined = algorithm
        ? { algorithm, value: bytes.checksumDigest(algorithm)!.toString('base64'), type: 'FULL_OBJECT' }
        : carried?.type === 'FULL_OBJECT'
          ? carried
          : undefined;
      const attributes: ObjectAttributes = {
        ...rest,
        etag: bytes.md5Digest().toString('hex'),
        headers: requestHeaders ?? info.headers,
        userMeta: requestMeta ?? info.userMeta,
        tags: requestTags ?? info.tags,
        owner,
        permissions,
      };
      return checksum ? { ...attributes, checksum } : attributes;
    });
    sendCopyResult(ctx, written);
  } finally {
    await source.close();
  }
}

function sendCopyResult(ctx: RequestContext, copy: ObjectInfo): void {
  sendXml(ctx.res, 200, 'CopyObjectResult', [
    ['LastModified', copy.lastModified.toISOString()],
    ['ETag', `"${copy.etag}"`],
    ...checksumNodes(copy.checksum),
  ]);
}
