// AWS Signature Version 2, still what boto3 and the aws cli use by default for presigned S3 URLs
// (`?AWSAccessKeyId=&Signature=&Expires=`) and what older tools send as `Authorization: AWS key:sig`.
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors';
import { headerValue } from '../http/headers';
import { MAX_CLOCK_SKEW_MS, type SignedRequest } from './request';
import { signaturesEqual } from './sigv4';

/** Sub-resources that are part of the string to sign (the S3 list). */
const SIGNED_SUBRESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy',
  'requestPayment', 'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires', 'restore', 'tagging', 'torrent',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
]);

function header(headers: IncomingHttpHeaders, name: string): string {
  return headerValue(headers, name)?.trim() ?? '';
}

export function stringToSignV2(request: SignedRequest, dateOrExpires: string, resourcePath = request.rawPath): string {
  const amz = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-amz-'))
    .sort()
    .map((name) => `${name}:${header(request.headers, name).replace(/\s+/g, ' ')}\n`)
    .join('');
  const subresources = request.rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = decodeURIComponent(eq >= 0 ? part.slice(0, eq) : part);
      const value = eq >= 0 ? decodeURIComponent(part.slice(eq + 1)) : undefined;
      return { name, value };
    })
    .filter(({ name }) => SIGNED_SUBRESOURCES.has(name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, value }) => (value === undefined ? name : `${name}=${value}`));
  const resource = resourcePath + (subresources.length > 0 ? `?${subresources.join('&')}` : '');
  const { headers } = request;
  return [request.method, header(headers, 'content-md5'), header(headers, 'content-type'), dateOrExpires, amz + resource].join('\n');
}

/** Signed as the bytes the client signed: header values arrive as latin1 strings (see sigv4.ts stringToSign). */
function sign(secretKey: string, text: string): string {
  return createHmac('sha1', secretKey).update(text, 'latin1').digest('base64');
}

/**
 * The resources a client may have signed: the path as sent, and (under the base path) the path
 * after it, which is what botocore signs for an endpoint like http://host/api/v1/s3/.
 */
function signedResources(request: SignedRequest): string[] {
  const base = request.basePath;
  const inside = base !== undefined && base !== '' && request.rawPath.startsWith(`${base}/`);
  return inside ? [request.rawPath, request.rawPath.slice(base.length)] : [request.rawPath];
}

function matches(request: SignedRequest, secretKey: string, dateOrExpires: string, signature: string): boolean {
  return signedResources(request).some((path) => signaturesEqual(sign(secretKey, stringToSignV2(request, dateOrExpires, path)), signature));
}

export function verifySignatureV2(request: SignedRequest, secretKey: string, now = Date.now()): void {
  const authorization = header(request.headers, 'authorization');
  if (authorization !== '') {
    const signature = /^AWS\s+[^:\s]+:(\S+)$/.exec(authorization)?.[1];
    if (!signature) throw new S3Error('AuthorizationHeaderMalformed');
    // With x-amz-date the Date line is empty: the date is signed among the x-amz- headers.
    const date = request.headers['x-amz-date'] !== undefined ? '' : header(request.headers, 'date');
    const time = Date.parse(header(request.headers, 'x-amz-date') || date);
    if (Number.isNaN(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now - time) > MAX_CLOCK_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
    if (!matches(request, secretKey, date, signature)) throw new S3Error('SignatureDoesNotMatch');
    return;
  }
  const signature = request.query.get('Signature');
  const expires = request.query.get('Expires');
  if (!signature || !expires || !/^\d+$/.test(expires)) {
    throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (now > Number(expires) * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  if (!matches(request, secretKey, expires, signature)) throw new S3Error('SignatureDoesNotMatch');
}
