// S3Error: a failure a client should see, with its code, status and message from the one table.
// Errors that carry elements of the error document (a Key, a BucketName, ...) or response headers
// are made by the named constructors below, so that no field lands in the wrong place.
import { ERROR_CODES, type ErrorCode } from './codes';

export class S3Error extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra elements of the error document (BucketName, Key, ...), in order. */
  readonly fields: Readonly<Record<string, string>>;
  /** Extra response headers (e.g. Content-Range on InvalidRange). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message?: string) {
    const [status, defaultMessage] = ERROR_CODES[code];
    super(message ?? defaultMessage);
    this.code = code;
    this.status = status;
    this.fields = {};
    this.headers = {};
  }

  /** The same error with elements of the error document (and response headers) added. */
  static detailed(
    code: ErrorCode,
    message: string | undefined,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): S3Error {
    const error = new S3Error(code, message);
    Object.assign(error.fields as Record<string, string>, fields);
    Object.assign(error.headers as Record<string, string>, headers);
    return error;
  }
}

const detailed = S3Error.detailed;

/** True when `e` is an S3Error with one of these codes. */
export const isS3Error = (e: unknown, ...codes: ErrorCode[]): e is S3Error => e instanceof S3Error && codes.includes(e.code);

export const noSuchBucket = (bucket: string, message?: string): S3Error => detailed('NoSuchBucket', message, { BucketName: bucket });
export const noSuchKey = (key: string): S3Error => detailed('NoSuchKey', undefined, { Key: key });
export const noSuchUpload = (uploadId: string): S3Error => detailed('NoSuchUpload', undefined, { UploadId: uploadId });
export const noSuchVersion = (key: string, versionId: string): S3Error =>
  detailed('NoSuchVersion', undefined, { Key: key, VersionId: versionId });

export const invalidBucketName = (bucket: string): S3Error => detailed('InvalidBucketName', undefined, { BucketName: bucket });
export const bucketAlreadyExists = (bucket: string): S3Error => detailed('BucketAlreadyExists', undefined, { BucketName: bucket });
export const bucketAlreadyOwnedByYou = (bucket: string): S3Error => detailed('BucketAlreadyOwnedByYou', undefined, { BucketName: bucket });
export const bucketNotEmpty = (bucket: string): S3Error => detailed('BucketNotEmpty', undefined, { BucketName: bucket });

/** AccessDenied naming what was refused (the document's BucketName or Key). */
export function accessDenied(message?: string, on: { bucket?: string; key?: string } = {}): S3Error {
  const fields: Record<string, string> = {};
  if (on.bucket !== undefined) fields.BucketName = on.bucket;
  if (on.key !== undefined) fields.Key = on.key;
  return detailed('AccessDenied', message, fields);
}

export const invalidAccessKeyId = (accessKey: string): S3Error => detailed('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });

/** InvalidArgument naming the argument (a header or query parameter) and, when known, its value. */
export function invalidArgument(message: string, name?: string, value?: string): S3Error {
  const fields: Record<string, string> = {};
  if (name !== undefined) fields.ArgumentName = name;
  if (value !== undefined) fields.ArgumentValue = value;
  return detailed('InvalidArgument', message, fields);
}

/** InvalidArgument, InvalidRequest or KeyTooLongError about a key, which the document names. */
export const badKey = (code: 'InvalidArgument' | 'InvalidRequest' | 'KeyTooLongError', message: string, key: string): S3Error =>
  detailed(code, message, { Key: key });

export const objectParentIsFile = (key: string): S3Error =>
  detailed('ObjectParentIsFile', `Object "${key}" cannot be written: a parent path is an existing object.`, { Key: key });
export const existingObjectIsDirectory = (key: string): S3Error =>
  detailed('ExistingObjectIsDirectory', `Object "${key}" cannot be written: the key is a directory that holds other objects.`, {
    Key: key,
  });

/** 412, naming the condition that did not hold (If-Match, If-None-Match, If-Unmodified-Since, ...). */
export const preconditionFailed = (condition: string): S3Error => detailed('PreconditionFailed', undefined, { Condition: condition });

/** 304, with the validators a cache needs to keep using its copy. */
export const notModified = (etag: string, lastModified: Date): S3Error =>
  detailed('NotModified', undefined, {}, { ETag: `"${etag}"`, 'Last-Modified': lastModified.toUTCString() });

export const invalidRange = (requested: string, size: number): S3Error =>
  detailed(
    'InvalidRange',
    undefined,
    { RangeRequested: requested, ActualObjectSize: String(size) },
    { 'Content-Range': `bytes */${size}` },
  );

export const invalidPartNumber = (requested: string, partCount: number): S3Error =>
  detailed('InvalidPartNumber', undefined, { PartNumberRequested: requested, ActualPartCount: String(partCount) });

export const invalidPart = (partNumber: number, etag?: string): S3Error =>
  detailed('InvalidPart', undefined, { PartNumber: String(partNumber), ...(etag !== undefined ? { ETag: etag } : {}) });

export const entityTooSmall = (partNumber: number, size: number, minimum: number): S3Error =>
  detailed('EntityTooSmall', undefined, { PartNumber: String(partNumber), ProposedSize: String(size), MinSizeAllowed: String(minimum) });

export const metadataTooLarge = (size: number, maximum: number): S3Error =>
  detailed('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size of ${maximum} bytes.`, {
    Size: String(size),
    MaxSizeAllowed: String(maximum),
  });

/** 501 for a header whose meaning sluice does not implement. */
export const headerNotImplemented = (header: string): S3Error =>
  detailed('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: header });
