// Health, readiness and metrics, outside the S3 namespace: on paths no bucket can have (a bucket
// name starts with a letter or a digit), `/-/health`, `/-/ready` and `/-/metrics`, at `/` and under
// the base path; or on an admin port of their own (then only there).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type OpsEndpoint = 'health' | 'ready' | 'metrics';

/** What the endpoints report; the process that serves them knows how to tell. */
export interface OpsSource {
  /** Undefined when ready to serve; otherwise why not (shutting down, ROOT not writable). */
  notReady(): Promise<string | undefined>;
  /** The Prometheus text of this process, or of the whole cluster. */
  metrics(): Promise<{ contentType: string; body: string }>;
}

/** The action name of each endpoint, for the access log and the request metrics. */
export const OPS_ACTIONS: Readonly<Record<OpsEndpoint, string>> = { health: 'Health', ready: 'Ready', metrics: 'Metrics' };

/** The endpoint a raw path names, if any: `/-/health` or `<base path>/-/health`. */
export function opsEndpoint(rawPath: string, basePath: string): OpsEndpoint | undefined {
  let path = rawPath;
  if (basePath !== '' && path.startsWith(`${basePath}/-/`)) path = path.slice(basePath.length);
  if (!path.startsWith('/-/')) return undefined;
  const name = path.slice(3);
  return name === 'health' || name === 'ready' || name === 'metrics' ? name : undefined;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, withBody: boolean): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(withBody ? body : undefined);
}

/** Answers a request for an endpoint (GET or HEAD; other methods get 405). */
export async function serveOps(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: OpsEndpoint | undefined,
  source: OpsSource,
): Promise<void> {
  const method = req.method ?? 'GET';
  const text = 'text/plain; charset=utf-8';
  if (endpoint === undefined) return send(res, 404, text, 'not found: try /-/health, /-/ready or /-/metrics\n', method !== 'HEAD');
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, text, 'method not allowed\n', true);
  }
  const withBody = method === 'GET';
  switch (endpoint) {
    case 'health':
      return send(res, 200, text, 'ok\n', withBody);
    case 'ready': {
      const reason = await source.notReady();
      return reason === undefined ? send(res, 200, text, 'ready\n', withBody) : send(res, 503, text, `not ready: ${reason}\n`, withBody);
    }
    case 'metrics': {
      const { contentType, body } = await source.metrics();
      return send(res, 200, contentType, body, withBody);
    }
  }
}

/** A server of the endpoints alone, for --admin-port. */
export function createOpsServer(source: OpsSource): Server {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    serveOps(req, res, opsEndpoint(path, ''), source).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `error: ${(e as Error).message}\n`, true);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  return server;
}
