// nginx in front of sluice backends, run from the shipped tools/deploy/nginx-load-balancer.conf:
// the lines marked `# test:` get a loopback port, the backends' ports and paths in a temp dir;
// everything else runs as it ships. Debian's nginx, in the foreground; /etc/nginx is never read.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { which } from '../../tools/bench/proc';
import { REPO, freePort, tempDir, waitFor, type Endpoint, type Sluice } from './harness';

export const NGINX_CONF = join(REPO, 'tools', 'deploy', 'nginx-load-balancer.conf');
export const NGINX_INSTALL = 'apt-get install -y nginx';

/** nginx's path (Debian puts it in /usr/sbin, which a non-root PATH may lack), if installed. */
export function nginxProgram(): string | undefined {
  return which('nginx');
}

export interface LoadBalancer extends Endpoint {
  /** The config nginx runs, as generated from the shipped file. */
  config: string;
  /** nginx's access log so far: one line per request, naming the backend that served it. */
  accessLog(): string;
  /** nginx's error log so far (level warn and up, as shipped). */
  errorLog(): string;
  stop(): Promise<void>;
}

const MARKER = /# test: (pid|error log|access log|temp|listen|backend)\b/;

/**
 * The shipped config for this run: `listen` on 127.0.0.1:port, one upstream `server` line per
 * backend (the options of the shipped line kept), and every path of a marked line moved into
 * `dir` under its own file name. Throws when a marked line is missing or unknown, so that the
 * test cannot silently run something other than what ships.
 */
export function loadBalancerConfig(shipped: string, options: { dir: string; port: number; backends: number[] }): string {
  const seen = new Map<string, number>();
  const lines = shipped.split('\n').flatMap((line) => {
    if (!line.includes('# test:')) return [line];
    const kind = MARKER.exec(line)?.[1];
    if (kind === undefined) throw new Error(`${NGINX_CONF}: unknown marker in "${line.trim()}"`);
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
    if (kind === 'listen') return [line.replace(/listen\s+[^;]+;/, `listen 127.0.0.1:${options.port};`)];
    if (kind === 'backend') return seen.get(kind) === 1 ? options.backends.map((port) => line.replace(/server\s+[^\s;]+/, `server 127.0.0.1:${port}`)) : [];
    return [line.replace(/\/[^\s;]+/, (path) => join(options.dir, basename(path)))];
  });
  for (const kind of ['pid', 'error log', 'access log', 'temp', 'listen', 'backend']) {
    if (!seen.has(kind)) throw new Error(`${NGINX_CONF}: no line is marked "# test: ${kind}"`);
  }
  return lines.join('\n');
}

/** The file a directive of the generated config names (the access or error log). */
function pathOf(config: string, directive: string): string {
  const match = new RegExp(`^\\s*${directive}\\s+(\\S+?);?\\s`, 'm').exec(config);
  if (!match) throw new Error(`the generated config has no ${directive}`);
  return match[1]!;
}

/** Whether something accepts connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const readOr = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** Starts nginx (round robin over `backends`) on a free loopback port; resolves once it answers. */
export async function startLoadBalancer(backends: Sluice[]): Promise<LoadBalancer> {
  const nginx = nginxProgram();
  if (nginx === undefined) throw new Error(`nginx is missing: ${NGINX_INSTALL}`);
  const dir = tempDir('sluice-nginx-');
  // Started as root, nginx runs its workers as www-data (the shipped `user`): they must reach
  // the temp paths in here.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const config = loadBalancerConfig(readFileSync(NGINX_CONF, 'utf8'), { dir, port, backends: backends.map((b) => b.port) });
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, config);
  const accessLog = pathOf(config, 'access_log');
  const errorLog = pathOf(config, 'error_log');
  // Its own process group, so that stopping it reaches the workers too, whatever the master does.
  const child = spawn(nginx, ['-p', dir, '-e', 'stderr', '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const output = (): string => [...backends.map((b) => b.output()), stderr, readOr(errorLog)].join('\n');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    try {
      process.kill(-child.pid!, 'SIGKILL'); // a worker the master left behind
    } catch {
      // none: the group is gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const balancer: LoadBalancer = { port, url, endpoint: `${url}/api/v1/s3/`, output, config, accessLog: () => readOr(accessLog), errorLog: () => readOr(errorLog), stop };
  try {
    // Listening is enough: the workers take what queues meanwhile. (A probe request would add a
    // line to a backend's access log, which the tests read.)
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}${readOr(errorLog)}`);
      return accepts(port);
    }, 'nginx to listen', 10_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return balancer;
}
