// Writing responses: XML documents, empty answers, and the S3 error document.
import type { ServerResponse } from 'node:http';
import type { S3Error } from '../errors';
import { xmlDocument, type XmlNode } from './xml';

/** Sends a whole XML document; `content` is its root's children, or the root's text. */
export function sendXml(res: ServerResponse, status: number, root: string, content: XmlNode[] | string): void {
  const body = xmlDocument(root, content);
  res.writeHead(status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

export function errorDocument(error: S3Error, resource: string, requestId: string): string {
  return xmlDocument(
    'Error',
    [
      ['Code', error.code],
      ['Message', error.message],
      ...Object.entries(error.fields),
      ['Resource', resource],
      ['RequestId', requestId],
    ],
    null,
  );
}

export function sendError(res: ServerResponse, error: S3Error, resource: string, requestId: string, withBody: boolean): void {
  const body = withBody && error.status !== 304 ? errorDocument(error, resource, requestId) : '';
  const headers: Record<string, string | number> = { ...error.headers };
  if (body !== '') {
    headers['Content-Type'] = 'application/xml';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  res.writeHead(error.status, headers);
  res.end(body);
}

/** Sets a header from stored data, skipping values Node refuses rather than failing the request. */
export function setSafeHeader(res: ServerResponse, name: string, value: string): void {
  try {
    res.setHeader(name, value);
  } catch {
    // a value with characters HTTP cannot carry: omitted
  }
}
