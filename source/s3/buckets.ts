// Buckets: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and the
// read-only answers tools ask for (versioning status, ACLs).
import type { RequestContext } from '../http/context';
import { S3Error } from '../http/errors';
import { child, parseXml, readBoundedBody } from '../http/request-xml';
import { sendEmpty, sendXml } from '../http/respond';
import { S3_NS, escapeXml, type XmlNode } from '../http/xml';
import { bucketOf, keyOf } from './target';

function owner(user: string): XmlNode[] {
  return [
    ['ID', user],
    ['DisplayName', user],
  ];
}

export async function listBuckets(ctx: RequestContext): Promise<void> {
  const buckets = await ctx.services.namespace.buckets.list(ctx.user);
  sendXml(ctx, 200, 'ListAllMyBucketsResult', [
    ['Owner', owner(ctx.user)],
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
  // An optional CreateBucketConfiguration names a region; any is accepted, as there is one tree.
  const body = await readBoundedBody(ctx.req, 64 * 1024);
  if (body.trim() !== '') {
    const root = parseXml(body);
    if (root.name !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML');
    child(root, 'LocationConstraint');
  }
  await ctx.services.namespace.buckets.create(bucket, ctx.user);
  sendEmpty(ctx, 200, { Location: `/${bucket}` });
}

export async function headBucket(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.require(bucketOf(ctx));
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': ctx.services.config.region });
}

export async function deleteBucket(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.delete(bucketOf(ctx));
  sendEmpty(ctx, 204);
}

export async function getBucketLocation(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.require(bucketOf(ctx));
  const region = ctx.services.config.region;
  // us-east-1 is the empty constraint, as S3 answers.
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}">${region === 'us-east-1' ? '' : escapeXml(region)}</LocationConstraint>`;
  ctx.res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  ctx.res.end(body);
}

export async function getBucketVersioning(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.require(bucketOf(ctx));
  sendXml(ctx, 200, 'VersioningConfiguration', []);
}

function sendAcl(ctx: RequestContext, user: string): void {
  sendXml(ctx, 200, 'AccessControlPolicy', [
    ['Owner', owner(user)],
    [
      'AccessControlList',
      [
        [
          'Grant',
          [
            ['Grantee', owner(user)],
            ['Permission', 'FULL_CONTROL'],
          ],
        ],
      ],
    ],
  ]);
}

export async function getBucketAcl(ctx: RequestContext): Promise<void> {
  const info = await ctx.services.namespace.buckets.info(bucketOf(ctx));
  sendAcl(ctx, info.owner);
}

export async function getObjectAcl(ctx: RequestContext): Promise<void> {
  const info = await ctx.services.namespace.objects.head(bucketOf(ctx), keyOf(ctx));
  sendAcl(ctx, info.owner);
}
