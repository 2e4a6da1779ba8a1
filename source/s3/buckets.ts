// Buckets: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and the
// read-only versioning status tools ask for. (Their ACLs are in acls.ts.)
import { S3Error } from '../errors';
import { child, parseXml } from '../http/request-xml';
import { sendEmpty, sendXml } from '../http/respond';
import { newAcl, newPermissions } from './acls';
import { readSmallBody } from './body';
import type { RequestContext } from './context';
import { userNodes } from './owners';
import { bucketOf } from './target';

export async function listBuckets(ctx: RequestContext): Promise<void> {
  const buckets = await ctx.services.namespace.buckets.list(ctx.user);
  sendXml(ctx.res, 200, 'ListAllMyBucketsResult', [
    ['Owner', userNodes(ctx.user)],
    [
      'Buckets',
      buckets.map((b) => [
        'Bucket',
        [
          ['Name', b.name],
          ['CreationDate', b.created.toISOString()],
        ],
      ]),
    ],
  ]);
}

export async function createBucket(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const acl = newAcl(ctx);
  // An optional CreateBucketConfiguration names a region; any is accepted, as there is one tree.
  const body = await readSmallBody(ctx, 64 * 1024);
  if (body.trim() !== '') {
    const root = parseXml(body);
    if (root.name !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML');
    child(root, 'LocationConstraint');
  }
  await ctx.services.namespace.buckets.create(bucket, ctx.user, await newPermissions(ctx, acl, ctx.user));
  sendEmpty(ctx.res, 200, { Location: `/${bucket}` });
}

export async function headBucket(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.require(bucketOf(ctx));
  sendEmpty(ctx.res, 200, { 'x-amz-bucket-region': ctx.services.config.region });
}

export async function deleteBucket(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.deleteBucket(bucketOf(ctx));
  sendEmpty(ctx.res, 204);
}

export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.require(bucketOf(ctx));
  const region = ctx.services.config.region;
  // us-east-1 is the empty constraint, as S3 answers.
  sendXml(ctx.res, 200, 'LocationConstraint', region === 'us-east-1' ? '' : region);
}

export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.require(bucketOf(ctx));
  sendXml(ctx.res, 200, 'VersioningConfiguration', []);
}
