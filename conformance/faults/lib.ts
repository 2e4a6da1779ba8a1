// Helpers of the fault suite: a sluice started under a resource limit or on a given root, and
// a client that writes exactly what it is told and hangs up when told.
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
