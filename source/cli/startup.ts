// What can stop sluice before it serves, each said in one line that names the problem (main.ts
// prints it and exits with 1, no stack): ROOT, the ports, files named by options. Another
// directory an option names (a cache directory) is checked by `checkDirectory` as ROOT is.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import type { Server } from 'node:net';
import { dirname, resolve } from 'node:path';

/** A start-up failure whose message says it all. */
export class StartupError extends Error {}

const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? String(e);

/**
 * Checks a directory sluice must read and write (`what` names it, e.g. "ROOT ./data"). A missing
 * one is created when its parent exists (`create`), which is reported through `created`; a
 * missing parent is an error (a typo in a path is more likely than a wish for new trees).
 */
export async function checkDirectory(path: string, what: string, options: { create?: boolean; created?: () => void } = {}): Promise<void> {
  const stats = await stat(path).catch((e: unknown) => {
    if (codeOf(e) === 'ENOENT') return undefined;
    throw new StartupError(`${what} cannot be read (${codeOf(e)})`);
  });
  if (stats === undefined) {
    const parent = dirname(resolve(path));
    if (!options.create) throw new StartupError(`${what} does not exist`);
    try {
      await mkdir(path);
    } catch (e) {
      if (codeOf(e) === 'ENOENT') throw new StartupError(`${what} does not exist, nor does its parent ${parent}: create it first`);
      if (codeOf(e) !== 'EEXIST') throw new StartupError(`${what} does not exist and cannot be created in ${parent} (${codeOf(e)})`);
    }
    options.created?.();
    return checkDirectory(path, what, {});
  }
  if (!stats.isDirectory()) throw new StartupError(`${what} is not a directory`);
  try {
    await access(path, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new StartupError(`${what} is not readable and writable by this user (${codeOf(e)})`);
  }
}

/** A listen() failure in words: `port 39999 on 127.0.0.1 is in use`. */
export function listenError(e: unknown, host: string, port: number, what = 'port'): StartupError {
  const code = codeOf(e);
  const where = `${what} ${port} on ${host}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`${where} is in use (EADDRINUSE)`);
    case 'EACCES':
      return new StartupError(`${where}: no permission to listen there (EACCES)`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`${where}: ${host} is not an address of this host (${code})`);
    default:
      return new StartupError(`${where}: cannot listen (${code})`);
  }
}

/** Reads a file an option names, or fails saying which option and why. */
export async function readOptionFile<T>(option: string, path: string, read: (path: string) => T): Promise<T> {
  try {
    await access(path, constants.R_OK);
    return read(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StartupError(code ? `${option} ${path} cannot be read (${code})` : `${option} ${path}: ${(e as Error).message}`);
  }
}

/** Listens, or fails with a StartupError that says why. Resolves with the port (of `0`: the one chosen). */
export function listen(server: Server, port: number, host: string, what?: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const fail = (e: unknown): void => reject(listenError(e, host, port, what));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
