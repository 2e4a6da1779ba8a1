// The validated bucket and key of a request.
import type { RequestContext } from '../http/context';
import { S3Error } from '../http/errors';
import { parseBucketName, parseObjectKey, type BucketName, type ObjectKey } from '../namespace';

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
  if (versionId !== null && versionId !== 'null') throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
  return parsed;
}
