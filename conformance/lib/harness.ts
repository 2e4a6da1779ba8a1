// Test harness: a real sluice process on a fresh temp root and a free port, and the real clients
// (aws cli, boto3 through python3, raw HTTP) pointed at it. No mocks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const REPO = resolve(__dirname, '..', '..', '..');
export const CLI = join(REPO, 'dist', 'source', 'cli', 'main.js');

export interface Sluice {
  root: string;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The Alluxio endpoint, http://127.0.0.1:PORT/api/v1/s3/ */
  endpoint: string;
  process: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** Peak resident set size of the server process in bytes (from /proc). */
  rss(): number;
  stop(): Promise<void>;
}

/** What the clients below need of a server: a sluice, or a load balancer in front of several. */
export type Endpoint = Pick<Sluice, 'port' | 'url' | 'endpoint' | 'output'>;

export interface StartOptions {
  args?: string[];
  root?: string;
  env?: Record<string, string>;
  /** Keep the root after stop (for restart tests). */
  keepRoot?: boolean;
  /**
   * Pass only `serve` and `args`: no --root/--host/--port, so that a --conf file or SLUICE_*
   * variables can set them (the test picks the port with `freePort()`).
   */
  bare?: boolean;
  /** A command that runs sluice (`prlimit --nofile=64:64`, `strace -f ...`); its whole process group is stopped. */
  wrapper?: string[];
}

