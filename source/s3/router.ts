// The router: method + bucket/key + sub-resource → the action that serves it. Sub-resources
// sluice does not serve are refused with NotImplemented, never mistaken for another action.
import { S3Error } from '../errors';
import * as acls from './acls';
import { getObjectAttributes } from './attributes';
import * as buckets from './buckets';
import { completeMultipartUpload } from './complete';
import type { RequestContext } from './context';
import { copyObject } from './copy';
import { deleteObjects } from './delete-objects';
import * as listing from './listing';
import * as multipart from './multipart';
import * as objects from './objects';
import * as tagging from './tagging';
import type { RequestTarget } from './target';

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  action: string;
  handler: Handler;
}

/** S3 sub-resources that name features sluice does not have. */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate', 'analytics', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention',
  'select', 'session', 'torrent', 'website', 'renameObject',
];

const route = (action: string, handler: Handler): Route => ({ action, handler });

function notImplemented(what: string): never {
  throw new S3Error('NotImplemented', `${what} is not implemented by sluice.`);
}

function serviceRoute(method: string): Route {
  if (method === 'GET') return route('ListBuckets', buckets.listBuckets);
  throw new S3Error('MethodNotAllowed');
}

function bucketRoute(method: string, query: URLSearchParams): Route {
  const has = (name: string): boolean => query.has(name);
  switch (method) {
    case 'GET':
      if (has('tagging')) return route('GetBucketTagging', tagging.getBucketTagging);
      if (has('location')) return route('GetBucketLocation', buckets.getBucketLocation);
      if (has('versioning')) return route('GetBucketVersioning', buckets.getBucketVersioning);
      if (has('acl')) return route('GetBucketAcl', acls.getBucketAcl);
      if (has('versions')) return route('ListObjectVersions', listing.listObjectVersions);
      if (has('uploads')) return route('ListMultipartUploads', multipart.listMultipartUploads);
      if (query.get('list-type') === '2') return route('ListObjectsV2', listing.listObjectsV2);
      return route('ListObjects', listing.listObjects);
    case 'HEAD':
      return route('HeadBucket', buckets.headBucket);
    case 'PUT':
      if (has('tagging')) return route('PutBucketTagging', tagging.putBucketTagging);
      if (has('acl')) return route('PutBucketAcl', acls.putBucketAcl);
      if (has('versioning')) return notImplemented('PutBucketVersioning');
      return route('CreateBucket', buckets.createBucket);
    case 'DELETE':
      if (has('tagging')) return route('DeleteBucketTagging', tagging.deleteBucketTagging);
      return route('DeleteBucket', buckets.deleteBucket);
    case 'POST':
      if (has('delete')) return route('DeleteObjects', deleteObjects);
      break;
  }
  throw new S3Error('MethodNotAllowed');
}

function objectRoute(method: string, query: URLSearchParams, isCopy: boolean): Route {
  const has = (name: string): boolean => query.has(name);
  switch (method) {
    case 'GET':
      if (has('tagging')) return route('GetObjectTagging', tagging.getObjectTagging);
      if (has('acl')) return route('GetObjectAcl', acls.getObjectAcl);
      if (has('uploadId')) return route('ListParts', multipart.listParts);
      if (has('attributes')) return route('GetObjectAttributes', getObjectAttributes);
      return route('GetObject', objects.getObject);
    case 'HEAD':
      return route('HeadObject', objects.headObject);
    case 'PUT':
      if (has('tagging')) return route('PutObjectTagging', tagging.putObjectTagging);
      if (has('acl')) return route('PutObjectAcl', acls.putObjectAcl);
      if (has('uploadId') || has('partNumber')) {
        return isCopy ? route('UploadPartCopy', multipart.uploadPartCopy) : route('UploadPart', multipart.uploadPart);
      }
      if (isCopy) return route('CopyObject', copyObject);
      return route('PutObject', objects.putObject);
    case 'DELETE':
      if (has('tagging')) return route('DeleteObjectTagging', tagging.deleteObjectTagging);
      if (has('uploadId')) return route('AbortMultipartUpload', multipart.abortMultipartUpload);
      return route('DeleteObject', objects.deleteObject);
    case 'POST':
      if (has('uploads')) return route('CreateMultipartUpload', multipart.createMultipartUpload);
      if (has('uploadId')) return route('CompleteMultipartUpload', completeMultipartUpload);
      break;
  }
  throw new S3Error('MethodNotAllowed');
}

export function resolveRoute(method: string, target: RequestTarget, isCopy: boolean): Route {
  for (const name of UNSUPPORTED_SUBRESOURCES) {
    if (target.query.has(name)) notImplemented(`The "${name}" sub-resource`);
  }
  if (target.bucket === undefined) return serviceRoute(method);
  if (target.key === undefined) return bucketRoute(method, target.query);
  return objectRoute(method, target.query, isCopy);
}
