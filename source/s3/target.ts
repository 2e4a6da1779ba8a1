// The S3 request target: the bucket and key of a path-style request (under the Alluxio base path
// or at `/`), split at `/` before each part is decoded, then validated.
import { S3Error, noSuchVersion } from '../errors';
import { decodeSegment, splitUrl, type RequestUrl } from '../http/url';
import { parseBucketName, parseObjectKey, type BucketName, type ObjectKey } from '../namespace';
import type { RequestContext } from './context';

export interface RequestTarget extends RequestUrl {
  bucket: string | undefined;
  key: string | undefined;
}

export function parseTarget(url: string, basePath: string): RequestTarget {
  const parts = splitUrl(url);
  let path = parts.rawPath;
  if (basePath !== '' && (path === basePath || path.startsWith(`${basePath}/`))) path = path.slice(basePath.length);
  // `/bucket/key/with/slashes`: the first segment is the bucket, the rest (decoded) the key.
  const body = path.replace(/^\//, '');
  if (body === '') return { ...parts, bucket: undefined, key: undefined };
  const slash = body.indexOf('/');
  const bucket = decodeSegment(slash >= 0 ? body.slice(0, slash) : body);
  const rawKey = slash >= 0 ? body.slice(slash + 1) : '';
  return { ...parts, bucket, key: rawKey === '' ? undefined : decodeSegment(rawKey) };
}

export function bucketOf(ctx: RequestContext): BucketName {
  const bucket = ctx.target.bucket;
  if (bucket === undefined) throw new S3Error('InvalidBucketName');
  return parseBucketName(bucket);
}

export function keyOf(ctx: RequestContext): ObjectKey {
  const key = ctx.target.key;
  if (key === undefined) throw new S3Error('InvalidArgument', 'An object key is required.');
  const parsed = parseObjectKey(key);
  // Objects have one version, "null". Any other versionId names a version that does not exist:
  // serving or deleting the current object in its place would be a silent wrong answer.
  const versionId = ctx.target.query.get('versionId');
  if (versionId !== null && versionId !== 'null') throw noSuchVersion(key, versionId);
  return parsed;
}
