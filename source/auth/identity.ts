// SIMPLE identity, as Alluxio documents it: the user is the access key named in the SigV4
// Credential (header or presigned URL); nothing is verified. No credential: the server's user.
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../http/errors';

/** The access key of an Authorization header (SigV4 `Credential=`, or SigV2 `AWS key:sig`). */
export function accessKeyOfHeader(authorization: string): string {
  const v4 = /Credential=([^/,\s]+)/.exec(authorization);
  if (v4) return v4[1]!;
  const v2 = /^AWS\s+([^:\s]+):/.exec(authorization);
  if (v2) return v2[1]!;
  throw new S3Error('AuthorizationHeaderMalformed', 'The Authorization header names no credential (expected AWS4-HMAC-SHA256 Credential=<user>/...).');
}

/** The user a request acts as. */
export function simpleIdentity(headers: IncomingHttpHeaders, query: URLSearchParams, defaultUser: string): string {
  const authorization = headers.authorization;
  if (authorization !== undefined && authorization.trim() !== '') return accessKeyOfHeader(authorization);
  const credential = query.get('X-Amz-Credential');
  if (credential) {
    const user = credential.split('/')[0];
    if (user) return user;
  }
  const v2Key = query.get('AWSAccessKeyId');
  if (v2Key) return v2Key;
  return defaultUser;
}
