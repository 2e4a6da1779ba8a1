// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, ListParts,
// ListMultipartUploads and AbortMultipartUpload. (CompleteMultipartUpload is in complete.ts.)
import { Readable } from 'node:stream';
import type { RequestContext } from '../http/context';
import { S3Error } from '../http/errors';
import { sendEmpty, sendXml } from '../http/respond';
import type { XmlNode } from '../http/xml';
import { CHECKSUM_ALGORITHMS, compareKeys, isFolderKey, type ChecksumAlgorithm, type Namespace } from '../namespace';
import { UploadStore, type PartInfo, type UploadRecord } from '../namespace/uploads';
import { FILE_IO_BYTES } from '../streams/buffer-sizes';
import { DigestStream } from '../streams/digest';
import { pump } from '../streams/pump';
import { receiveBody } from './body';
import { parseCopySource } from './copy';
import { checkConditions, headerValue, parseContentHeaders, parseUserMetadata, readConditions } from './headers';
import { urlEncodeKey } from './listing';
import { parseTaggingHeader } from './tagging';
import { bucketOf, keyOf } from './target';

export const MAX_PARTS = 10000;

const stores = new WeakMap<Namespace, UploadStore>();

export function uploadsOf(ctx: RequestContext): UploadStore {
  const namespace = ctx.services.namespace;
  let store = stores.get(namespace);
  // Parts in flight mark their upload active a few times per cleaner timeout.
  if (!store) stores.set(namespace, (store = new UploadStore(namespace.layout, { activityIntervalMs: ctx.services.config.multipart.timeoutMs / 4, fsync: ctx.services.config.fsync })));
  return store;
}

export function uploadIdOf(ctx: RequestContext): string {
  const id = ctx.target.query.get('uploadId');
  if (id === null || id === '') throw new S3Error('InvalidArgument', 'The uploadId must not be empty.', { ArgumentName: 'uploadId' });
  return id;
}

function partNumberOf(ctx: RequestContext): number {
  const text = ctx.target.query.get('partNumber') ?? '';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_PARTS) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: text,
    });
  }
  return n;
}

function person(user: string): XmlNode[] {
  return [
    ['ID', user],
    ['DisplayName', user],
  ];
}

function checksumAlgorithmOf(ctx: RequestContext): ChecksumAlgorithm | undefined {
  const text = headerValue(ctx.req.headers, 'x-amz-checksum-algorithm')?.toLowerCase();
  if (text === undefined) return undefined;
  const algorithm = CHECKSUM_ALGORITHMS.find((a) => a === text);
  if (!algorithm) throw new S3Error('InvalidRequest', `Checksum algorithm "${text}" is not supported.`);
  return algorithm;
}

export async function createMultipartUpload(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const { config, namespace } = ctx.services;
  if (isFolderKey(key)) throw new S3Error('InvalidRequest', 'A key ending in "/" names a folder, which cannot hold data.', { Key: key });
  const headers = parseContentHeaders(ctx.req.headers);
  const userMeta = parseUserMetadata(ctx.req.headers, config.metadataMaxSize);
  const tags = parseTaggingHeader(headerValue(ctx.req.headers, 'x-amz-tagging'), config.taggingRestrictions);
  const checksumAlgorithm = checksumAlgorithmOf(ctx);
  await namespace.buckets.require(bucket);
  const record = await uploadsOf(ctx).create({ bucket, key, owner: ctx.user, headers, userMeta, tags, ...(checksumAlgorithm ? { checksumAlgorithm } : {}) });
  if (checksumAlgorithm) ctx.res.setHeader('x-amz-checksum-algorithm', checksumAlgorithm.toUpperCase());
  sendXml(ctx, 200, 'InitiateMultipartUploadResult', [
    ['Bucket', bucket],
    ['Key', key],
    ['UploadId', record.uploadId],
  ]);
}

export async function uploadPart(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const partNumber = partNumberOf(ctx);
  const record = await uploadsOf(ctx).get(uploadIdOf(ctx), bucket, key);
  const body = receiveBody(ctx);
  let checksumHeader: Record<string, string> = {};
  const part = await uploadsOf(ctx).writePart(record, partNumber, body.source, () => {
    const verified = body.verify();
    if (verified.checksum) checksumHeader = { [`x-amz-checksum-${verified.checksum.algorithm}`]: verified.checksum.value };
    return { md5: verified.md5.toString('hex'), ...(verified.checksum ? { checksum: verified.checksum } : {}) };
  });
  sendEmpty(ctx, 200, { ETag: `"${part.etag}"`, ...checksumHeader });
}

/** `bytes=first-last`, inside the source object. */
function copySourceRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: value,
    });
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end >= size) throw new S3Error('InvalidRange', `The requested range bytes=${start}-${end} is not satisfiable for an object of ${size} bytes.`);
  return { start, end };
}

