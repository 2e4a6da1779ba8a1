// ACLs: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, and the permissions a new bucket
// or object gets from x-amz-acl (or x-amz-grant-*) on CreateBucket, PutObject, CopyObject and
// CreateMultipartUpload. Who may call them is authorize.ts's business.
import { S3Error } from '../errors';
import { parseXml } from '../http/request-xml';
import { sendEmpty, sendXml } from '../http/respond';
import type { BucketName, Permissions } from '../namespace';
import { grantsFrom, parsePolicy, permissionsOf, policyNodes, requestedAcl, type RequestedAcl } from './acl-policy';
import { readSmallBody } from './body';
import type { RequestContext } from './context';
import { defaultPermissions, effectivePermissions, type Kind } from './permissions';
import { bucketOf, keyOf } from './target';

const MAX_POLICY_XML = 64 * 1024;

/** The ACL a new bucket's or object's request sets (x-amz-acl, x-amz-grant-*), checked before anything is read or written. */
export function newAcl(ctx: RequestContext): RequestedAcl | undefined {
  return requestedAcl(ctx.req.headers);
}

/** What a new bucket (`bucket` undefined) or object of `owner` gets: the ACL its request set, else the defaults. */
export async function newPermissions(
  ctx: RequestContext,
  acl: RequestedAcl | undefined,
  owner: string,
  bucket?: BucketName,
): Promise<Permissions> {
  const kind: Kind = bucket === undefined ? 'bucket' : 'object';
  if (!acl) return defaultPermissions(ctx.services.config, kind);
  return permissionsFrom(ctx, acl, kind, owner, bucket);
}

async function permissionsFrom(
  ctx: RequestContext,
  acl: RequestedAcl,
  kind: Kind,
  owner: string,
  bucket?: BucketName,
): Promise<Permissions> {
  // Only an object's grants can name its bucket's owner (bucket-owner-read, -full-control).
  const bucketOwner = bucket === undefined ? undefined : (await ctx.services.namespace.buckets.info(bucket)).owner;
  return permissionsOf(kind, grantsFrom(acl, kind, owner, bucketOwner));
}

/** The ACL of a PutBucketAcl or PutObjectAcl: headers or a document, not both. */
async function aclToSet(ctx: RequestContext): Promise<RequestedAcl> {
  const fromHeaders = requestedAcl(ctx.req.headers);
  const body = await readSmallBody(ctx, MAX_POLICY_XML);
  if (fromHeaders && body.trim() !== '') throw new S3Error('InvalidRequest', 'An ACL is set by headers or by a document, not both.');
  if (fromHeaders) return fromHeaders;
  if (body.trim() === '') {
    throw new S3Error('MissingRequestBodyError', 'Set an ACL with x-amz-acl, x-amz-grant-* or an AccessControlPolicy document.');
  }
  return parsePolicy(parseXml(body));
}

export async function getBucketAcl(ctx: RequestContext): Promise<void> {
  const info = await ctx.services.namespace.buckets.info(bucketOf(ctx));
  sendXml(ctx.res, 200, 'AccessControlPolicy', policyNodes(info.owner, effectivePermissions(ctx.services.config, 'bucket', info)));
}

export async function putBucketAcl(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const info = await ctx.services.namespace.buckets.info(bucket);
  const permissions = await permissionsFrom(ctx, await aclToSet(ctx), 'bucket', info.owner);
  await ctx.services.namespace.buckets.setPermissions(bucket, permissions);
  sendEmpty(ctx.res, 200);
}

export async function getObjectAcl(ctx: RequestContext): Promise<void> {
  const info = await ctx.services.namespace.objects.head(bucketOf(ctx), keyOf(ctx));
  sendXml(ctx.res, 200, 'AccessControlPolicy', policyNodes(info.owner, effectivePermissions(ctx.services.config, 'object', info)));
}

export async function putObjectAcl(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { objects } = ctx.services.namespace;
  const info = await objects.head(bucket, key); // NoSuchKey before the body is read
  const permissions = await permissionsFrom(ctx, await aclToSet(ctx), 'object', info.owner, bucket);
  await objects.updateAttributes(bucket, key, (current) => ({ ...current, permissions }));
  sendEmpty(ctx.res, 200);
}
