// The servers under test, each started as its own process on 127.0.0.1 with a fresh root:
// sluice (built, access log off), s3rver (the peer), nginx (sendfile GET, WebDAV PUT: the limit)
// and the Node floor (node-floor.ts: plain node:http on files, the yardstick). Every server started
// is known until it stops, so an interrupted run can stop them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { expectOk, waitForAnswer } from './http';
import { speaksS3, type ServerName } from './options';

export interface Server {
  name: ServerName;
  base: string;
  root: string;
  pid: number;
  /** Speaks S3 (listings, multipart); nginx and the floor only GET and PUT files. */
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
  /** dist/tools/bench/node-floor.js */
  floorMain: string;
}

/** Servers started and not yet stopped, whoever started them. */
const live = new Set<Server>();

export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
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

/**
 * Spawns a server on a fresh port and waits for its first answer. `args` is given the port; the
 * bucket is made by `PUT /bucket` unless the server stores buckets otherwise (nginx: mkdir).
 */
async function startServer(
  name: ServerName,
  command: string,
  root: string,
  args: (port: number) => string[],
  createBucket?: (bucket: string) => Promise<void>,
): Promise<Server> {
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const spawned = spawnServer(name, command, args(port));
  let startupMs: number;
  try {
    startupMs = await waitForAnswer(base, spawned.since, 30_000, spawned.gone);
  } catch (err) {
    await stopper(spawned)();
    throw new Error(`${name}: ${(err as Error).message}`);
  }
  const stop = stopper(spawned);
  const server: Server = {
    name,
    base,
    root,
    pid: spawned.child.pid ?? 0,
    s3: speaksS3(name),
    startupMs,
    createBucket: createBucket ?? (async (bucket) => void (await expectOk(base, 'PUT', `/${bucket}`))),
    bucketDir: (bucket) => join(root, bucket),
    stop: async () => {
      await stop();
      live.delete(server);
    },
  };
  live.add(server);
  return server;
}

export interface SluiceFlags {
  nodeArgs: string[];
  /** --workers N, when sluice has it. */
  workers?: number;
  /** More `sluice serve` flags (the cache tier's --cache-dir and --cache-size). */
  extra?: string[];
}

export function startSluice(programs: Programs, root: string, flags: SluiceFlags): Promise<Server> {
  return startServer('sluice', process.execPath, root, (port) => [
    ...flags.nodeArgs,
    programs.sluiceMain,
    'serve',
    '--root',
    root,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--access-log=false',
    ...(flags.workers === undefined ? [] : ['--workers', String(flags.workers)]),
    ...(flags.extra ?? []),
  ]);
}

export function startS3rver(programs: Programs, root: string): Promise<Server> {
  const bin = programs.s3rverBin;
  if (bin === undefined) throw new Error('s3rver is not installed: run npm ci (it is a devDependency)');
  // s3rver signs its continuation tokens with DES, which OpenSSL 3 keeps in the legacy provider.
  return startServer('s3rver', process.execPath, root, (port) => ['--openssl-legacy-provider', bin, '-d', root, '-a', '127.0.0.1', '-p', String(port), '--silent', '--no-vhost-buckets']);
}

export function startFloor(programs: Programs, root: string): Promise<Server> {
  return startServer('floor', process.execPath, root, (port) => [programs.floorMain, root, String(port)]);
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

export function startNginx(programs: Programs, root: string, confDir: string): Promise<Server> {
  const nginx = programs.nginx;
  if (nginx === undefined) throw new Error('nginx is not installed');
  mkdirSync(confDir, { recursive: true });
  const conf = resolve(confDir, 'nginx.conf');
  return startServer(
    'nginx',
    nginx,
    root,
    (port) => {
      writeFileSync(conf, nginxConf(resolve(confDir), resolve(root), port));
      return ['-p', resolve(confDir), '-e', resolve(confDir, 'error.log'), '-c', conf];
    },
    async (bucket) => void mkdirSync(join(root, bucket), { recursive: true }),
  );
}
