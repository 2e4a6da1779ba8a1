// The servers under test, each started as its own process on 127.0.0.1 with a fresh root:
// sluice (built, access log off), s3rver (the peer) and nginx (sendfile GET, WebDAV PUT: the limit).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { expectOk, waitForAnswer } from './http';
import type { ServerName } from './options';

export interface Server {
  name: ServerName;
  base: string;
  root: string;
  pid: number;
  /** Speaks S3 (listings, multipart); nginx only GETs and PUTs files. */
  s3: boolean;
  /** From spawn to the first answered request. */
  startupMs: number;
  createBucket(bucket: string): Promise<void>;
  /** Where a bucket's directory is on disk (key trees are moved in there for listings). */
  bucketDir(bucket: string): string;
  stop(): Promise<void>;
}

export interface Programs {
  sluiceMain: string;
  s3rverBin: string | undefined;
  nginx: string | undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolvePromise(port));
    });
  });
}

interface Spawned {
  child: ChildProcess;
  since: bigint;
  /** Why the process is gone, once it is. */
  gone(): string | undefined;
}

function spawnServer(name: string, command: string, args: string[]): Spawned {
  const since = process.hrtime.bigint();
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exit: string | undefined;
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  child.once('error', (err) => (exit = `${name} could not start: ${err.message}`));
  child.once('exit', (code, signal) => (exit = `${name} exited (${code ?? signal}): ${stderr.trim()}`));
  return { child, since, gone: () => exit };
}

function stopper(spawned: Spawned): () => Promise<void> {
  return () =>
    new Promise((resolvePromise) => {
      const { child } = spawned;
      if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolvePromise();
      });
      child.kill('SIGTERM');
    });
}

async function started(name: ServerName, spawned: Spawned, base: string): Promise<number> {
  try {
    return await waitForAnswer(base, spawned.since, 30_000, spawned.gone);
  } catch (err) {
    await stopper(spawned)();
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

export interface SluiceFlags {
  nodeArgs: string[];
  /** --workers N, when sluice has it. */
  workers?: number;
}

export async function startSluice(programs: Programs, root: string, flags: SluiceFlags): Promise<Server> {
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = [...flags.nodeArgs, programs.sluiceMain, 'serve', '--root', root, '--host', '127.0.0.1', '--port', String(port), '--access-log=false'];
  if (flags.workers !== undefined) args.push('--workers', String(flags.workers));
  return startS3Server('sluice', args, base, root);
}

export async function startS3rver(programs: Programs, root: string): Promise<Server> {
  if (programs.s3rverBin === undefined) throw new Error('s3rver is not installed: run npm ci (it is a devDependency)');
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // s3rver signs its continuation tokens with DES, which OpenSSL 3 keeps in the legacy provider.
  const args = ['--openssl-legacy-provider', programs.s3rverBin, '-d', root, '-a', '127.0.0.1', '-p', String(port), '--silent', '--no-vhost-buckets'];
  return startS3Server('s3rver', args, base, root);
}

/** Spawns a Node S3 server (sluice or s3rver) and waits for its first answer. */
async function startS3Server(name: 'sluice' | 's3rver', args: string[], base: string, root: string): Promise<Server> {
  const spawned = spawnServer(name, process.execPath, args);
  const startupMs = await started(name, spawned, base);
  return {
    name,
    base,
    root,
    pid: spawned.child.pid ?? 0,
    s3: true,
    startupMs,
    createBucket: async (bucket) => void (await expectOk(base, 'PUT', `/${bucket}`)),
    bucketDir: (bucket) => join(root, bucket),
    stop: stopper(spawned),
  };
}

/** nginx.conf for a foreground nginx on one port: files served with sendfile, PUT and DELETE by WebDAV. */
export function nginxConf(dir: string, root: string, port: number): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `# Generated by tools/bench: nginx as the raw-HTTP limit of this machine.
${user}daemon off;
master_process on;
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 10000000;
  default_type application/octet-stream;
  # Bodies land on the same filesystem as the files, so a PUT ends with a rename.
  client_body_temp_path ${root}/.nginx-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
      dav_access user:rw group:r all:r;
    }
  }
}
`;
}

export async function startNginx(programs: Programs, root: string, confDir: string): Promise<Server> {
  if (programs.nginx === undefined) throw new Error('nginx is not installed');
  mkdirSync(root, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const conf = resolve(confDir, 'nginx.conf');
  writeFileSync(conf, nginxConf(resolve(confDir), resolve(root), port));
  const spawned = spawnServer('nginx', programs.nginx, ['-p', resolve(confDir), '-e', resolve(confDir, 'error.log'), '-c', conf]);
  const startupMs = await started('nginx', spawned, base);
  return {
    name: 'nginx',
    base,
    root,
    pid: spawned.child.pid ?? 0,
    s3: false,
    startupMs,
    createBucket: async (bucket) => void mkdirSync(join(root, bucket), { recursive: true }),
    bucketDir: (bucket) => join(root, bucket),
    stop: stopper(spawned),
  };
}
