// A request as authentication sees it, and what it claims before anything is verified: the
// access key it names (Authorization header, else presigned query) and by which scheme.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors';
import { headerValue } from '../http/headers';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent: signatures are computed over them. */
  rawPath: string;
  rawQuery: string;
  /**
   * The prefix the server is also served under (the Alluxio base path): SigV2 clients (botocore)
   * sign the resource `/bucket/key` without it.
   */
  basePath?: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
}

/** How far a request's date may be from the server's clock (S3's 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface Claim {
  accessKey: string;
  /** AWS Signature Version 4 (`Credential=`, `X-Amz-Credential`) or 2 (`AWS key:sig`, `AWSAccessKeyId`). */
  scheme: 'v4' | 'v2';
}

/**
 * The access key a request names, or undefined when it names none (an anonymous request). A
 * header that names no credential is AuthorizationHeaderMalformed; the header wins over the query.
 */
export function claimedCredential(request: Pick<SignedRequest, 'headers' | 'query'>): Claim | undefined {
  const authorization = headerValue(request.headers, 'authorization')?.trim();
  if (authorization) {
    const v4 = /Credential=([^/,\s]+)/.exec(authorization);
    if (v4) return { accessKey: v4[1]!, scheme: 'v4' };
    const v2 = /^AWS\s+([^:\s]+):/.exec(authorization);
    if (v2) return { accessKey: v2[1]!, scheme: 'v2' };
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The Authorization header names no credential (expected AWS4-HMAC-SHA256 Credential=<user>/...).',
    );
  }
  const v4User = request.query.get('X-Amz-Credential')?.split('/')[0];
  if (v4User) return { accessKey: v4User, scheme: 'v4' };
  const v2Key = request.query.get('AWSAccessKeyId');
  if (v2Key) return { accessKey: v2Key, scheme: 'v2' };
  return undefined;
}
