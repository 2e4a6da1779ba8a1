// Test harness: a real sluice process on a fresh temp root and a free port, and the real clients
// (aws cli, boto3 through python3, raw HTTP) pointed at it. No mocks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

export interface StartOptions {
  args?: string[];
  root?: string;
  env?: Record<string, string>;
  /** Keep the root after stop (for restart tests). */
  keepRoot?: boolean;
}

export function tempDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `sluice serve` on 127.0.0.1 and a free port; resolves once it answers. */
export async function startSluice(options: StartOptions = {}): Promise<Sluice> {
  const root = options.root ?? tempDir();
  const child = spawn(process.execPath, [CLI, 'serve', '--root', root, '--host', '127.0.0.1', '--port', '0', ...(options.args ?? [])], {
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
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
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      if (!options.keepRoot && !options.root) rmSync(root, { recursive: true, force: true });
    },
  };
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
export function aws(server: Sluice, args: string[], user = 'testuser'): Promise<CommandResult> {
  return run('aws', ['--profile', 'alluxio-s3', '--endpoint', server.endpoint, ...args], awsEnv(user));
}

/**
 * Runs a python3 script with boto3 available; the script gets ENDPOINT, USER and a ready `s3`
 * client (path-style, the access key is the user) as globals.
 */
export function boto3(server: Sluice, script: string, user = 'testuser'): Promise<CommandResult> {
  const prelude = [
    'import boto3, botocore, os, sys, json, hashlib',
    'from botocore.config import Config',
    `ENDPOINT = ${JSON.stringify(server.endpoint)}`,
    `USER = ${JSON.stringify(user)}`,
    "s3 = boto3.client('s3', endpoint_url=ENDPOINT, aws_access_key_id=USER, aws_secret_access_key='dummy-secret', region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))",
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
  server: Sluice,
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
