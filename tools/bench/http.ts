// Small timed HTTP requests from the harness itself (bucket setup, listings, multipart steps);
// the load and the big transfers come from other processes (wrk, loadgen, curl).
import { createReadStream, statSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Length of the body as received, in bytes. */
  bytes: number;
  /** From the request's start to the response's last byte. */
  ms: number;
}

export const keepAlive = new Agent({ keepAlive: true, maxSockets: 32 });

export interface RequestOptions {
  body?: Buffer | string;
  /** A file streamed as the body. */
  file?: string;
  headers?: Record<string, string>;
  agent?: Agent | false;
  timeoutMs?: number;
}

export function request(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const url = new URL(path, base);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  else if (options.file !== undefined) headers['content-length'] = String(statSync(options.file).size);
  else if (method === 'PUT' || method === 'POST') headers['content-length'] = '0';
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers, agent: options.agent ?? keepAlive },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const body = Buffer.concat(chunks);
          resolvePromise({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: body.toString('utf8'),
            bytes: body.length,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          });
        });
      },
    );
    req.once('error', reject);
    req.setTimeout(options.timeoutMs ?? 600_000, () => req.destroy(new Error(`${method} ${path}: no answer within ${options.timeoutMs ?? 600_000} ms`)));
    if (options.file !== undefined) {
      createReadStream(options.file).once('error', reject).pipe(req);
    } else {
      req.end(options.body);
    }
  });
}

/** The request, which must answer 2xx; otherwise an error naming the status and the body's start. */
export async function expectOk(base: string, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const reply = await request(base, method, path, options);
  if (reply.status < 200 || reply.status > 299) {
    throw new Error(`${method} ${base}${path} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
  }
  return reply;
}

/** Waits until something answers HTTP at base; resolves with the milliseconds since `since`. */
export async function waitForAnswer(base: string, since: bigint, timeoutMs: number, gone: () => string | undefined): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why !== undefined) throw new Error(why);
    try {
      await request(base, 'GET', '/', { agent: false, timeoutMs: 2000 });
      return Number(process.hrtime.bigint() - since) / 1e6;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing answered at ${base} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 3));
    }
  }
}
