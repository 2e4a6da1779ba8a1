// CopyObject: x-amz-copy-source with its conditions and the metadata and tagging directives.
// The bytes stream from one file to a new temp file; a copy onto itself with REPLACE only
// rewrites the metadata.
import { Readable } from 'node:stream';
import type { RequestContext } from '../http/context';
import { S3Error } from '../http/errors';
import { sendXml } from '../http/respond';
import { attributesOf, isFolderKey, parseBucketName, parseObjectKey, type BucketName, type ObjectAttributes, type ObjectKey } from '../namespace';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
import { DigestStream } from '../streams/digest';
import { pump } from '../streams/pump';
import { checkConditions, headerValue, parseContentHeaders, parseUserMetadata, readConditions } from './headers';
import { parseTaggingHeader } from './tagging';
import { bucketOf, keyOf } from './target';

export interface CopySource {
  bucket: BucketName;
  key: ObjectKey;
}

/** `bucket/key` or `/bucket/key`, URL-encoded, optionally with `?versionId=null`. */
export function parseCopySource(value: string): CopySource {
  let text = value.trim();
  const question = text.indexOf('?');
  if (question >= 0) {
    const params = new URLSearchParams(text.slice(question + 1));
    const version = params.get('versionId');
    if (version !== null && version !== 'null') throw new S3Error('NoSuchVersion');
    text = text.slice(0, question);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: parseBucketName(decoded.slice(0, slash)), key: parseObjectKey(decoded.slice(slash + 1)) };
}

function directive(ctx: RequestContext, name: string): 'COPY' | 'REPLACE' {
  const value = (headerValue(ctx.req.headers, name) ?? 'COPY').toUpperCase();
  if (value !== 'COPY' && value !== 'REPLACE') throw new S3Error('InvalidArgument', `Unknown ${name} value "${value}".`, { ArgumentName: name });
  return value;
}

export async function copyObject(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { config, namespace } = ctx.services;
  const source = parseCopySource(headerValue(ctx.req.headers, 'x-amz-copy-source')!);
  const metadataDirective = directive(ctx, 'x-amz-metadata-directive');
  const taggingDirective = directive(ctx, 'x-amz-tagging-directive');
  // Everything the request names is checked before any byte moves.
  const requestHeaders = metadataDirective === 'REPLACE' ? parseContentHeaders(ctx.req.headers) : undefined;
  const requestMeta = metadataDirective === 'REPLACE' ? parseUserMetadata(ctx.req.headers, config.metadataMaxSize) : undefined;
  const requestTags = taggingDirective === 'REPLACE' ? parseTaggingHeader(headerValue(ctx.req.headers, 'x-amz-tagging'), config.taggingRestrictions) : undefined;
  await namespace.buckets.require(bucket);

  const { info, handle } = await namespace.objects.open(source.bucket, source.key);
  let bytes: Readable | undefined; // once a stream reads the handle, the stream closes it
  let digest: DigestStream | undefined;
  try {
    checkConditions(readConditions(ctx.req.headers, 'x-amz-copy-source-'), info, true);
    const sameObject = namespace.buckets.directoryOf(source.bucket) + '/' + source.key === namespace.buckets.directoryOf(bucket) + '/' + key;
    const attributes = (etag: string): ObjectAttributes => ({
      ...attributesOf(info),
      etag,
      headers: requestHeaders ?? info.headers,
      userMeta: requestMeta ?? info.userMeta,
      tags: requestTags ?? info.tags,
      owner: ctx.user,
    });

    if (sameObject) {
      if (metadataDirective === 'COPY' && taggingDirective === 'COPY') {
        throw new S3Error(
          'InvalidRequest',
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      const updated = await namespace.objects.updateAttributes(bucket, key, () => ({ ...attributes(info.etag), owner: info.owner }));
      sendCopyResult(ctx, updated.etag, updated.lastModified);
      return;
    }

    if (isFolderKey(key) && info.size > 0) throw new S3Error('InvalidRequest', 'A key ending in "/" names a folder, which cannot hold data.');
    const hashed = new DigestStream({ expectedLength: info.size });
    digest = hashed; // released in `finally` if the copy fails before it is read
    bytes = handle ? handle.createReadStream({ highWaterMark: FILE_IO_BYTES, autoClose: true }) : Readable.from([]);
    const copying = pump(bytes, hashed);
    copying.catch(() => undefined);
    const written = isFolderKey(key)
      ? await namespace.objects.createFolder(bucket, key, ctx.user, requestTags ?? info.tags)
      : await namespace.objects.write(bucket, key, hashed, ctx.user, async () => {
          await copying;
          const { partSizes: _parts, checksum: _checksum, ...rest } = attributes(hashed.md5Digest().toString('hex'));
          return rest;
        });
    sendCopyResult(ctx, written.etag, written.lastModified);
  } finally {
    // No-ops once they ended; a copy that failed early releases the file and the hashing.
    digest?.destroy();
    if (bytes) bytes.destroy();
    else await handle?.close();
  }
}

function sendCopyResult(ctx: RequestContext, etag: string, lastModified: Date): void {
  sendXml(ctx, 200, 'CopyObjectResult', [
    ['LastModified', lastModified.toISOString()],
    ['ETag', `"${etag}"`],
  ]);
}
