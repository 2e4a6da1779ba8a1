// The HTTP engine: node:http with timeouts fit for large transfers, a request id, an access log
// line and the request metrics per request, the ops endpoints (ops.ts), a graceful shutdown, and
// the one place where failures become S3 error documents. What a request means is the handler's
// business (s3/dispatch.ts).
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
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { S3Error, toS3Error } from '../errors';
import { log as logMessage } from '../log';
import { counter, gauge, histogram } from '../metrics';
import { OPS_ACTIONS, opsEndpoint, serveOps, type OpsSource } from './ops';
import { errorDocument, sendError } from './respond';
import { splitUrl } from './url';

const requestsTotal = counter('sluice_requests_total', 'Requests answered, by S3 action and HTTP status (0: none sent)', [
  'action',
  'status',
]);
const requestSeconds = histogram('sluice_request_duration_seconds', 'Time from request to the end of its answer, by S3 action', ['action']);
const receivedBytes = counter('sluice_received_bytes_total', 'Bytes received on client connections (headers and bodies)');
const sentBytes = counter('sluice_sent_bytes_total', 'Bytes sent on client connections (headers and bodies)');
const inFlightRequests = gauge('sluice_requests_in_flight', 'Requests being answered');

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
  log: { user: string; action: string; bucket?: string | undefined; key?: string | undefined };
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
  /** One line per request on stdout: text (fields separated by spaces), JSON, or none. */
  accessLog: 'text' | 'json' | 'off';
  /** PEM certificate and key: HTTPS instead of HTTP. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Serve /-/health, /-/ready and /-/metrics (at `/` and under `basePath`) from this source. */
  ops?: { source: OpsSource; basePath: string } | undefined;
}

export type HttpServer = Server | HttpsServer;

/** The server, and what its process needs to stop it. */
export interface HttpService {
  server: HttpServer;
  /** Requests being answered (their handler not yet settled, or their answer not yet closed). */
  inFlight(): number;
  /** True once a shutdown began: readiness is lost and connections close after their answer. */
  readonly draining: boolean;
  /**
   * Stops accepting and lets the requests in flight finish for up to `timeoutMs`; those left are
   * then aborted (their connections destroyed, so their writes clean up after themselves). Resolves
   * once every handler has settled (bounded by a few seconds more), saying whether any was aborted.
   */
  shutdown(timeoutMs: number): Promise<{ aborted: number }>;
}

/** The state of one server's requests. */
interface Requests {
  options: ServerOptions;
  count: number;
  draining: boolean;
  /** Called when the count falls to 0 while draining. */
  idle: (() => void) | undefined;
}

/** Aborted requests get this long to settle (remove their temp files) before the process goes on. */
const ABORT_SETTLE_MS = 5_000;

const NO_ACTION = '-';
/** Bytes of a connection already counted in the metrics. */
const COUNTED_READ = Symbol('countedRead');
const COUNTED_WRITTEN = Symbol('countedWritten');
type CountedSocket = Socket & { [COUNTED_READ]?: number; [COUNTED_WRITTEN]?: number };

/** Adds what a connection carried since it was last counted. */
function countBytes(socket: CountedSocket | null | undefined): void {
  if (!socket) return;
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  receivedBytes.inc(read - (socket[COUNTED_READ] ?? 0));
  sentBytes.inc(written - (socket[COUNTED_WRITTEN] ?? 0));
  socket[COUNTED_READ] = read;
  socket[COUNTED_WRITTEN] = written;
}

function onConnectionClose(this: CountedSocket): void {
  countBytes(this);
}

/** A socket with no traffic for this long is closed (a body that stalls fails sooner: --body-timeout). */
const IDLE_SOCKET_MS = 300_000;

const log = (line: string): void => void process.stdout.write(`${line}\n`);

export function createHttpServer(handler: RequestHandler, options: ServerOptions): HttpService {
  const tls = options.tls;
  const requests: Requests = { options, count: 0, draining: false, idle: undefined };
  // node:https (and the TLS code beneath it) is loaded only when it serves: a few MB of memory.
  const create = tls
    ? (o: NodeServerOptions, h: RequestListener) => (require('node:https') as typeof import('node:https')).createServer({ ...o, ...tls }, h)
    : createServer;
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
    (req, res) => void handle(handler, requests, req, res),
  );
  server.timeout = IDLE_SOCKET_MS;
  // Expect: 100-continue is the handler's to answer (Node would send 100 Continue at once).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void handle(handler, requests, req, res, true));
  // Node answers an Expect other than 100-continue with 417 unless told otherwise; S3 clients
  // expect the request to proceed.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => void handle(handler, requests, req, res));
  // The socket requests arrive on (for HTTPS the TLS socket, not the TCP one beneath).
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => socket.on('close', onConnectionClose));
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
    requestsTotal.labels(NO_ACTION, error.status).inc();
    if (options.accessLog === 'text') {
      log(`${new Date().toISOString()} - - ${error.status} ${Buffer.byteLength(body)} 0.0ms ${requestId} - ${err.code ?? 'clientError'}`);
    } else if (options.accessLog === 'json') {
      const time = new Date().toISOString();
      log(JSON.stringify({ time, requestId, status: error.status, bytesSent: Buffer.byteLength(body), error: err.code }));
    }
  });
  return {
    server,
    inFlight: () => requests.count,
    get draining() {
      return requests.draining;
    },
    shutdown: (timeoutMs) => shutdown(server, requests, timeoutMs),
  };
}

