#!/usr/bin/env node
// The sluice command line: `sluice serve --root DIR --host H --port N ...`, `sluice --version`.
// Each mode loads only what it runs: help loads yargs, the primary of a cluster no S3 handling.
// A failure to start is one line on stderr and exit code 1.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig, type Config } from '../config/config';
import { log, setLogLevel } from '../log';
import { UsageError, environmentOptions, parseArguments, resolveOptions } from './arguments';
import { StartupError, checkDirectory } from './startup';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function version(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function main(argv: string[]): Promise<void> {
  const invocation = parseArguments(argv);
  if (invocation.version) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (invocation.help) {
    await (await import('./help')).printHelp(argv);
    return;
  }
  if (invocation.command === undefined) throw new UsageError('Name a command: sluice serve (sluice --help lists the options)');
  if (invocation.command !== 'serve') throw new UsageError(`Unknown command: ${invocation.command} (sluice serve is the one command)`);
  const configure = (): Config => {
    const { raw, labels } = resolveOptions(invocation, process.env);
    return buildConfig(raw, labels);
  };
  const config = configure();
  setLogLevel(config.logLevel);
  // With a cache tier, ROOT is a slow under store (a network filesystem): its calls wait on the
  // network, and four threads (libuv's default) would let them hold up every fast call to the cache
  // disk behind them. libuv reads this when the pool first starts, which is after this line.
  if (config.cache && process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '16';
  if (cluster.isWorker) {
    await (await import('./worker')).runWorker(config, configure);
    return;
  }
  for (const variable of environmentOptions(process.env).unknown) {
    log.warn(`WARNING: ignoring ${variable}: no option is called that (sluice serve --help lists them)`);
  }
  if (config.auth === 'simple' && !isLoopback(config.host)) {
    log.warn(
      `WARNING: listening on ${config.host} with SIMPLE authentication: anyone who can reach this address can act as any user.`,
    );
  }
  await checkDirectory(config.root, `ROOT ${config.root}`, {
    create: true,
    created: () => log.info(`created ROOT ${config.root} (it did not exist)`),
  });
  if (config.cache) {
    const dir = config.cache.dir;
    const created = (): void => log.info(`created --cache-dir ${dir} (it did not exist)`);
    await checkDirectory(dir, `--cache-dir ${dir}`, { create: true, created });
  }
  await startServing(config, configure);
}

async function startServing(config: Config, configure: () => Config): Promise<void> {
  const scheme = config.tls ? 'https' : 'http';
  const announce = (root: string, port: number, adminPort: number | undefined): void => {
    log.info(`serving ${root} on ${scheme}://${config.host}:${port}${config.basePath}/ (and /)`);
    if (adminPort !== undefined) log.info(`health, readiness and metrics on http://${config.host}:${adminPort}/-/`);
  };
  if (config.workers > 1) {
    const { runPrimary } = await import('./cluster');
    await runPrimary(config, announce, configure);
    return;
  }
  const { serve, setReloader, stopOnSignals } = await import('./serve');
  setReloader(configure);
  const running = await serve(config);
  stopOnSignals(running, config);
  announce(running.namespace.layout.root, running.port, running.adminPort);
}

main(process.argv.slice(2)).catch(async (err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  // A worker's failure is told by its primary, once for the cluster.
  if (cluster.isWorker && (await (await import('./worker')).reportFatal(message))) process.exit(1);
  log.error(message);
  // What was not foreseen (no UsageError or StartupError) keeps its stack for --log-level debug.
  if (!(err instanceof UsageError || err instanceof StartupError) && err instanceof Error) log.debug(err.stack ?? '');
  process.exit(1);
});
