// ListObjects, ListObjectsV2 and ListObjectVersions: one page of keys in UTF-8 byte order, with
// delimiter roll-up into CommonPrefixes, read from the tree a page at a time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidArgument } from '../errors';
import { sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { compareKeys, type ObjectInfo, type Page, type PageRequest } from '../namespace';
import type { RequestContext } from './context';
import { userNodes } from './owners';
import { encodingOf, pageSizeOf, queryText } from './query';
import { bucketOf } from './target';

/** One page of the bucket named by the request. */
function collectPage(ctx: RequestContext, request: Omit<PageRequest, 'listDirectories'>): Promise<Page> {
  return ctx.services.namespace.list(bucketOf(ctx), request);
}

function objectNodes(info: ObjectInfo, encode: (t: string) => string, withOwner: boolean): XmlNode[] {
  return [
    ['Key', encode(info.key)],
    ['LastModified', info.lastModified.toISOString()],
    ['ETag', `"${info.etag}"`],
    ['Size', info.size],
    ['StorageClass', 'STANDARD'],
    ...(withOwner ? ([['Owner', userNodes(info.owner)]] as XmlNode[]) : []),
  ];
}

function prefixNodes(page: Page, encode: (t: string) => string): XmlNode[] {
  return page.commonPrefixes.map((p) => ['CommonPrefixes', [['Prefix', encode(p)]]] as XmlNode);
}

export async function listObjects(ctx: RequestContext): Promise<void> {
  const { encode, encoded } = encodingOf(ctx);
  const prefix = queryText(ctx, 'prefix');
  const delimiter = queryText(ctx, 'delimiter');
  const marker = queryText(ctx, 'marker');
  const maxKeys = pageSizeOf(ctx, 'max-keys');
  const page = await collectPage(ctx, { prefix, delimiter, after: marker === '' ? undefined : marker, maxKeys });
  sendXml(ctx.res, 200, 'ListBucketResult', [
    ['Name', bucketOf(ctx)],
    ['Prefix', encode(prefix)],
    ['Marker', encode(marker)],
    ['MaxKeys', maxKeys],
    ...(delimiter !== '' ? ([['Delimiter', encode(delimiter)]] as XmlNode[]) : []),
    ['IsTruncated', page.isTruncated],
    // S3 sends NextMarker only with a delimiter; clients fall back to the last key otherwise.
    ...(page.isTruncated && page.last !== undefined ? ([['NextMarker', encode(page.last)]] as XmlNode[]) : []),
    ...(encoded ? ([['EncodingType', 'url']] as XmlNode[]) : []),
    ...page.objects.map((o) => ['Contents', objectNodes(o, encode, true)] as XmlNode),
    ...prefixNodes(page, encode),
  ]);
}

/** Continuation tokens are opaque to clients and signed, so a forged one is refused. */
export function makeToken(ctx: RequestContext, key: string): string {
  const body = Buffer.from(key, 'utf8');
  const mac = createHmac('sha256', ctx.services.namespace.secret).update(body).digest().subarray(0, 12);
  return Buffer.concat([mac, body]).toString('base64url');
}

export function readToken(ctx: RequestContext, token: string): string {
  const raw = Buffer.from(token, 'base64url');
  if (raw.length > 12 && raw.toString('base64url') === token.replace(/=+$/, '')) {
    const body = raw.subarray(12);
    const mac = createHmac('sha256', ctx.services.namespace.secret).update(body).digest().subarray(0, 12);
    if (timingSafeEqual(mac, raw.subarray(0, 12))) return body.toString('utf8');
  }
  throw invalidArgument('The continuation token provided is incorrect', 'continuation-token');
}

export async function listObjectsV2(ctx: RequestContext): Promise<void> {
  const { encode, encoded } = encodingOf(ctx);
  const prefix = queryText(ctx, 'prefix');
  const delimiter = queryText(ctx, 'delimiter');
  const startAfter = queryText(ctx, 'start-after');
  const token = ctx.target.query.get('continuation-token');
  const maxKeys = pageSizeOf(ctx, 'max-keys');
  const fetchOwner = queryText(ctx, 'fetch-owner').toLowerCase() === 'true';
  let after = startAfter === '' ? undefined : startAfter;
  if (token !== null) {
    const from = readToken(ctx, token);
    if (after === undefined || compareKeys(from, after) > 0) after = from;
  }
  const page = await collectPage(ctx, { prefix, delimiter, after, maxKeys });
  sendXml(ctx.res, 200, 'ListBucketResult', [
    ['Name', bucketOf(ctx)],
    ['Prefix', encode(prefix)],
    ...(startAfter !== '' ? ([['StartAfter', encode(startAfter)]] as XmlNode[]) : []),
    ...(token !== null ? ([['ContinuationToken', token]] as XmlNode[]) : []),
    ...(page.isTruncated && page.last !== undefined ? ([['NextContinuationToken', makeToken(ctx, page.last)]] as XmlNode[]) : []),
    ['KeyCount', page.objects.length + page.commonPrefixes.length],
    ['MaxKeys', maxKeys],
    ...(delimiter !== '' ? ([['Delimiter', encode(delimiter)]] as XmlNode[]) : []),
    ['IsTruncated', page.isTruncated],
    ...(encoded ? ([['EncodingType', 'url']] as XmlNode[]) : []),
    ...page.objects.map((o) => ['Contents', objectNodes(o, encode, fetchOwner)] as XmlNode),
    ...prefixNodes(page, encode),
  ]);
}

/** Versioning is not kept: every object is its one current version, VersionId "null". */
export async function listObjectVersions(ctx: RequestContext): Promise<void> {
  const { encode, encoded } = encodingOf(ctx);
  const prefix = queryText(ctx, 'prefix');
  const delimiter = queryText(ctx, 'delimiter');
  const keyMarker = queryText(ctx, 'key-marker');
  const versionIdMarker = queryText(ctx, 'version-id-marker');
  const maxKeys = pageSizeOf(ctx, 'max-keys');
  const page = await collectPage(ctx, { prefix, delimiter, after: keyMarker === '' ? undefined : keyMarker, maxKeys });
  sendXml(ctx.res, 200, 'ListVersionsResult', [
    ['Name', bucketOf(ctx)],
    ['Prefix', encode(prefix)],
    ['KeyMarker', encode(keyMarker)],
    ['VersionIdMarker', versionIdMarker],
    ...(page.isTruncated && page.last !== undefined
      ? ([
          ['NextKeyMarker', encode(page.last)],
          ['NextVersionIdMarker', 'null'],
        ] as XmlNode[])
      : []),
    ['MaxKeys', maxKeys],
    ...(delimiter !== '' ? ([['Delimiter', encode(delimiter)]] as XmlNode[]) : []),
    ['IsTruncated', page.isTruncated],
    ...(encoded ? ([['EncodingType', 'url']] as XmlNode[]) : []),
    ...page.objects.map(
      (o) =>
        [
          'Version',
          [
            ['Key', encode(o.key)],
            ['VersionId', 'null'],
            ['IsLatest', true],
            ['LastModified', o.lastModified.toISOString()],
            ['ETag', `"${o.etag}"`],
            ['Size', o.size],
            ['StorageClass', 'STANDARD'],
            ['Owner', userNodes(o.owner)],
          ],
        ] as XmlNode,
    ),
    ...prefixNodes(page, encode),
  ]);
}
