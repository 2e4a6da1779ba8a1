// Helpers of the fault suite: a sluice started under a resource limit or on a given root, a
// client that writes exactly what it is told and hangs up when told, requests on a kept-alive
// agent, and object versions that say what they are.
import { request, type Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startSluice, type Sluice } from '../lib/harness';

/** Starts sluice through `wrapper` (e.g. prlimit) on `root`, without an access log. */
export function startWrapped(root: string, wrapper: string[], args: string[] = []): Promise<Sluice> {
  return startSluice({ root, wrapper, args: ['--access-log=false', ...args] });
}

/** Opens a connection and sends a request head plus `bodyBytes` of a longer body, then stays open. */
export function startPartialPut(server: Sluice, path: string, contentLength: number, bodyBytes: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write(`PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${contentLength}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=faults/x\r\n\r\n`);
      socket.write(Buffer.alloc(bodyBytes, 'p'), () => resolve(socket));
    });
    socket.on('error', reject);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request on `agent` (kept alive by the caller), the whole answer read. */
export function call(server: Sluice, agent: Agent, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const all = { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) };
    const req = request({ host: '127.0.0.1', port: server.port, method, path, agent, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Version n of a key: it says which it is in its first line, so a torn or mixed body shows. */
export function makeVersion(key: string, n: number): Buffer {
  const size = 1000 + ((n * 7919) % 300_000);
  const head = `${key}#${n}#${size}\n`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(size - head.length, String.fromCharCode(97 + (n % 26)))]);
}
