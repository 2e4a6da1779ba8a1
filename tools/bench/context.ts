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
  /** This round's servers, in this round's order (rotated each round). */
  servers: Server[];
  /** 1, 2, …: which round this is. */
  round: number;
  runDir: string;
  files: SourceFiles;
  tools: LoadTools;
  record: RunRecord;
  log(line: string): void;
  /** True once SIGINT or SIGTERM arrived: no further server's turn starts. */
  stopping(): boolean;
}

export function objectUrl(server: Server, key: string): string {
  return `${server.base}/${BUCKET}/${key}`;
}

/** DELETE of an object (nginx deletes by WebDAV), so the disk and page cache stay free for the next one. */
export async function deleteObject(server: Server, key: string): Promise<void> {
  const reply = await request(server.base, 'DELETE', `/${BUCKET}/${key}`);
  if (reply.status >= 300 && reply.status !== 404) throw new Error(`DELETE ${key} on ${server.name} answered ${reply.status}`);
}

/** The 4 KiB keys that PUT, GET and HEAD cycle through. */
export const SMALL_PREFIX = `/${BUCKET}/small/k`;

/** A set of keys `${prefix}${i}`, i in [0, count), each of `bytes` bytes. */
export interface KeyRange {
  prefix: string;
  count: number;
  bytes: number;
}

export function smallKeys(o: BenchOptions): KeyRange {
  return { prefix: SMALL_PREFIX, count: o.smallKeys, bytes: o.smallBytes };
}

/** GETs the keys at these indices: each must answer 200 with exactly `bytes` bytes. */
export async function checkKeys(server: Server, keys: KeyRange, indices: number[], parallel = 16): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < indices.length) {
      const path = `${keys.prefix}${indices[next++] ?? 0}`;
      const reply = await request(server.base, 'GET', path, { agent: keepAlive });
      if (reply.status !== 200 || reply.bytes !== keys.bytes) {
        throw new Error(`GET ${path} on ${server.name} answered ${reply.status} with ${reply.bytes} bytes, not 200 with ${keys.bytes}`);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/**
 * Writes every key (so each exists, whole, whatever a timed PUT load cut short), then checks a
 * sample of 20 spread over the range answers 200 with the right length: before any GET is timed.
 */
export async function writeKeys(server: Server, keys: KeyRange): Promise<void> {
  const body = Buffer.alloc(keys.bytes, 's');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.count) await expectOk(server.base, 'PUT', `${keys.prefix}${next++}`, { body, agent: keepAlive });
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const sample = Array.from({ length: Math.min(20, keys.count) }, (_, i) => Math.floor(((i + 0.5) * keys.count) / Math.min(20, keys.count)));
  await checkKeys(server, keys, sample);
}

/** The list turned by `round - 1` places: round 1 keeps the order, round 2 starts with the second… */
export function rotate<T>(list: readonly T[], round: number): T[] {
  if (list.length === 0) return [];
  const by = (round - 1) % list.length;
  return [...list.slice(by), ...list.slice(0, by)];
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
    if (b.stopping()) return;
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
