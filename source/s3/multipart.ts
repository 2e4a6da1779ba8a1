// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, ListParts,
// ListMultipartUploads and AbortMultipartUpload. (CompleteMultipartUpload is in complete.ts.)
import { S3Error, invalidArgument } from '../errors';
import { headerValue } from '../http/headers';
import { sendEmpty, sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { compareKeys, type PartInfo, type UploadRecord } from '../namespace';
import { CHECKSUM_TYPES, checksumTypesOf, defaultChecksumType, type ChecksumAlgorithm, type ChecksumType } from '../streams/checksums';
import { newAcl, newPermissions } from './acls';
import { checksumAlgorithmNamed, receiveBody } from './body';
import { checksumNodes } from './checksum-nodes';
import type { RequestContext } from './context';
import { openCopySource, parseCopySource } from './copy-source';
import { checkConditions, parseContentHeaders, parseUserMetadata, readConditions } from './headers';
import { userNodes } from './owners';
import { MAX_PARTS, encodingOf, pageSizeOf, partNumberOf, queryText } from './query';
import { parseTaggingHeader } from './tagging';
import { bucketOf, keyOf } from './target';

export function uploadIdOf(ctx: RequestContext): string {
  const id = ctx.target.query.get('uploadId');
  if (id === null || id === '') throw invalidArgument('The uploadId must not be empty.', 'uploadId');
  return id;
}

/** x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload, checked as S3 checks them. */
function uploadChecksumOf(ctx: RequestContext): { checksumAlgorithm?: ChecksumAlgorithm; checksumType?: ChecksumType } {
  const algorithmName = headerValue(ctx.req.headers, 'x-amz-checksum-algorithm');
  const typeName = headerValue(ctx.req.headers, 'x-amz-checksum-type')?.trim().toUpperCase();
  if (algorithmName === undefined) {
    if (typeName !== undefined) {
      throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    }
    return {};
  }
  const checksumAlgorithm = checksumAlgorithmNamed(algorithmName);
  const checksumType = CHECKSUM_TYPES.find((type) => type === typeName) ?? defaultChecksumType(checksumAlgorithm);
  if (typeName !== undefined && typeName !== checksumType) throw invalidArgument('Invalid checksum type', 'x-amz-checksum-type', typeName);
  if (!checksumTypesOf(checksumAlgorithm).includes(checksumType)) {
    throw new S3Error(
      'InvalidRequest',
      `The ${checksumAlgorithm.toUpperCase()} checksum algorithm does not support the ${checksumType} checksum type.`,
    );
  }
  return { checksumAlgorithm, checksumType };
}

export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { config, namespace } = ctx.services;
  const headers = parseContentHeaders(ctx.req.headers);
  const userMeta = parseUserMetadata(ctx.req.headers, config.metadataMaxSize);
  const tags = parseTaggingHeader(headerValue(ctx.req.headers, 'x-amz-tagging'), config.taggingRestrictions);
  const checksum = uploadChecksumOf(ctx);
  await namespace.buckets.require(bucket);
  const permissions = await newPermissions(ctx, newAcl(ctx), ctx.user, bucket);
  const record = await namespace.uploads.create({ bucket, key, owner: ctx.user, headers, userMeta, tags, permissions, ...checksum });
  if (checksum.checksumAlgorithm && checksum.checksumType) {
    ctx.res.setHeader('x-amz-checksum-algorithm', checksum.checksumAlgorithm.toUpperCase());
    ctx.res.setHeader('x-amz-checksum-type', checksum.checksumType);
  }
  sendXml(ctx.res, 200, 'InitiateMultipartUploadResult', [
    ['Bucket', bucket],
    ['Key', key],
    ['UploadId', record.uploadId],
  ]);
}

export async function uploadPart(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const partNumber = partNumberOf(ctx);
  const uploads = ctx.services.namespace.uploads;
  const record = await uploads.get(uploadIdOf(ctx), bucket, key);
  // A part of an upload that names an algorithm gets its checksum, sent or not: the object's is made of them.
  const body = receiveBody(ctx, { checksum: record.checksumAlgorithm });
  let checksumHeader: Record<string, string> = {};
  const part = await uploads.writePart(record, partNumber, body.source, () => {
    const verified = body.verify();
    if (verified.checksum) checksumHeader = { [`x-amz-checksum-${verified.checksum.algorithm}`]: verified.checksum.value };
    return { md5: verified.md5.toString('hex'), ...(verified.checksum ? { checksum: verified.checksum } : {}) };
  });
  sendEmpty(ctx.res, 200, { ETag: `"${part.etag}"`, ...checksumHeader });
}

/** `bytes=first-last`, inside the source object. */
function copySourceRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are ' +
        'the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      value,
    );
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end >= size) {
    throw new S3Error('InvalidRange', `The requested range bytes=${start}-${end} is not satisfiable for an object of ${size} bytes.`);
  }
  return { start, end };
}

export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const partNumber = partNumberOf(ctx);
  const { namespace } = ctx.services;
  const sourceName = parseCopySource(headerValue(ctx.req.headers, 'x-amz-copy-source')!);
  const record = await namespace.uploads.get(uploadIdOf(ctx), bucket, key);
  const source = await openCopySource(namespace, sourceName);
  try {
    checkConditions(readConditions(ctx.req.headers, 'x-amz-copy-source-'), source.info, true);
    const range = copySourceRange(headerValue(ctx.req.headers, 'x-amz-copy-source-range'), source.info.size);
    const algorithm = record.checksumAlgorithm;
    const { bytes } = source.read(range?.start ?? 0, range ? range.end - range.start + 1 : source.info.size, algorithm);
    // A read failure reaches writePart through `bytes`, which also ends only once all was read.
    const part = await namespace.uploads.writePart(record, partNumber, bytes, () => ({
      md5: bytes.md5Digest().toString('hex'),
      ...(algorithm ? { checksum: { algorithm, value: bytes.checksumDigest(algorithm)!.toString('base64') } } : {}),
    }));
    sendXml(ctx.res, 200, 'CopyPartResult', [
      ['LastModified', part.lastModified.toISOString()],
      ['ETag', `"${part.etag}"`],
      ...checksumNodes(part.checksum),
    ]);
  } finally {
    await source.close();
  }
}

