// The HTTP engine: node:http with timeouts fit for large transfers, a request id and an access
// log line per request, routing, and the one place where failures become S3 error documents.
import { randomBytes } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions as ServerOptionsHttp, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { requireBucketAccess, type Identity } from '../auth/authenticator';
import { parseBucketName, type BucketName } from '../namespace';
import { parseCopySource } from '../s3/copy';
import type { RequestContext, Services } from './context';
import { S3Error, toS3Error } from './errors';
import { errorDocument, sendError } from './respond';
import { resolveRoute } from './router';
import { parseTarget, type RequestTarget } from './target';

const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let requestCounter = 0;

function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x100000000;
  return ID_PREFIX + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

export interface ServerOptions {
  /** Bound on the arrival of a request's headers (slow clients). */
  headersTimeoutMs?: number;
  /** A socket with no traffic for this long is closed. */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer };
}

export type S3Server = Server | HttpsServer;

export function createS3Server(services: Services, options: ServerOptions = {}): S3Server {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const create = options.tls ? (o: ServerOptionsHttp, h: RequestListener) => createHttpsServer({ ...o, ...options.tls }, h) : createServer;
  const server = create(
    {
      // Large uploads take as long as they take: no whole-request deadline (Node's 5 min would
      // kill them); slow headers and idle sockets are bounded instead.
      requestTimeout: 0,
      headersTimeout: options.headersTimeoutMs ?? 60_000,
      // How often Node looks for connections past headersTimeout (30 s by default, which would
      // let a client that never finishes its headers hold a socket for up to 90 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs ?? 1000),
      keepAliveTimeout: 65_000,
    },
    (req, res) => void handle(services, req, res, log),
  );
  server.timeout = options.idleTimeoutMs ?? 300_000;
  // Node answers an Expect other than 100-continue with 417 unless told otherwise; S3 clients expect the request to proceed.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => void handle(services, req, res, log));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // Requests Node could not parse never reach `handle`: they still get an S3 error document
    // and a request id, like every other answer.
    const requestId = nextRequestId();
    const error = clientErrorOf(err);
    const body = errorDocument(error, '/', requestId);
    const answer = (): void => {
      socket.end(
        `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\nx-amz-request-id: ${requestId}\r\nx-amz-id-2: ${requestId}\r\nServer: sluice\r\n` +
          `Content-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    // Bytes after a request's body that are no request (a body longer than its Content-Length)
    // fail to parse while that request is still being answered: answer it first, then refuse.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableFinished && inFlight.req.complete) {
      inFlight.once('finish', answer);
      inFlight.once('close', () => {
        if (!inFlight.writableFinished) socket.destroy(); // the answer never completed: nothing to add
      });
    } else {
      answer();
    }
    if (services.config.accessLog) log(`${new Date().toISOString()} - - ${error.status} ${Buffer.byteLength(body)} 0.0ms ${requestId} - ${err.code ?? 'clientError'}`);
  });
  return server;
}

function clientErrorOf(err: NodeJS.ErrnoException): S3Error {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new S3Error('RequestHeaderSectionTooLarge');
    case 'HPE_INVALID_EOF_STATE':
      // The client ended its side in the middle of a body: fewer bytes than it announced.
      return new S3Error('IncompleteBody');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new S3Error('RequestTimeout');
    default:
      return new S3Error('InvalidRequest', 'The request is not valid HTTP/1.1.');
  }
}

async function handle(services: Services, req: IncomingMessage, res: ServerResponse, log: (line: string) => void): Promise<void> {
  const started = process.hrtime.bigint();
  const requestId = nextRequestId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  res.setHeader('Server', 'sluice');
  const method = req.method ?? 'GET';
  let user = '-';
  let target: RequestTarget | undefined;
  let action = '-';

  if (services.config.accessLog) {
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const bytes = res.getHeader('content-length') ?? '-';
      const status = res.headersSent ? res.statusCode : 0;
      log(`${new Date().toISOString()} ${method} ${target?.rawPath ?? req.url} ${status} ${bytes} ${ms.toFixed(1)}ms ${requestId} ${user} ${action}`);
    });
  }

  try {
    target = parseTarget(req.url ?? '/', services.config.basePath);
    const identity = services.auth.authenticate(req, target);
    user = identity.user;
    const route = resolveRoute(method, target, req.headers['x-amz-copy-source'] !== undefined);
    action = route.action;
    if (services.auth.enforcesOwnership) await authorize(services, identity, target, route.action, req.headers['x-amz-copy-source']);
    const ctx: RequestContext = { req, res, requestId, user, identity, target, services };
    await route.handler(ctx);
  } catch (err) {
    fail(err, req, res, target?.rawPath ?? req.url ?? '/', requestId, method);
  }
}

/**
 * In SigV4 mode buckets belong to their creators: the bucket of the request and the bucket of a
 * copy source must be the caller's (or the caller an admin) before any handler touches storage.
 */
async function authorize(services: Services, identity: Identity, target: RequestTarget, action: string, copySource: string | string[] | undefined): Promise<void> {
  const buckets: BucketName[] = [];
  if (target.bucket !== undefined && action !== 'CreateBucket') {
    try {
      buckets.push(parseBucketName(target.bucket));
    } catch {
      // the handler reports the invalid name
    }
  }
  if (typeof copySource === 'string') {
    try {
      buckets.push(parseCopySource(copySource).bucket);
    } catch {
      // the handler reports the malformed header
    }
  }
  for (const bucket of buckets) {
    const info = await services.namespace.buckets.info(bucket).catch(() => undefined);
    if (info) requireBucketAccess(identity, info.owner, bucket);
  }
}

function fail(err: unknown, req: IncomingMessage, res: ServerResponse, resource: string, requestId: string, method: string): void {
  const error = toS3Error(err);
  if (!(err instanceof S3Error) && !isClientGone(err)) {
    process.stderr.write(`[${requestId}] ${method} ${resource}: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  if (res.headersSent || res.destroyed) {
    // Mid-stream: the status is out, so the only honest signal left is a broken connection.
    res.destroy();
    return;
  }
  // Stop reading a body we will not use; the connection closes after the error is sent.
  if (!req.complete) res.setHeader('Connection', 'close');
  for (const name of res.getHeaderNames()) {
    if (!['x-amz-request-id', 'x-amz-id-2', 'server', 'connection'].includes(name)) res.removeHeader(name);
  }
  sendError(res, error, resource, requestId, method !== 'HEAD');
}

function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}
