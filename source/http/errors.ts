// The one exit for failures: every S3 error code, its HTTP status and default message.
// Handlers throw S3Error; the server turns it into the XML error document.

const TABLE = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'The query parameters that authenticate this request are malformed.'],
  BadDigest: [400, 'The Content-MD5 or checksum you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  ExistingObjectIsDirectory: [409, 'The key names a directory that holds other objects; it cannot be an object too.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InsufficientStorage: [507, 'The server has no space left to store the data; free space and retry.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS access key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidDigest: [400, 'The Content-MD5 or checksum you specified is not valid.'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidTag: [400, 'The tag provided was not a valid tag.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, 'Your key is too long.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty.'],
  NoSuchBucket: [404, 'The specified bucket does not exist.'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchTagSet: [404, 'The TagSet does not exist.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NoSuchUpload: [404, 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.'],
  NotImplemented: [501, 'A header or query you provided implies functionality that is not implemented.'],
  NotModified: [304, 'Not Modified'],
  ObjectParentIsFile: [409, 'A parent of the key is an existing object, so the key cannot be a path below it.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the server\'s time is too large.'],
  RequestHeaderSectionTooLarge: [400, 'Your request header section exceeds the maximum allowed size.'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [400, 'The provided x-amz-content-sha256 header does not match what was computed.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof TABLE;

export class S3Error extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra elements of the error document (BucketName, Key, ...), in order. */
  readonly fields: Record<string, string>;
  /** Extra response headers (e.g. Content-Range on InvalidRange). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const [status, defaultMessage] = TABLE[code];
    super(message ?? defaultMessage);
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }
}


/** Maps a failure from the filesystem or anywhere else to the S3 error a client should see. */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EMFILE':
    case 'ENFILE':
      return new S3Error('SlowDown', 'The server is out of file descriptors; retry shortly.');
    case 'ENOSPC':
    case 'EDQUOT':
      // 507, not 503: a full disk is not a busy server, and clients should not retry blindly.
      return new S3Error('InsufficientStorage');
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new S3Error('AccessDenied', 'The server may not access this path on its filesystem.');
    case 'ENAMETOOLONG':
      return new S3Error('KeyTooLongError', 'A segment of the key is too long for the filesystem.');
    default:
      return new S3Error('InternalError');
  }
}