function partNodes(part: PartInfo): XmlNode[] {
  const nodes: XmlNode[] = [
    ['PartNumber', part.partNumber],
    ['LastModified', part.lastModified.toISOString()],
    ['ETag', `"${part.etag}"`],
    ['Size', part.size],
  ];
  return [...nodes, ...checksumNodes(part.checksum)];
}

/** ChecksumAlgorithm and ChecksumType of an upload that names an algorithm (an older record, without a type, is composite). */
function uploadChecksumNodes(record: UploadRecord): XmlNode[] {
  if (!record.checksumAlgorithm) return [];
  return [
    ['ChecksumAlgorithm', record.checksumAlgorithm.toUpperCase()],
    ['ChecksumType', record.checksumType ?? 'COMPOSITE'],
  ];
}

export async function listParts(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const maxParts = pageSizeOf(ctx, 'max-parts');
  const marker = pageSizeOf(ctx, 'part-number-marker', 0, MAX_PARTS);
  const { record, parts } = await ctx.services.namespace.uploads.listParts(uploadId, bucket, key);
  const after = parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  sendXml(ctx.res, 200, 'ListPartsResult', [
    ['Bucket', bucket],
    ['Key', key],
    ['UploadId', uploadId],
    ['Initiator', userNodes(record.owner)],
    ['Owner', userNodes(record.owner)],
    ['StorageClass', 'STANDARD'],
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.length > 0 ? page[page.length - 1]!.partNumber : marker],
    ['MaxParts', maxParts],
    ['IsTruncated', truncated],
    ...uploadChecksumNodes(record),
    ...page.map((p) => ['Part', partNodes(p)] as XmlNode),
  ]);
}

export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  await ctx.services.namespace.uploads.abort(uploadIdOf(ctx), bucketOf(ctx), keyOf(ctx));
  sendEmpty(ctx.res, 204);
}

export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  await ctx.services.namespace.buckets.require(bucket);
  const prefix = queryText(ctx, 'prefix');
  const delimiter = queryText(ctx, 'delimiter');
  const keyMarker = queryText(ctx, 'key-marker');
  const uploadIdMarker = queryText(ctx, 'upload-id-marker');
  const maxUploads = pageSizeOf(ctx, 'max-uploads');
  const { encode, encoded } = encodingOf(ctx);

  const all = (await ctx.services.namespace.uploads.list(bucket)).filter((u) => u.key.startsWith(prefix));
  // Past the markers: later keys, or the marker key's uploads after the marker upload.
  let start = 0;
  if (keyMarker !== '') {
    const markerIndex = uploadIdMarker === '' ? -1 : all.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker);
    start = all.findIndex((u, i) => (markerIndex >= 0 ? i > markerIndex : compareKeys(u.key, keyMarker) > 0));
    if (start < 0) start = all.length;
  }
  const uploads: UploadRecord[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last: UploadRecord | string | undefined;
  for (let i = start; i < all.length; i++) {
    const upload = all[i]!;
    const cut = delimiter === '' ? -1 : upload.key.indexOf(delimiter, prefix.length);
    const commonPrefix = cut >= 0 ? upload.key.slice(0, cut + delimiter.length) : undefined;
    // A common prefix as key-marker (the NextKeyMarker of a page that ended on it) was listed
    // already: the uploads under it are skipped, or paging would return it forever.
    if (commonPrefix !== undefined && (prefixes[prefixes.length - 1] === commonPrefix || commonPrefix === keyMarker)) continue;
    if (uploads.length + prefixes.length === maxUploads) {
      truncated = true;
      break;
    }
    if (commonPrefix !== undefined) prefixes.push((last = commonPrefix));
    else uploads.push((last = upload));
  }
  const nextKey = typeof last === 'string' ? last : last?.key;
  const nextId = typeof last === 'object' ? last.uploadId : '';
  sendXml(ctx.res, 200, 'ListMultipartUploadsResult', [
    ['Bucket', bucket],
    ['KeyMarker', encode(keyMarker)],
    ['UploadIdMarker', uploadIdMarker],
    ...(truncated && nextKey !== undefined
      ? ([
          ['NextKeyMarker', encode(nextKey)],
          ['NextUploadIdMarker', nextId],
        ] as XmlNode[])
      : []),
    ...(delimiter !== '' ? ([['Delimiter', encode(delimiter)]] as XmlNode[]) : []),
    ['Prefix', encode(prefix)],
    ['MaxUploads', maxUploads],
    ['IsTruncated', truncated],
    ...(encoded ? ([['EncodingType', 'url']] as XmlNode[]) : []),
    ...uploads.map(
      (u) =>
        [
          'Upload',
          [
            ['Key', encode(u.key)],
            ['UploadId', u.uploadId],
            ['Initiator', userNodes(u.owner)],
            ['Owner', userNodes(u.owner)],
            ['StorageClass', 'STANDARD'],
            ['Initiated', u.initiated],
            ...uploadChecksumNodes(u),
          ],
        ] as XmlNode,
    ),
    ...prefixes.map((p) => ['CommonPrefixes', [['Prefix', encode(p)]]] as XmlNode),
  ]);
}
