// GetObjectAttributes: what HeadObject and ListParts tell of an object, in one document, for the
// attributes x-amz-object-attributes names (ETag, Checksum, ObjectParts, StorageClass, ObjectSize).
import { S3Error, invalidArgument } from '../errors';
import { headerValue } from '../http/headers';
import { sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import type { ObjectInfo } from '../namespace';
import { checksumNodes, objectChecksumOf } from './checksum-nodes';
import type { RequestContext } from './context';
import { MAX_PARTS } from './query';
import { bucketOf, keyOf } from './target';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

function wantedAttributes(ctx: RequestContext): Set<Attribute> {
  const text = headerValue(ctx.req.headers, 'x-amz-object-attributes');
  if (text === undefined || text.trim() === '') {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-object-attributes');
  }
  const wanted = new Set<Attribute>();
  for (const name of text.split(',').map((n) => n.trim())) {
    const attribute = ATTRIBUTES.find((a) => a.toLowerCase() === name.toLowerCase());
    if (!attribute) throw invalidArgument('Invalid attribute name specified.', 'x-amz-object-attributes', name);
    wanted.add(attribute);
  }
  return wanted;
}

/** An integer header (x-amz-max-parts, x-amz-part-number-marker): absent is `fallback`. */
function integerHeader(ctx: RequestContext, name: string, fallback: number): number {
  const text = headerValue(ctx.req.headers, name)?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,9}$/.test(text)) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, text);
  return Number(text);
}

/**
 * The parts of a multipart object. As S3 does for general purpose buckets, each part is listed only
 * when the object has part checksums; the count always.
 */
function partNodes(ctx: RequestContext, info: ObjectInfo): XmlNode[] {
  const sizes = info.partSizes!;
  const nodes: XmlNode[] = [['PartsCount', sizes.length]];
  const checksums = info.partChecksums;
  if (!checksums || !info.checksum) return nodes;
  const maxParts = Math.min(integerHeader(ctx, 'x-amz-max-parts', 1000), 1000);
  const marker = Math.min(integerHeader(ctx, 'x-amz-part-number-marker', 0), MAX_PARTS);
  const page = sizes.map((size, i) => ({ number: i + 1, size })).slice(marker, marker + maxParts);
  const algorithm = info.checksum.algorithm;
  return [
    ...nodes,
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.length > 0 ? page[page.length - 1]!.number : marker],
    ['MaxParts', maxParts],
    ['IsTruncated', marker + page.length < sizes.length],
    ...page.map(
      (part): XmlNode => [
        'Part',
        [
          ['PartNumber', part.number],
          ['Size', part.size],
          ...checksumNodes({ algorithm, value: checksums[part.number - 1]! }),
        ],
      ],
    ),
  ];
}

export async function getObjectAttributes(ctx: RequestContext): Promise<void> {
  const wanted = wantedAttributes(ctx);
  const info = await ctx.services.namespace.objects.head(bucketOf(ctx), keyOf(ctx));
  const checksum = objectChecksumOf(info);
  const nodes: XmlNode[] = [];
  // In S3's order; the ETag without quotes, as S3 writes it here.
  if (wanted.has('ETag')) nodes.push(['ETag', info.etag]);
  if (wanted.has('Checksum') && checksum) nodes.push(['Checksum', checksumNodes(checksum)]);
  if (wanted.has('ObjectParts') && info.partSizes) nodes.push(['ObjectParts', partNodes(ctx, info)]);
  if (wanted.has('StorageClass')) nodes.push(['StorageClass', 'STANDARD']);
  if (wanted.has('ObjectSize')) nodes.push(['ObjectSize', info.size]);
  ctx.res.setHeader('Last-Modified', info.lastModified.toUTCString());
  sendXml(ctx.res, 200, 'GetObjectAttributesResponse', nodes);
}
