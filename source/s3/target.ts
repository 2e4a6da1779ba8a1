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
  return parseObjectKey(key);
}
