// Request headers shared by the object actions: content headers, user metadata, conditions.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { S3Error, invalidArgument, invalidRange, metadataTooLarge, noSuchKey, notModified, preconditionFailed } from '../errors';
import { headerValue } from '../http/headers';
import { setSafeHeader } from '../http/respond';
import type { ContentHeaders, DeleteCondition, ObjectInfo, ObjectKey, WriteCondition } from '../namespace';

const CONTENT_HEADERS: [keyof ContentHeaders, string][] = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentDisposition', 'content-disposition'],
  ['cacheControl', 'cache-control'],
  ['contentLanguage', 'content-language'],
  ['expires', 'expires'],
];

/** Content-* headers to store with an object. aws-chunked is framing, not a content coding. */
export function parseContentHeaders(headers: IncomingHttpHeaders): ContentHeaders {
  const result: ContentHeaders = {};
  for (const [field, name] of CONTENT_HEADERS) {
    let value = headerValue(headers, name);
    if (field === 'contentEncoding' && value !== undefined) {
      value = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '' && v.toLowerCase() !== 'aws-chunked')
        .join(', ');
    }
    if (value !== undefined && value !== '') result[field] = value;
  }
  // Alluxio stores application/octet-stream for a PUT that names no type.
  result.contentType ??= 'application/octet-stream';
  return result;
}

/**
 * x-amz-meta-* headers, bounded in total size (names without the prefix plus values, in bytes).
 * Values are kept as Node gives them, one character per byte received (latin1), and go out the
 * same way: a UTF-8 value (boto3 sends raw UTF-8) comes back byte for byte.
 */
export function parseUserMetadata(headers: IncomingHttpHeaders, maxSize: number): Record<string, string> {
  const meta: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const key = name.slice('x-amz-meta-'.length);
    const text = Array.isArray(value) ? value.join(',') : value;
    meta[key] = text;
    size += Buffer.byteLength(key, 'latin1') + Buffer.byteLength(text, 'latin1');
  }
  if (maxSize > 0 && size > maxSize) throw metadataTooLarge(size, maxSize);
  return meta;
}

/** Says, with a cache tier, whether an object is persisted: PERSISTED, TO_BE_PERSISTED or NOT_PERSISTED. */
export const PERSISTENCE_HEADER = 'x-sluice-persistence-state';

/** The headers GetObject and HeadObject return for an object (the parts count only when a part was asked for, as S3 does). */
export function setObjectHeaders(res: ServerResponse, info: ObjectInfo, partRequested: boolean, tiered: boolean): void {
  res.setHeader('ETag', `"${info.etag}"`);
  res.setHeader('Last-Modified', info.lastModified.toUTCString());
  res.setHeader('Accept-Ranges', 'bytes');
  for (const [field, name] of CONTENT_HEADERS) {
    const value = info.headers[field];
    if (value !== undefined) setSafeHeader(res, name, value);
  }
  for (const [name, value] of Object.entries(info.userMeta)) setSafeHeader(res, `x-amz-meta-${name}`, value);
  if (info.tags.length > 0) res.setHeader('x-amz-tagging-count', info.tags.length);
  if (info.partSizes && partRequested) res.setHeader('x-amz-mp-parts-count', info.partSizes.length);
  // With a cache tier: whether the object is in the under store yet (Alluxio's persistence states).
  if (tiered) res.setHeader(PERSISTENCE_HEADER, info.persistence ?? 'PERSISTED');
}

function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((item) => {
    const tag = item.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    return tag === '*' || tag === etag;
  });
}

/**
 * The conditional writes of PutObject and CompleteMultipartUpload: If-None-Match: * creates only,
 * If-None-Match: "<etag>" does not replace a version with that ETag; If-Match: * replaces any
 * object and If-Match: "<etag>" only the version with that ETag (NoSuchKey when there is none).
 */
export function writeCondition(headers: IncomingHttpHeaders, key: ObjectKey): WriteCondition {
  const ifNoneMatch = headerValue(headers, 'if-none-match');
  const ifMatch = headerValue(headers, 'if-match');
  const condition: WriteCondition = {};
  if (ifNoneMatch?.trim() === '*') condition.createOnly = true;
  const unlessTagged = ifNoneMatch !== undefined && !condition.createOnly ? ifNoneMatch : undefined;
  if (ifMatch !== undefined || unlessTagged !== undefined) {
    condition.check = (current) => {
      if (ifMatch !== undefined && !current) throw noSuchKey(key);
      if (ifMatch !== undefined && !etagMatches(ifMatch, current!.etag)) throw preconditionFailed('If-Match');
      if (unlessTagged !== undefined && current && etagMatches(unlessTagged, current.etag)) throw preconditionFailed('If-None-Match');
    };
  }
  return condition;
}

