#!/usr/bin/env node
// The sluice command line: `sluice serve --root DIR --host H --port N ...`.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import cluster from 'node:cluster';
import { OPTIONS, buildConfig, readPropertiesFile, type OptionName, type RawOptions } from '../config/config';
import { runPrimary } from './cluster';
import { serve } from './serve';

const CONF_HELP = 'A properties file (alluxio-site.properties style, Alluxio property names); flags and SLUICE_* variables override it';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
    .scriptName('sluice')
    .usage('$0 serve [options]\n\nServe a directory tree as S3 buckets and objects (Alluxio S3 API compatible).')
    .env('SLUICE')
    .command('serve', 'Run the S3 server', (y) => {
      for (const [name, option] of Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]) {
        const describe = option.alluxio ? `${option.describe} [${option.alluxio}]` : option.describe;
        y.option(name, { type: option.type, default: option.default, describe });
      }
      // .config() sets the option's help text; without one it says "Path to JSON config file".
      return y.config('conf', CONF_HELP, (path: string) => readPropertiesFile(path));
    })
    // Wide enough that Alluxio property names (up to 67 characters) are never broken mid-name,
    // so a user can find them with grep or copy them whole.
    .wrap(Math.max(130, process.stdout.columns ?? 0))
    .demandCommand(1, 'Name a command: sluice serve --help')
    .strict()
    .help()
    .alias('h', 'help')
    .version();
  const args = await parser.parse();
  const raw: RawOptions = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const value = (args as Record<string, unknown>)[name];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') raw[name] = value;
  }
  const config = buildConfig(raw);
  // With a cache tier, ROOT is a slow under store (a network filesystem): its calls wait on the
  // network, and four threads (libuv's default) would let them hold up every fast call to the cache
  // disk behind them. libuv reads this when the pool first starts, which is after this line.
  if (config.cache && process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '16';
  if (config.auth === 'simple' && !isLoopback(config.host) && cluster.isPrimary) {
    process.stderr.write(
      `sluice: WARNING: listening on ${config.host} with SIMPLE authentication: anyone who can reach this address can act as any user.\n`,
    );
  }
  const announce = (root: string, port: number): void => {
    process.stdout.write(
      `sluice: serving ${root} on ${config.tls ? 'https' : 'http'}://${config.host}:${port}${config.basePath}/ (and /)\n`,
    );
  };
  if (config.workers > 1 && cluster.isPrimary) {
    await runPrimary(config, (port) => announce(config.root, port));
    return;
  }
  const running = await serve(config, { cleaner: cluster.isPrimary });
  if (cluster.isPrimary) announce(running.namespace.layout.root, running.port);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`sluice: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