export async function uploadPartCopy(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const partNumber = partNumberOf(ctx);
  const source = parseCopySource(headerValue(ctx.req.headers, 'x-amz-copy-source')!);
  const record = await uploadsOf(ctx).get(uploadIdOf(ctx), bucket, key);
  const opened = await ctx.services.namespace.objects.open(source.bucket, source.key);
  let handle = opened.handle; // handed to the read stream, which closes it
  let bytes: Readable | undefined;
  let digest: DigestStream | undefined;
  try {
    checkConditions(readConditions(ctx.req.headers, 'x-amz-copy-source-'), opened.info, true);
    const range = copySourceRange(headerValue(ctx.req.headers, 'x-amz-copy-source-range'), opened.info.size);
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : opened.info.size;
    const hashed = new DigestStream({ expectedLength: length });
    digest = hashed; // released in `finally` if the part fails before it is read
    if (handle && length > 0) {
      bytes = handle.createReadStream({ start, end: start + length - 1, highWaterMark: FILE_IO_BYTES, autoClose: true });
      handle = undefined;
    } else {
      bytes = Readable.from([]);
    }
    pump(bytes, hashed).catch(() => undefined); // a read failure reaches writePart through `hashed`
    const part = await uploadsOf(ctx).writePart(record, partNumber, hashed, () => ({ md5: hashed.md5Digest().toString('hex') }));
    sendXml(ctx, 200, 'CopyPartResult', [
      ['LastModified', part.lastModified.toISOString()],
      ['ETag', `"${part.etag}"`],
    ]);
  } finally {
    // No-ops once they ended; a part that failed early releases the file and the hashing.
    digest?.destroy();
    bytes?.destroy();
    await handle?.close();
  }
}

function partNodes(part: PartInfo): XmlNode[] {
  const nodes: XmlNode[] = [
    ['PartNumber', part.partNumber],
    ['LastModified', part.lastModified.toISOString()],
    ['ETag', `"${part.etag}"`],
    ['Size', part.size],
  ];
  if (part.checksum) nodes.push([`Checksum${part.checksum.algorithm.toUpperCase()}`, part.checksum.value]);
  return nodes;
}

function boundedInteger(ctx: RequestContext, name: string, fallback: number, max: number): number {
  const text = ctx.target.query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: text });
  return Math.min(Number(text), max);
}

export async function listParts(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  const key = keyOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const maxParts = boundedInteger(ctx, 'max-parts', 1000, 1000);
  const marker = boundedInteger(ctx, 'part-number-marker', 0, MAX_PARTS);
  const { record, parts } = await uploadsOf(ctx).listParts(uploadId, bucket, key);
  const after = parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  sendXml(ctx, 200, 'ListPartsResult', [
    ['Bucket', bucket],
    ['Key', key],
    ['UploadId', uploadId],
    ['Initiator', person(record.owner)],
    ['Owner', person(record.owner)],
    ['StorageClass', 'STANDARD'],
    ['PartNumberMarker', marker],
    ['NextPartNumberMarker', page.length > 0 ? page[page.length - 1]!.partNumber : marker],
    ['MaxParts', maxParts],
    ['IsTruncated', truncated],
    ...(record.checksumAlgorithm ? ([['ChecksumAlgorithm', record.checksumAlgorithm.toUpperCase()]] as XmlNode[]) : []),
    ...page.map((p) => ['Part', partNodes(p)] as XmlNode),
  ]);
}

export async function abortMultipartUpload(ctx: RequestContext): Promise<void> {
  await uploadsOf(ctx).abort(uploadIdOf(ctx), bucketOf(ctx), keyOf(ctx));
  sendEmpty(ctx, 204);
}

export async function listMultipartUploads(ctx: RequestContext): Promise<void> {
  const bucket = bucketOf(ctx);
  await ctx.services.namespace.buckets.require(bucket);
  const query = ctx.target.query;
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const maxUploads = boundedInteger(ctx, 'max-uploads', 1000, 1000);
  const encodingType = query.get('encoding-type');
  if (encodingType !== null && encodingType.toLowerCase() !== 'url') {
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  }
  const encode = encodingType === null ? (t: string) => t : urlEncodeKey;

  const all = (await uploadsOf(ctx).list(bucket)).filter((u) => u.key.startsWith(prefix));
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
  sendXml(ctx, 200, 'ListMultipartUploadsResult', [
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
    ...(encodingType !== null ? ([['EncodingType', 'url']] as XmlNode[]) : []),
    ...uploads.map(
      (u) =>
        [
          'Upload',
          [
            ['Key', encode(u.key)],
            ['UploadId', u.uploadId],
            ['Initiator', person(u.owner)],
            ['Owner', person(u.owner)],
            ['StorageClass', 'STANDARD'],
            ['Initiated', u.initiated],
            ...(u.checksumAlgorithm ? ([['ChecksumAlgorithm', u.checksumAlgorithm.toUpperCase()]] as XmlNode[]) : []),
          ],
        ] as XmlNode,
    ),
    ...prefixes.map((p) => ['CommonPrefixes', [['Prefix', encode(p)]]] as XmlNode),
  ]);
}
