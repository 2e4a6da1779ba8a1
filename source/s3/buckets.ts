// Buckets: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and the
// read-only versioning status tools ask for. (Their ACLs are in acls.ts.)
import { S3Error, invalidArgument, isS3Error } from '../errors';
import { child, parseXml } from '../http/request-xml';
import { sendEmpty, sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { newAcl, newPermissions } from './acls';
import { readSmallBody } from './body';
import type { RequestContext } from './context';
import { makeToken, readToken } from './listing';
import { userNodes } from './owners';
import { bucketOf } from './target';

/** max-buckets: 1 to 10000 (larger is 10000); absent, every bucket. */
function maxBucketsOf(ctx: RequestContext): number | undefined {
  const text = ctx.target.query.get('max-buckets');
  if (text === null) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw invalidArgument('max-buckets must be an integer from 1 to 10000', 'max-buckets', text);
  }
  return Math.min(Number(text), 10_000);
}

/**
 * ListBuckets: the caller's buckets in name order, paged by max-buckets and continuation-token,
 * filtered by prefix and bucket-region (every bucket is in --region). As S3 does, a request that
 * names any of these gets each bucket's BucketRegion, the Prefix it asked for, and the
 * ContinuationToken of the next page while there is one.
 */
export async function listBuckets(ctx: RequestContext): Promise<void> {
  const { query } = ctx.target;
  const region = ctx.services.config.region;
  const prefix = query.get('prefix');
  const bucketRegion = query.get('bucket-region');
  const token = query.get('continuation-token');
  const maxBuckets = maxBucketsOf(ctx);
  const after = token === null ? undefined : readToken(ctx, token);
  const all = (await ctx.services.namespace.buckets.list(ctx.user)).filter(
    (b) => b.name.startsWith(prefix ?? '') && (bucketRegion === null || bucketRegion === region) && (after === undefined || b.name > after),
  );
  const page = maxBuckets === undefined ? all : all.slice(0, maxBuckets);
  const paged = prefix !== null || bucketRegion !== null || token !== null || maxBuckets !== undefined;
  sendXml(ctx.res, 200, 'ListAllMyBucketsResult', [
    ['Owner', userNodes(ctx.user)],
    [
      'Buckets',
      page.map((b) => [
        'Bucket',
        [
          ['Name', b.name],
          ['CreationDate', b.created.toISOString()],
          ...(paged ? ([['BucketRegion', region]] as XmlNode[]) : []),
        ],
      ]),
    ],
    ...(page.length < all.length ? ([['ContinuationToken', makeToken(ctx, page[page.length - 1]!.name)]] as XmlNode[]) : []),
    ...(prefix !== null ? ([['Prefix', prefix]] as XmlNode[]) : []),
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
  try {
    await ctx.services.namespace.buckets.create(bucket, ctx.user, await newPermissions(ctx, acl, ctx.user));
  } catch (e) {
    // S3's legacy rule: in us-east-1, creating a bucket you already own succeeds (and leaves it as
    // it is); every other region answers BucketAlreadyOwnedByYou.
    if (!isS3Error(e, 'BucketAlreadyOwnedByYou') || ctx.services.config.region !== 'us-east-1') throw e;
  }
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
