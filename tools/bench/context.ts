// What every workload is given: the options, the running servers, the source files, the load
// tools and the record of this run; and the few helpers they share.
import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import type { RunRecord } from './figures';
import { expectOk, keepAlive, request } from './http';
import type { LoadTools } from './load';
import type { BenchOptions } from './options';
import type { Server } from './servers';

/** The bucket every workload but the listings writes to. */
export const BUCKET = 'bench';

export interface SourceFiles {
  big: string;
  concurrent: string;
  part: string;
}

export interface Bench {
  o: BenchOptions;
  servers: Server[];
  runDir: string;
  files: SourceFiles;
  tools: LoadTools;
  record: RunRecord;
  log(line: string): void;
}

export function objectUrl(server: Server, key: string): string {
  return `${server.base}/${BUCKET}/${key}`;
}

/** DELETE of an object (nginx deletes by WebDAV), so the disk and page cache stay free for the next one. */
export async function deleteObject(server: Server, key: string): Promise<void> {
  const reply = await request(server.base, 'DELETE', `/${BUCKET}/${key}`);
  if (reply.status >= 300 && reply.status !== 404) throw new Error(`DELETE ${key} on ${server.name} answered ${reply.status}`);
}

/** The 4 KiB keys that GET and HEAD cycle through, written once per server. */
export const SMALL_PREFIX = `/${BUCKET}/small/k`;
const preloaded = new WeakSet<Server>();

export async function preloadSmall(b: Bench, server: Server): Promise<void> {
  if (preloaded.has(server)) return;
  const body = Buffer.alloc(b.o.smallBytes, 's');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < b.o.smallKeys) {
      const i = next++;
      await expectOk(server.base, 'PUT', `${SMALL_PREFIX}${i}`, { body, agent: keepAlive });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  preloaded.add(server);
}

/** A file of random bytes in the cache, made once and reused (the page cache keeps it warm). */
export function sourceFile(cacheDir: string, bytes: number): string {
  const path = join(cacheDir, `source-${bytes}.bin`);
  if (existsSync(path)) return path;
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      const n = Math.min(chunk.length, bytes - written);
      randomFillSync(chunk, 0, n);
      writeSync(fd, chunk, 0, n);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path);
  return path;
}

/** Runs fn for each server in turn, turning a failure into a note so the other servers still run. */
export async function eachServer(b: Bench, what: string, fn: (s: Server) => Promise<void>, filter: (s: Server) => boolean = () => true): Promise<void> {
  for (const server of b.servers) {
    if (!filter(server)) continue;
    try {
      await fn(server);
    } catch (err) {
      const line = `${what} on ${server.name} failed: ${(err as Error).message}`;
      b.record.note(line);
      b.log(`  ! ${line}`);
    }
  }
}
