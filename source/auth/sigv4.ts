// AWS Signature Version 4 for S3: the Authorization header and presigned URLs. The canonical
// request is rebuilt from the request exactly as it arrived; signatures are compared in
// constant time. Streaming chunk signatures are in chunk-signatures.ts.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors';
import { headerValue } from '../http/headers';
import { MAX_CLOCK_SKEW_MS, type SignedRequest } from './request';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_PRESIGNED_EXPIRES = 7 * 24 * 3600;

export interface SigningScope {
  accessKey: string;
  date: string; // yyyymmdd
  region: string;
  service: string;
}

/** What a verified request proved, for whoever checks its payload afterwards. */
export interface VerifiedSignature {
  accessKey: string;
  signature: string;
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  /** x-amz-content-sha256 (or UNSIGNED-PAYLOAD for presigned URLs). */
  payloadHash: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secretKey: string, scope: SigningScope): Buffer {
  const dateKey = hmac(`AWS4${secretKey}`, scope.date);
  return hmac(hmac(hmac(dateKey, scope.region), scope.service), 'aws4_request');
}

export function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** AWS's UriEncode: everything but unreserved characters, `/` kept when encoding a path. */
export function uriEncode(text: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(ch) || (keepSlash && ch === '/')) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The canonical URI: each raw path segment decoded once and re-encoded (S3 does not double-encode). */
export function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(safeDecode(segment), false))
    .join('/');
}

/** The canonical query string from the raw query, without `X-Amz-Signature`. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = safeDecode(eq >= 0 ? part.slice(0, eq) : part);
    const value = eq >= 0 ? safeDecode(part.slice(eq + 1)) : '';
    if (name === 'X-Amz-Signature') continue;
    pairs.push([uriEncode(name, false), uriEncode(value, false)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** A header's canonical value: trimmed, inner runs of blanks as one space. */
function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  return headerValue(headers, name)?.trim().replace(/\s+/g, ' ');
}

export function canonicalRequest(
  method: string,
  rawPath: string,
  rawQuery: string,
  headers: IncomingHttpHeaders,
  signedHeaders: string[],
  payloadHash: string,
): string {
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerText(headers, name) ?? ''}\n`).join('');
  return [method, canonicalUri(rawPath), canonicalQuery(rawQuery), canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
}

/**
 * The canonical request is hashed as the bytes the client signed. Node gives header values as
 * latin1 strings (one character per byte as received), and everything else in it is ASCII, so
 * latin1 turns it back into exactly those bytes: a UTF-8 metadata value is signed as sent.
 */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(Buffer.from(canonical, 'latin1'))].join('\n');
}

export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

interface ParsedCredential extends SigningScope {
  scope: string;
}

function parseCredential(text: string): ParsedCredential {
  const parts = text.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      `The credential "${text}" is malformed; expected "<key>/<date>/<region>/<service>/aws4_request".`,
    );
  }
  const [accessKey, date, region, service] = parts as [string, string, string, string, string];
  return { accessKey, date, region, service, scope: parts.slice(1).join('/') };
}

/** `20130524T000000Z` → milliseconds. */
export function parseAmzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * Verifies a SigV4-signed request (header or presigned URL) against `secretKey`; throws the S3
 * error a client should see, or returns what the payload must still be checked against.
 */
export function verifySignature(request: SignedRequest, secretKey: string, now = Date.now()): VerifiedSignature {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) return verifyHeader(request, authorization, secretKey, now);
  if (request.query.get('X-Amz-Algorithm') !== null) return verifyPresigned(request, secretKey, now);
  throw new S3Error('AccessDenied', 'Anonymous requests are not allowed: sign the request with AWS Signature Version 4.');
}

function verifyHeader(request: SignedRequest, authorization: string, secretKey: string, now: number): VerifiedSignature {
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    throw new S3Error('AuthorizationHeaderMalformed', `Only ${ALGORITHM} (Signature Version 4) is supported.`);
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credentialText = fields.get('Credential');
  const signedHeadersText = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credentialText || !signedHeadersText || !signature) {
    throw new S3Error('AuthorizationHeaderMalformed', 'The Authorization header must name Credential, SignedHeaders and Signature.');
  }
  const credential = parseCredential(credentialText);
  const amzDate = headerText(request.headers, 'x-amz-date');
  const time = amzDate !== undefined ? parseAmzDate(amzDate) : Date.parse(headerText(request.headers, 'date') ?? '');
  if (Number.isNaN(time)) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(now - time) > MAX_CLOCK_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
  const payloadHash = headerText(request.headers, 'x-amz-content-sha256');
  if (payloadHash === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  const signedHeaders = signedHeadersText.split(';');
  if (!signedHeaders.includes('host')) throw new S3Error('AuthorizationHeaderMalformed', 'The host header must be signed.');
  const dateText = amzDate ?? new Date(time).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const canonical = canonicalRequest(request.method, request.rawPath, request.rawQuery, request.headers, signedHeaders, payloadHash);
  const key = signingKey(secretKey, credential);
  const expected = hmacHex(key, stringToSign(dateText, credential.scope, canonical));
  if (!signaturesEqual(expected, signature)) throw new S3Error('SignatureDoesNotMatch');
  return { accessKey: credential.accessKey, signature, signingKey: key, amzDate: dateText, scope: credential.scope, payloadHash };
}

function verifyPresigned(request: SignedRequest, secretKey: string, now: number): VerifiedSignature {
  const q = request.query;
  if (q.get('X-Amz-Algorithm') !== ALGORITHM)
    throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Algorithm must be ${ALGORITHM}.`);
  const credentialText = q.get('X-Amz-Credential');
  const amzDate = q.get('X-Amz-Date');
  const expiresText = q.get('X-Amz-Expires');
  const signedHeadersText = q.get('X-Amz-SignedHeaders');
  const signature = q.get('X-Amz-Signature');
  if (!credentialText || !amzDate || !expiresText || !signedHeadersText || !signature) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Presigned URLs must carry X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.',
    );
  }
  const credential = parseCredential(credentialText);
  const time = parseAmzDate(amzDate);
  const expires = Number(expiresText);
  if (!/^\d+$/.test(expiresText) || expires < 1 || expires > MAX_PRESIGNED_EXPIRES) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be from 1 to 604800 seconds (7 days).');
  }
  if (now > time + expires * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  if (time - now > MAX_CLOCK_SKEW_MS) throw new S3Error('RequestTimeTooSkewed');
  const payloadHash = headerText(request.headers, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonical = canonicalRequest(
    request.method,
    request.rawPath,
    request.rawQuery,
    request.headers,
    signedHeadersText.split(';'),
    payloadHash,
  );
  const key = signingKey(secretKey, credential);
  const expected = hmacHex(key, stringToSign(amzDate, credential.scope, canonical));
  if (!signaturesEqual(expected, signature)) throw new S3Error('SignatureDoesNotMatch');
  return { accessKey: credential.accessKey, signature, signingKey: key, amzDate, scope: credential.scope, payloadHash };
}
