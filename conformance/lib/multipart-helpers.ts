// Helpers of the multipart and DeleteObjects suites: raw S3 multipart calls, the multipart ETag
// computed independently of the server, file-streaming uploads and responses observed over time
// (for the CompleteMultipartUpload keep-alive).
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { Test } from 'tap';
import { errorCode, objectPath, s3, simpleAuth, tempDir, writeRandomFile, xmlValue, type RawResponse, type Sluice } from './harness';

export const MiB = 1024 * 1024;

/** The multipart ETag from the parts' hex MD5s: MD5 of their binary concatenation, then `-N`. */
export function multipartETag(partMd5s: string[]): string {
  const hash = createHash('md5');
  for (const md5 of partMd5s) hash.update(Buffer.from(md5, 'hex'));
  return `${hash.digest('hex')}-${partMd5s.length}`;
}

/** The hex MD5 of each `partSize` slice of a file, read as a stream. */
export async function partMd5sOfFile(path: string, partSize: number): Promise<string[]> {
  const md5s: string[] = [];
  let hash = createHash('md5');
  let filled = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(partSize - filled, chunk.length - offset);
      hash.update(chunk.subarray(offset, offset + take));
      filled += take;
      offset += take;
      if (filled === partSize) {
        md5s.push(hash.digest('hex'));
        hash = createHash('md5');
        filled = 0;
      }
    }
  }
  if (filled > 0) md5s.push(hash.digest('hex'));
  return md5s;
}

export interface RandomFile {
  /** The temp dir holding the file (removed when the test ends), for the files a test adds. */
  dir: string;
  path: string;
  md5: string;
  /** The hex MD5 of each part, for the size of part asked for. */
  partMd5s: string[];
}

/** A file of `size` random bytes, written a chunk at a time, with its MD5 and its parts' MD5s. */
export async function randomFile(t: Test, size: number, partSize: number): Promise<RandomFile> {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'in.bin');
  const md5 = await writeRandomFile(path, size);
  return { dir, path, md5, partMd5s: await partMd5sOfFile(path, partSize) };
}

/** Random-looking but reproducible bytes: part `seed` of a test, cheap to rebuild for comparison. */
export function patternBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

export function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function must(res: RawResponse, what: string, status = 200): RawResponse {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res;
}

export async function createUpload(server: Sluice, bucket: string, key: string, headers: Record<string, string> = {}): Promise<string> {
  const res = must(await s3(server, 'POST', `${objectPath(bucket, key)}?uploads`, { headers }), `CreateMultipartUpload ${key}`);
  const id = xmlValue(res.text, 'UploadId');
  if (!id) throw new Error(`no UploadId in ${res.text}`);
  return id;
}

export function partPath(bucket: string, key: string, uploadId: string, partNumber: number | string): string {
  return `${objectPath(bucket, key)}?partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`;
}

/** UploadPart from memory; the raw response (status not checked). */
export function putPart(server: Sluice, bucket: string, key: string, uploadId: string, partNumber: number | string, body: Buffer): Promise<RawResponse> {
  return s3(server, 'PUT', partPath(bucket, key, uploadId, partNumber), { body });
}

/** UploadPart that must succeed; returns the part's ETag without quotes. */
export async function uploadPart(server: Sluice, bucket: string, key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
  const res = must(await putPart(server, bucket, key, uploadId, partNumber, body), `UploadPart ${partNumber}`);
  return String(res.headers.etag).replace(/"/g, '');
}

export interface CompletePart {
  partNumber: number;
  etag?: string;
}

export function completeXml(parts: CompletePart[]): string {
  const items = parts
    .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber>${p.etag !== undefined ? `<ETag>"${p.etag}"</ETag>` : ''}</Part>`)
    .join('');
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${items}</CompleteMultipartUpload>`;
}

/** CompleteMultipartUpload; the raw response (status not checked). */
export function complete(server: Sluice, bucket: string, key: string, uploadId: string, body: CompletePart[] | string): Promise<RawResponse> {
  const xml = typeof body === 'string' ? body : completeXml(body);
  return s3(server, 'POST', `${objectPath(bucket, key)}?uploadId=${encodeURIComponent(uploadId)}`, { body: xml });
}

/**
 * The S3 code of a response: of an error status, or of an Error document in a 200 body (the
 * form a CompleteMultipartUpload failure takes once its keep-alive started).
 */
export function s3Code(res: RawResponse): string | undefined {
  if (res.status !== 200) return errorCode(res) ?? `HTTP ${res.status}`;
  return /<Error>/.test(res.text) ? errorCode(res) : undefined;
}

/** Uploads `length` bytes of a file from `start` as one part, streamed (never whole in memory). */
export function uploadPartFromFile(
  server: Sluice,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  file: string,
  start: number,
  length: number,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: partPath(bucket, key, uploadId, partNumber),
        headers: { Authorization: simpleAuth(), 'Content-Length': length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const source = createReadStream(file, { start, end: start + length - 1, highWaterMark: 1 << 20 });
    source.on('error', reject);
    source.pipe(req);
  });
}

export interface TimedResponse extends RawResponse {
  /** ms from sending the request to the arrival of the status line and headers. */
  headersAt: number;
  /** ms from sending the request to the end of the body. */
  endAt: number;
  /** Body chunks with their arrival time (ms since the request was sent). */
  chunks: { at: number; text: string }[];
}

/** A request whose response is observed as it arrives: when the header came, when each chunk did. */
export function timedRequest(server: Sluice, method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        headers: { Authorization: simpleAuth(), 'Content-Length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const headersAt = performance.now() - sent;
        const chunks: { at: number; text: string }[] = [];
        const buffers: Buffer[] = [];
        res.on('data', (d: Buffer) => {
          buffers.push(d);
          chunks.push({ at: performance.now() - sent, text: d.toString('utf8') });
        });
        res.on('end', () => {
          const all = Buffer.concat(buffers);
          const headersOut: IncomingHttpHeaders = res.headers;
          resolve({ status: res.statusCode ?? 0, headers: headersOut, body: all, text: all.toString('utf8'), headersAt, endAt: performance.now() - sent, chunks });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `count` tasks at most `width` at a time. */
export async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      for (let i = next++; i < count; i = next++) results[i] = await task(i);
    }),
  );
  return results;
}
