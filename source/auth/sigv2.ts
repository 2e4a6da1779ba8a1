// AWS Signature Version 2, still what boto3 and the aws cli use by default for presigned S3 URLs
// (`?AWSAccessKeyId=&Signature=&Expires=`) and what older tools send as `Authorization: AWS key:sig`.
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../http/errors';
import { signaturesEqual, type SignedRequest } from './sigv4';

const MAX_SKEW_MS = 15 * 60 * 1000;

/** Sub-resources that are part of the string to sign (the S3 list). */
const SIGNED_SUBRESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy',
  'requestPayment', 'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires', 'restore', 'tagging', 'torrent',
  'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
]);

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim();
}

export function stringToSignV2(request: SignedRequest, dateOrExpires: string): string {
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
  const resource = request.rawPath + (subresources.length > 0 ? `?${subresources.join('&')}` : '');
  return [request.method, header(request.headers, 'content-md5'), header(request.headers, 'content-type'), dateOrExpires, amz + resource].join('\n');
}

function sign(secretKey: string, text: string): string {
  return createHmac('sha1', secretKey).update(text, 'utf8').digest('base64');
}

/** The access key of a SigV2 request (header or query), if it is one. */
export function claimedAccessKeyV2(request: SignedRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) return /^AWS ([^:\s]+):/.exec(authorization)?.[1];
  return request.query.get('AWSAccessKeyId') ?? undefined;
}

export function verifySignatureV2(request: SignedRequest, secretKey: string, now = Date.now()): void {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const signature = /^AWS [^:\s]+:(\S+)$/.exec(authorization)?.[1];
    if (!signature) throw new S3Error('AuthorizationHeaderMalformed');
    // With x-amz-date the Date line is empty: the date is signed among the x-amz- headers.
    const date = request.headers['x-amz-date'] !== undefined ? '' : header(request.headers, 'date');
    const time = Date.parse(header(request.headers, 'x-amz-date') || date);
    if (Number.isNaN(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now - time) > MAX_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
    if (!signaturesEqual(sign(secretKey, stringToSignV2(request, date)), signature)) throw new S3Error('SignatureDoesNotMatch');
    return;
  }
  const signature = request.query.get('Signature');
  const expires = request.query.get('Expires');
  if (!signature || !expires || !/^\d+$/.test(expires)) throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  if (now > Number(expires) * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  if (!signaturesEqual(sign(secretKey, stringToSignV2(request, expires)), signature)) throw new S3Error('SignatureDoesNotMatch');
}
