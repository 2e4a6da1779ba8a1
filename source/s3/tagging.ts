// Tagging of buckets and objects: GET/PUT/DELETE ?tagging and the x-amz-tagging header.
import { S3Error } from '../errors';
import { child, childrenNamed } from '../http/request-xml';
import { sendEmpty, sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { compareKeys, type Tag } from '../namespace';
import { readXmlBody } from './body';
import type { RequestContext } from './context';
import { bucketOf, keyOf } from './target';

const MAX_TAGGING_XML = 64 * 1024;

/** S3's tag rules; the count and length limits can be switched off (Alluxio's property). */
export function validateTags(tags: Tag[], restricted: boolean): Tag[] {
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(key);
    if (key === '') throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if (!restricted) continue;
    if ([...key].length > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is too long, max 128');
    if ([...value].length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is too long, max 256');
  }
  if (restricted && tags.length > 10) throw new S3Error('InvalidTag', 'Object tags cannot be greater than 10');
  return tags;
}

/** The x-amz-tagging header: a URL-encoded query string `k1=v1&k2=v2`. */
export function parseTaggingHeader(value: string | undefined, restricted: boolean): Tag[] {
  if (value === undefined || value === '') return [];
  const tags: Tag[] = [];
  for (const pair of value.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        throw new S3Error('InvalidArgument', 'The x-amz-tagging header is not a valid URL-encoded query string.');
      }
    };
    tags.push({ key: decode(eq >= 0 ? pair.slice(0, eq) : pair), value: eq >= 0 ? decode(pair.slice(eq + 1)) : '' });
  }
  return validateTags(tags, restricted);
}

async function readTagging(ctx: RequestContext): Promise<Tag[]> {
  const root = await readXmlBody(ctx, MAX_TAGGING_XML);
  const tagSet = root.name === 'Tagging' ? child(root, 'TagSet') : undefined;
  if (!tagSet) throw new S3Error('MalformedXML');
  const tags = childrenNamed(tagSet, 'Tag').map((tag) => {
    const key = child(tag, 'Key');
    const value = child(tag, 'Value');
    if (!key) throw new S3Error('MalformedXML');
    return { key: key.text, value: value?.text ?? '' };
  });
  return validateTags(tags, ctx.services.config.taggingRestrictions);
}

/** The tag set, in key order (UTF-8 byte order), as S3 answers it whatever order the tags were set in. */
function sendTagging(ctx: RequestContext, tags: Tag[]): void {
  const sorted = [...tags].sort((a, b) => compareKeys(a.key, b.key));
  const set: XmlNode[] = sorted.map(({ key, value }) => ['Tag', [['Key', key], ['Value', value]]]);
  sendXml(ctx.res, 200, 'Tagging', [['TagSet', set]]);
}

export async function getBucketTagging(ctx: RequestContext): Promise<void> {
  const info = await ctx.services.namespace.buckets.info(bucketOf(ctx));
  // S3 answers NoSuchTagSet; Alluxio (and its documented transcripts) an empty TagSet.
  if (info.tags.length === 0 && ctx.services.config.compat === 's3') {
    throw S3Error.detailed('NoSuchTagSet', undefined, { BucketName: info.name });
  }
  sendTagging(ctx, info.tags);
}

export async function putBucketTagging(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  await ctx.services.namespace.buckets.require(bucket);
  await ctx.services.namespace.buckets.setTags(bucket, await readTagging(ctx));
  sendEmpty(ctx.res, 204);
}

export async function deleteBucketTagging(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.buckets.setTags(bucketOf(ctx), []);
  sendEmpty(ctx.res, 204);
}

export async function getObjectTagging(ctx: RequestContext): Promise<void> {
  const info = await ctx.services.namespace.objects.head(bucketOf(ctx), keyOf(ctx));
  sendTagging(ctx, info.tags);
}

export async function putObjectTagging(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  await ctx.services.namespace.objects.head(bucket, key);
  const tags = await readTagging(ctx);
  await ctx.services.namespace.objects.updateAttributes(bucket, key, (current) => ({ ...current, tags }));
  sendEmpty(ctx.res, 200);
}

export async function deleteObjectTagging(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.objects.updateAttributes(bucketOf(ctx), keyOf(ctx), (current) => ({ ...current, tags: [] }));
  sendEmpty(ctx.res, 204);
}