export function tempDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `sluice serve` on 127.0.0.1 and a free port; resolves once it answers. */
export async function startSluice(options: StartOptions = {}): Promise<Sluice> {
  const root = options.root ?? tempDir();
  // One process unless a test asks for more: the default (one per core) would double every suite's load.
  const workers = options.args?.includes('--workers') ? [] : ['--workers', '1'];
  const defaults = options.bare ? [] : ['--root', root, '--host', '127.0.0.1', '--port', '0', ...workers];
  const command = [...(options.wrapper ?? []), process.execPath, CLI, 'serve', ...defaults, ...(options.args ?? [])];
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that stopping it also stops what a wrapper (strace) forked.
    detached: options.wrapper !== undefined,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice did not start:\n${output}`)), 15_000);
    const check = (): void => {
      const match = /on http:\/\/[^:]+:(\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
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
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        if (options.wrapper) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
        await exited;
      }
      if (!options.keepRoot && !options.root) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Threads of a process (/proc): sluice's small-object thread adds some while it runs. */
export function threadsOf(pid: number): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/**
 * Starts sluice's small-object thread, which a trickle of requests does not (it wants 200 small
 * jobs a second): bursts of 64 concurrent GETs of `path` (a small object, or a small cache copy),
 * up to ten on a loaded machine. It then stays while requests keep coming (5 s idle ends it).
 * Returns the thread counts before and after, for the caller to assert on.
 */
export async function startSmallObjectThread(server: Sluice, path: string): Promise<{ before: number; after: number }> {
  const pid = server.process.pid!;
  const before = threadsOf(pid);
  for (let burst = 0; burst < 10 && threadsOf(pid) <= before; burst++) {
    await Promise.all(Array.from({ length: 64 }, () => s3(server, 'GET', path)));
  }
  return { before, after: threadsOf(pid) };
}

/** VmHWM (peak RSS) of a process, in bytes. */
export function peakRss(pid: number): number {
  try {
    const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string;
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Writes an aws cli config whose profile's access key is `user` (the Alluxio SIMPLE user). */
export function awsProfileDir(user = 'testuser'): string {
  const dir = tempDir('sluice-aws-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config'), `[profile alluxio-s3]\nregion = us-east-1\n`);
  writeFileSync(join(dir, 'credentials'), `[alluxio-s3]\naws_access_key_id = ${user}\naws_secret_access_key = dummy-secret\n`);
  return dir;
}

function awsEnv(user: string): NodeJS.ProcessEnv {
  const dir = awsProfileDir(user);
  return {
    ...process.env,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Runs the aws cli against the server (`--endpoint` the Alluxio base path) as `user`. */
export function aws(server: Endpoint, args: string[], user = 'testuser'): Promise<CommandResult> {
  return run('aws', ['--profile', 'alluxio-s3', '--endpoint', server.endpoint, ...args], awsEnv(user));
}

/**
 * Runs a python3 script with boto3 available; the script gets ENDPOINT, USER and a ready `s3`
 * client (path-style, the access key is the user) as globals, and `code(f)`: 'OK' when `f()`
 * succeeds, else the S3 error code it failed with.
 */
export function boto3(server: Endpoint, script: string, user = 'testuser'): Promise<CommandResult> {
  const prelude = [
    'import boto3, botocore, os, sys, json, hashlib',
    'from botocore.config import Config',
    `ENDPOINT = ${JSON.stringify(server.endpoint)}`,
    `USER = ${JSON.stringify(user)}`,
    "s3 = boto3.client('s3', endpoint_url=ENDPOINT, aws_access_key_id=USER, aws_secret_access_key='dummy-secret', region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))",
    'from botocore.exceptions import ClientError',
    'def code(f):',
    '    try:',
    "        f(); return 'OK'",
    '    except ClientError as e:',
    "        return e.response['Error']['Code']",
    '',
  ].join('\n');
  return run('python3', ['-c', prelude + script], awsEnv(user));
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): Promise<CommandResult> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolveRun({ code: 127, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
    // A program that exits without reading its input (kill) makes this write fail with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** A plain HTTP request with exactly the path, headers and body given (nothing normalized). */
export function rawRequest(
  server: Endpoint,
  method: string,
  path: string,
  options: { headers?: Record<string, string | number>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolveRequest, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolveRequest({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The text of `<Name>` in an XML document (first match), for quick assertions. */
export function xmlValue(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match?.[1];
}

export function xmlValues(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
}

// ---- Helpers of the end-to-end suites ----

/** The Authorization header exactly as the Alluxio documentation shows it: it names the user, nothing is signed. */
export function simpleAuth(user = 'testuser'): string {
  return `AWS4-HMAC-SHA256 Credential=${user}/... SignedHeaders=... Signature=...`;
}

export interface S3RequestOptions {
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** The SIMPLE user named in the Authorization header; `null` sends none (the server's own user). */
  user?: string | null;
}

/** A raw request as a SIMPLE user (testuser unless told otherwise). */
export function s3(server: Endpoint, method: string, path: string, options: S3RequestOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
  const user = options.user === undefined ? 'testuser' : options.user;
  if (user !== null && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.Authorization = simpleAuth(user);
  return rawRequest(server, method, path, { headers, ...(options.body !== undefined ? { body: options.body } : {}) });
}

/** `/bucket/key` with each key segment percent-encoded (slashes kept). */
export function objectPath(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** The S3 error code of an error response (undefined when there is none). */
export function errorCode(res: RawResponse): string | undefined {
  return xmlValue(res.text, 'Code');
}

/** What the server printed about a request (its stack trace on a 500), for failure messages. */
function serverSaid(server: Endpoint, res: RawResponse): string {
  const id = String(res.headers['x-amz-request-id'] ?? '');
  const lines = server.output().split('\n').filter((line) => id !== '' && line.includes(id));
  const trace = res.status >= 500 ? server.output().split('\n').slice(-30).join('\n') : lines.join('\n');
  return trace === '' ? '' : `\nserver output:\n${trace}`;
}

export async function createBucket(server: Endpoint, bucket: string, user = 'testuser'): Promise<void> {
  const res = await s3(server, 'PUT', `/${bucket}`, { user });
  if (res.status !== 200) throw new Error(`CreateBucket ${bucket}: ${res.status} ${res.text}${serverSaid(server, res)}`);
}

export async function putObject(server: Endpoint, bucket: string, key: string, body: Buffer | string, headers: Record<string, string | number> = {}): Promise<RawResponse> {
  const res = await s3(server, 'PUT', objectPath(bucket, key), { headers, body });
  if (res.status !== 200) throw new Error(`PutObject ${bucket}/${key}: ${res.status} ${res.text}${serverSaid(server, res)}`);
  return res;
}

export function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

export async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

/** Writes `size` random bytes to `path` a chunk at a time (never the whole file in memory); returns their MD5. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('md5');
  let left = size;
  const chunks = Readable.from(
    (function* () {
      while (left > 0) {
        const chunk = randomBytes(Math.min(left, 1 << 20));
        left -= chunk.length;
        hash.update(chunk);
        yield chunk;
      }
    })(),
  );
  await pipeline(chunks, createWriteStream(path));
  return hash.digest('hex');
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every entry below `dir`, as relative paths (directories end in `/`), sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        out.push(`${path}/`);
        walk(path);
      } else {
        out.push(path);
      }
    }
  };
  walk('');
  return out.sort();
}

/** A port that was free a moment ago (for tests that set the port through a file or the environment). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

export interface RawExchange {
  /** The status of the response, if one arrived. */
  status: number | undefined;
  /** Everything the server sent. */
  text: string;
}

/**
 * Writes bytes exactly as given on a fresh connection (for what http clients will not send: short
 * bodies, broken framing). `close: 'destroy'` drops the connection right after writing, as a
 * crashed client would; otherwise the response is read until complete, closed or `timeoutMs`.
 */
export function rawExchange(
  server: Endpoint,
  data: (Buffer | string)[],
  options: { close?: 'destroy' | 'end' | 'none'; timeoutMs?: number; headOnly?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolveExchange, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = received.toString('utf8');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolveExchange({ status: match ? Number(match[1]) : undefined, text });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5000);
    socket.on('error', (e) => (received.length > 0 ? finish() : options.close === 'destroy' ? finish() : reject(e)));
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      // A response is complete at the end of its headers (HEAD, 1xx-free 204/304), at its
      // Content-Length, or at the last chunk.
      if (options.headOnly || /^HTTP\/1\.1 (204|304)/.test(head)) return finish();
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length && received.length >= end + 4 + Number(length[1])) finish();
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head) && text.endsWith('\r\n0\r\n\r\n')) finish();
    });
    socket.on('close', finish);
    socket.on('connect', () => {
      for (const part of data) socket.write(part);
      if (options.close === 'destroy') setTimeout(finish, 50);
      else if (options.close === 'end') socket.end();
    });
  });
}

export interface ContinueOutcome {
  /** 100 Continue came, and the body was sent after it. */
  continued: boolean;
  status: number;
  text: string;
}

/** Sends the head, waits: on 100 Continue sends the body; on a final answer sends nothing more. */
export function expectExchange(server: Endpoint, head: string, body: Buffer): Promise<ContinueOutcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    let continued = false;
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!continued && text.startsWith('HTTP/1.1 100')) {
        continued = true;
        text = text.slice(text.indexOf('\r\n\r\n') + 4);
        socket.write(body);
      }
      const end = text.indexOf('\r\n\r\n');
      if (/^HTTP\/1\.1 [2-5]\d\d/.test(text) && end >= 0) {
        const length = /content-length: (\d+)/i.exec(text.slice(0, end));
        if (text.length >= end + 4 + Number(length?.[1] ?? 0)) {
          socket.destroy();
          resolve({ continued, status: Number(text.slice(9, 12)), text });
        }
      }
    });
    socket.write(head);
  });
}

/** A sluice with --auth sigv4 and a credentials file of these lines (ACCESS SECRET USER [admin]). */
export async function startSigV4(credentials: string, options: StartOptions = {}): Promise<Sluice> {
  const file = join(tempDir('sluice-sigv4-'), 'credentials');
  writeFileSync(file, credentials);
  return startSluice({ ...options, args: ['--auth', 'sigv4', '--credentials', file, ...(options.args ?? [])] });
}

/** The JSON a python/aws run printed on its last stdout line; throws with stderr when it failed. */
export function lastJson<T = unknown>(result: CommandResult): T {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}${result.stdout}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as T;
}

/** Parses the aws cli's JSON output (empty output is `{}`); throws with stderr when it failed. */
export function awsJson<T = Record<string, unknown>>(result: CommandResult): T {
  if (result.code !== 0) throw new Error(`aws exit ${result.code}: ${result.stderr}`);
  return (result.stdout.trim() === '' ? {} : JSON.parse(result.stdout)) as T;
}