const DELETE_HEADER_NAMES = { etag: 'If-Match', lastModified: 'x-amz-if-match-last-modified-time', size: 'x-amz-if-match-size' };

/** What a conditional delete names of the version it may remove (headers of DeleteObject, elements of DeleteObjects). */
export interface DeletePreconditions {
  etag?: string | undefined;
  lastModified?: string | undefined;
  size?: string | undefined;
}

/**
 * The condition of a conditional delete, or undefined when it names none: If-Match (an ETag or
 * `*`), the last-modified time (to the second, as S3 gives it) and the size must all hold, or
 * PreconditionFailed; a key that does not exist is deleted as ever (204), as S3 documents.
 */
export function deleteCondition(wanted: DeletePreconditions, names = DELETE_HEADER_NAMES): DeleteCondition | undefined {
  const { etag, lastModified, size } = wanted;
  if (etag === undefined && lastModified === undefined && size === undefined) return undefined;
  const time = lastModified === undefined ? undefined : Date.parse(lastModified);
  if (time !== undefined && Number.isNaN(time)) {
    throw invalidArgument('The last-modified time is not a valid date.', names.lastModified, lastModified);
  }
  if (size !== undefined && !/^\d{1,16}$/.test(size.trim())) throw invalidArgument('The size is not a valid number.', names.size, size);
  return (current) => {
    if (etag !== undefined && !etagMatches(etag, current.etag)) throw preconditionFailed(names.etag);
    if (time !== undefined && Math.floor(current.lastModified.getTime() / 1000) !== Math.floor(time / 1000)) {
      throw preconditionFailed(names.lastModified);
    }
    if (size !== undefined && current.size !== Number(size)) throw preconditionFailed(names.size);
  };
}

/** DeleteObject's conditional headers. */
export function deleteConditionOf(headers: IncomingHttpHeaders): DeleteCondition | undefined {
  return deleteCondition({
    etag: headerValue(headers, 'if-match'),
    lastModified: headerValue(headers, 'x-amz-if-match-last-modified-time'),
    size: headerValue(headers, 'x-amz-if-match-size'),
  });
}

export interface Conditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

export function readConditions(headers: IncomingHttpHeaders, prefix = ''): Conditions {
  return {
    ifMatch: headerValue(headers, `${prefix}if-match`),
    ifNoneMatch: headerValue(headers, `${prefix}if-none-match`),
    ifModifiedSince: headerValue(headers, `${prefix}if-modified-since`),
    ifUnmodifiedSince: headerValue(headers, `${prefix}if-unmodified-since`),
  };
}

/**
 * Evaluates conditional headers as S3 does: If-Match wins over If-Unmodified-Since, If-None-Match
 * over If-Modified-Since. A failed "not modified" test is 304 on reads; copy sources get 412 for all.
 */
export function checkConditions(conditions: Conditions, info: ObjectInfo, forCopySource = false): void {
  const modified = Math.floor(info.lastModified.getTime() / 1000);
  const etag = info.etag;
  const ifUnmodifiedSince = parseHttpDate(conditions.ifUnmodifiedSince);
  const ifModifiedSince = parseHttpDate(conditions.ifModifiedSince);
  if (conditions.ifMatch !== undefined) {
    if (!etagMatches(conditions.ifMatch, etag)) throw preconditionFailed('If-Match');
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  // Built only when thrown: an Error captures a stack, too dear to make on every read.
  const unchanged = (): S3Error => (forCopySource ? new S3Error('PreconditionFailed') : notModified(etag, info.lastModified));
  if (conditions.ifNoneMatch !== undefined) {
    if (etagMatches(conditions.ifNoneMatch, etag)) throw unchanged();
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince && ifModifiedSince <= Date.now() / 1000) {
    throw unchanged();
  }
}

/** A single byte range `bytes=a-b`, `bytes=a-`, `bytes=-n`; other forms are ignored, as S3 does. */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const unsatisfiable = (): S3Error => invalidRange(value, size);
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  // `a-b` with b < a is not a valid range and is ignored (RFC 9110); an open range `a-` that
  // starts past the end is unsatisfiable, like any other start past the end.
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  const end = match[2] === '' ? size - 1 : Number(match[2]);
  return { start, end: Math.min(end, size - 1) };
}
