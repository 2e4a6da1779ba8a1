// The HTTP engine: node:http with timeouts fit for large transfers, a request id and an access
// log line per request, and the one place where failures become S3 error documents. What a
// request means is the handler's business (s3/dispatch.ts).
import { randomBytes } from 'node:crypto';
import {
  STATUS_CODES,
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions as NodeServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { S3Error, toS3Error } from '../errors';
import { errorDocument, sendError } from './respond';
import { splitUrl } from './url';

const ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let requestCounter = 0;

function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x100000000;
  return ID_PREFIX + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

/** One request being answered. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  /** The request's path as sent: the Resource of its error document. */
  rawPath: string;
  /** What the access log says beyond method, path, status and time; the handler fills it in. */
  log: { user: string; action: string };
  /**
   * The client sent Expect: 100-continue and waits before sending its body: the handler decides
   * whether to let it (res.writeContinue(), before reading the body) or to answer at once.
   */
  expectsContinue: boolean;
}

/** Answers a request; a failure it throws is answered with the S3 error document. */
export type RequestHandler = (exchange: Exchange) => Promise<void>;

export interface ServerOptions {
  /** Bound on the arrival of a request's headers (slow clients). */
  headersTimeoutMs: number;
  /** One line per request on stdout. */
  accessLog: boolean;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
}

export type HttpServer = Server | HttpsServer;

/** A socket with no traffic for this long is closed (a body that stalls fails sooner: --body-timeout). */
const IDLE_SOCKET_MS = 300_000;

const log = (line: string): void => void process.stdout.write(`${line}\n`);

export function createHttpServer(handler: RequestHandler, options: ServerOptions): HttpServer {
  const tls = options.tls;
  const create = tls ? (o: NodeServerOptions, h: RequestListener) => createHttpsServer({ ...o, ...tls }, h) : createServer;
  const server = create(
    {
      // Large uploads take as long as they take: no whole-request deadline (Node's 5 min would
      // kill them); slow headers and idle sockets are bounded instead.
      requestTimeout: 0,
      headersTimeout: options.headersTimeoutMs,
      // How often Node looks for connections past headersTimeout (30 s by default, which would
      // let a client that never finishes its headers hold a socket for up to 90 s).
      connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
      keepAliveTimeout: 65_000,
    },
    (req, res) => void handle(handler, options, req, res),
  );
  server.timeout = IDLE_SOCKET_MS;
  // Expect: 100-continue is the handler's to answer (Node would send 100 Continue at once).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void handle(handler, options, req, res, true));
  // Node answers an Expect other than 100-continue with 417 unless told otherwise; S3 clients
  // expect the request to proceed.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => void handle(handler, options, req, res));
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
        `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
          `x-amz-request-id: ${requestId}\r\nx-amz-id-2: ${requestId}\r\nServer: sluice\r\n` +
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
    if (options.accessLog) {
      log(`${new Date().toISOString()} - - ${error.status} ${Buffer.byteLength(body)} 0.0ms ${requestId} - ${err.code ?? 'clientError'}`);
    }
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

async function handle(
  handler: RequestHandler,
  options: ServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  expectsContinue = false,
): Promise<void> {
  const started = process.hrtime.bigint();
  const requestId = nextRequestId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  res.setHeader('Server', 'sluice');
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  let rawPath = url;
  try {
    rawPath = splitUrl(url).rawPath;
  } catch {
    // not a target we can split: the handler reports it; the log shows it as sent
  }
  const exchange: Exchange = { req, res, requestId, rawPath, log: { user: '-', action: '-' }, expectsContinue };
  if (options.accessLog) {
    res.once('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const bytes = res.getHeader('content-length') ?? '-';
      const status = res.headersSent ? res.statusCode : 0;
      log(
        `${new Date().toISOString()} ${method} ${rawPath} ${status} ${bytes} ${ms.toFixed(1)}ms ${requestId} ` +
          `${exchange.log.user} ${exchange.log.action}`,
      );
    });
  }
  try {
    await handler(exchange);
  } catch (err) {
    fail(err, req, res, rawPath, requestId, method);
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