async function shutdown(server: HttpServer, requests: Requests, timeoutMs: number): Promise<{ aborted: number }> {
  requests.draining = true;
  server.close();
  // Keep-alive connections go as soon as they are idle: at once, and as each answer ends.
  server.closeIdleConnections();
  const idler = setInterval(() => server.closeIdleConnections(), 100);
  const settled = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (requests.count === 0) return resolve(true);
      const timer = setTimeout(() => resolve(requests.count === 0), ms);
      requests.idle = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  try {
    if (await settled(timeoutMs)) return { aborted: 0 };
    const aborted = requests.count;
    server.closeAllConnections();
    await settled(ABORT_SETTLE_MS);
    return { aborted };
  } finally {
    clearInterval(idler);
    requests.idle = undefined;
  }
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
  requests: Requests,
  req: IncomingMessage,
  res: ServerResponse,
  expectsContinue = false,
): Promise<void> {
  const options = requests.options;
  const started = performance.now();
  const requestId = nextRequestId();
  requests.count++;
  inFlightRequests.inc();
  if (requests.draining) res.setHeader('Connection', 'close');
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
  const exchange: Exchange = { req, res, requestId, rawPath, log: { user: '-', action: NO_ACTION }, expectsContinue };
  // A request is done when its handler has settled and its answer is closed, in either order.
  let pending = 2;
  res.once('close', () => {
    const seconds = (performance.now() - started) / 1000;
    const status = res.headersSent ? res.statusCode : 0;
    const action = exchange.log.action;
    countBytes(req.socket);
    requestsTotal.labels(action, status).inc();
    requestSeconds.labels(action).observe(seconds);
    if (options.accessLog !== 'off') accessLog(options.accessLog, exchange, method, status, seconds);
    if (--pending === 0) settled(requests);
  });
  try {
    const endpoint = options.ops ? opsEndpoint(rawPath, options.ops.basePath) : undefined;
    if (endpoint !== undefined) {
      exchange.log.action = OPS_ACTIONS[endpoint];
      await serveOps(req, res, endpoint, options.ops!.source);
    } else {
      await handler(exchange);
    }
  } catch (err) {
    fail(err, req, res, rawPath, requestId, method);
  } finally {
    if (--pending === 0) settled(requests);
  }
}

function settled(requests: Requests): void {
  requests.count--;
  inFlightRequests.dec();
  if (requests.count === 0 && requests.draining) requests.idle?.();
}

/**
 * The access log line. Bytes sent: the Content-Length of the answer (0 for HEAD, which sends
 * none); for an answer without one (chunked), `-` in text, null in JSON.
 */
function accessLog(format: 'text' | 'json', exchange: Exchange, method: string, status: number, seconds: number): void {
  const { res, requestId, rawPath } = exchange;
  const length = res.getHeader('content-length');
  const bytes = method === 'HEAD' ? 0 : length === undefined ? undefined : Number(length);
  const time = new Date().toISOString();
  const ms = seconds * 1000;
  const { user, action, bucket, key } = exchange.log;
  if (format === 'text') {
    log(`${time} ${method} ${rawPath} ${status} ${bytes ?? '-'} ${ms.toFixed(1)}ms ${requestId} ${user} ${action}`);
    return;
  }
  const record = {
    time,
    requestId,
    user,
    action,
    bucket: bucket ?? null,
    key: key ?? null,
    method,
    path: rawPath,
    status,
    bytesSent: bytes ?? null,
    durationMs: Math.round(ms * 10) / 10,
  };
  log(JSON.stringify(record));
}

function fail(err: unknown, req: IncomingMessage, res: ServerResponse, resource: string, requestId: string, method: string): void {
  const error = toS3Error(err);
  if (!(err instanceof S3Error) && !isClientGone(err)) {
    logMessage.error(`[${requestId}] ${method} ${resource}: ${(err as Error)?.stack ?? String(err)}`);
  }
  if (res.headersSent || res.destroyed) {
    // Mid-stream: the status is out, so the only honest signal left is a broken connection.
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) {
    if (!['x-amz-request-id', 'x-amz-id-2', 'server', 'connection'].includes(name)) res.removeHeader(name);
  }
  // A body still arriving is drained; one that stalled or was cut short is not waited for.
  if (!req.complete) {
    if (error.code === 'RequestTimeout' || error.code === 'IncompleteBody') res.setHeader('Connection', 'close');
    else linger(req, res);
  }
  sendError(res, error, resource, requestId, method !== 'HEAD');
}

/** How long the rest of a refused body is read and dropped before its connection is closed. */
const LINGER_MS = 5_000;

/**
 * A lingering close, as nginx does it: the rest of a body that will not be used is read and dropped
 * for a moment. Closing a socket with unread bytes makes the kernel reset the connection, and a
 * client (or a proxy still sending the body) then sees a reset instead of the error answered. A body
 * that ends within the moment leaves the connection usable; one that does not is cut off then.
 */
function linger(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  req.unpipe();
  req.resume();
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  // Node destroys a `Connection: close` socket as soon as the answer is written: hold the close
  // until the body is in (or the moment is over), then end it.
  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    if (req.complete) destroySoon();
    else req.once('end', destroySoon);
  };
}

function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}
