// Helpers of the fault suite: a sluice started under a resource limit or on a given root, and
// a client that writes exactly what it is told and hangs up when told.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { CLI, peakRss, type Sluice } from '../lib/harness';

/** Starts sluice through `wrapper` (e.g. prlimit) on `root`, and resolves when it listens. */
export async function startWrapped(root: string, wrapper: string[], args: string[] = []): Promise<Sluice> {
  const command = [...wrapper, process.execPath, CLI, 'serve', '--root', root, '--host', '127.0.0.1', '--port', '0', '--access-log=false', ...args];
  // Its own process group, so that stopping it also stops what a wrapper (strace) forked.
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice did not start:\n${output}`)), 15_000);
    child.stdout.on('data', () => {
      const match = /on http:\/\/[^:]+:(\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sluice exited with ${code}:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    root,
    port,
    url,
    endpoint: `${url}/api/v1/s3/`,
    process: child,
    output: () => output,
    rss: () => peakRss(child.pid!),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
  };
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
