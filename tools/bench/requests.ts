// The request-rate workloads: (2) 4 KiB PUT, GET and HEAD ops/s, (3) ListObjectsV2 first pages of
// small and huge buckets, (6) 4 KiB GET latency alone and beside two big PUT streams.
import { deleteObject, eachServer, objectUrl, smallKeys, writeKeys, type Bench, type KeyRange } from './context';
import { putLoop } from './curl';
import { request } from './http';
import { cachedKeys, withBucketsFrom, type KeySet } from './keys';
import { runLoad, type LoadMethod, type LoadResult } from './load';
import { median, sleep } from './proc';
import { speaksS3, type BenchOptions, type ServerName } from './options';
import type { Server } from './servers';

/** A load of one method over a key range (workload 2's 4 KiB keys unless told), from its own process(es). */
export function smallLoad(b: Bench, s: Server, method: LoadMethod, connections: number, seconds: number, threads: number, keys: KeyRange = smallKeys(b.o)): Promise<LoadResult> {
  return runLoad(b.tools, {
    base: s.base,
    method,
    prefix: keys.prefix,
    keys: keys.count,
    bodyBytes: keys.bytes,
    connections,
    seconds,
    threads,
  });
}

/** A load's result, refused when nothing completed or more than 1% failed. */
export function checked(method: string, r: LoadResult): LoadResult {
  if (r.requests === 0) throw new Error(`${method}: no request completed`);
  if (r.errors > r.requests / 100) throw new Error(`${method}: ${r.errors} of ${r.requests} requests failed`);
  return r;
}

export async function smallObjects(b: Bench): Promise<void> {
  await eachServer(b, 'workload 2', async (s) => {
    // Every key exists before the PUT load (so it overwrites on every server alike), and again,
    // whole, before GET and HEAD are timed: a timed load ends by cutting its requests short.
    await writeKeys(s, smallKeys(b.o));
    const figures: string[] = [];
    for (const [method, id] of [['PUT', 'put4k'], ['GET', 'get4k'], ['HEAD', 'head4k']] as const) {
      if (method === 'GET') await writeKeys(s, smallKeys(b.o));
      await sleep(500);
      const r = checked(method, await smallLoad(b, s, method, b.o.connections, b.o.loadSeconds, 2));
      b.record.set(id, s.name, r.opsPerSecond);
      if (r.tool === 'loadgen' && b.tools.wrk !== undefined) b.record.note(`workload 2: ${method} load from tools/bench/loadgen (2 processes): wrk waits for a body after HEAD`);
      figures.push(`${method} ${Math.round(r.opsPerSecond)}/s`);
    }
    b.log(`  ${s.name}: ${figures.join(', ')}`);
  });
}

/** ms of the first page (1000 keys) of a bucket. */
async function firstPage(s: Server, bucket: string): Promise<number> {
  const reply = await request(s.base, 'GET', `/${bucket}?list-type=2&max-keys=1000`);
  if (reply.status !== 200) throw new Error(`ListObjectsV2 ${bucket} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
  const keys = reply.body.split('<Key>').length - 1;
  if (keys !== 1000) throw new Error(`ListObjectsV2 ${bucket}: the first page has ${keys} keys, not 1000`);
  return reply.ms;
}

/**
 * Median ms of each bucket's first page. The buckets take turns, after two warm-up rounds, so a
 * server's cold start (JIT, caches) is charged to none of them and the noise of the machine to all.
 */
async function firstPages(b: Bench, s: Server, buckets: string[]): Promise<number[]> {
  const times = buckets.map((): number[] => []);
  for (let round = -2; round < b.o.listRepeats; round++) {
    for (const [i, bucket] of buckets.entries()) {
      const ms = await firstPage(s, bucket);
      if (round >= 0) times[i]?.push(ms);
    }
  }
  return times.map((t) => median(t));
}

/** s3rver keeps an object's bytes in `<key>._S3rver_object`: empty files of that name are objects to it. */
function keySuffix(name: ServerName): string {
  return name === 's3rver' ? '._S3rver_object' : '';
}

/** The listing buckets: figure id and key set. */
function listingSets(o: BenchOptions): { id: string; set: Omit<KeySet, 'suffix'> }[] {
  return [
    { id: 'list10k', set: { count: o.listSmall, layout: 'tree' } },
    { id: 'listFlat10k', set: { count: o.listSmall, layout: 'flat' } },
    { id: 'list1m', set: { count: o.listLarge, layout: 'tree' } },
  ];
}

/** Writes the cached key sets the listings will need, before any run (and outside its time). */
export async function prepareListings(o: BenchOptions, names: ServerName[], log: (line: string) => void): Promise<void> {
  for (const name of names) {
    if (!speaksS3(name)) continue;
    for (const { set } of listingSets(o)) await cachedKeys(o.cacheDir, { ...set, suffix: keySuffix(name) }, log);
  }
}

export async function listings(b: Bench): Promise<void> {
  for (const s of b.servers) if (!s.s3) b.record.note(`workload 3: ${s.name} has no S3 listing; it is not measured there`);
  const sets = listingSets(b.o);
  await eachServer(
    b,
    'workload 3',
    async (s) => {
      const suffix = keySuffix(s.name);
      const loans: { cached: string; bucketDir: string }[] = [];
      for (const { set } of sets) {
        const cached = await cachedKeys(b.o.cacheDir, { ...set, suffix }, b.log);
        loans.push({ cached, bucketDir: s.bucketDir(`list-${set.layout}-${set.count}`) });
      }
      const buckets = sets.map(({ set }) => `list-${set.layout}-${set.count}`);
      const ms = await withBucketsFrom(loans, () => firstPages(b, s, buckets));
      sets.forEach(({ id }, i) => b.record.set(id, s.name, ms[i]));
      const shown = sets.map(({ set }, i) => `${set.count} ${set.layout} ${(ms[i] ?? 0).toFixed(1)} ms`);
      const small = b.record.get('list10k', s.name);
      const large = b.record.get('list1m', s.name);
      if (small !== undefined && large !== undefined) b.record.set('listRatio', s.name, large / small);
      b.log(`  ${s.name}: ${shown.join(', ')}`);
    },
    (s) => s.s3,
  );
}

export async function fairness(b: Bench): Promise<void> {
  await eachServer(b, 'workload 6', async (s) => {
    await writeKeys(s, smallKeys(b.o));
    await sleep(500);
    const alone = checked('GET', await smallLoad(b, s, 'GET', b.o.fairnessConnections, b.o.fairnessSeconds, 1));
    // Two PUT streams, each restarted as it ends, so they run for the whole measurement.
    const streams = [putLoop(objectUrl(s, 'stream/a'), b.files.big), putLoop(objectUrl(s, 'stream/b'), b.files.big)];
    let busy: LoadResult;
    try {
      await sleep(500);
      busy = checked('GET', await smallLoad(b, s, 'GET', b.o.fairnessConnections, b.o.fairnessSeconds, 1));
    } finally {
      const completed = await Promise.all(streams.map((t) => t.stop()));
      b.log(`  ${s.name}: the two PUT streams completed ${completed[0] ?? 0} + ${completed[1] ?? 0} PUTs while the GETs were measured`);
    }
    b.record.set('p50alone', s.name, alone.p50Ms);
    b.record.set('p99alone', s.name, alone.p99Ms);
    b.record.set('p50busy', s.name, busy.p50Ms);
    b.record.set('p99busy', s.name, busy.p99Ms);
    if (alone.p99Ms > 0) b.record.set('fairness', s.name, busy.p99Ms / alone.p99Ms);
    b.log(
      `  ${s.name}: alone p50 ${alone.p50Ms.toFixed(2)} / p99 ${alone.p99Ms.toFixed(2)} ms (${Math.round(alone.opsPerSecond)}/s); ` +
        `busy p50 ${busy.p50Ms.toFixed(2)} / p99 ${busy.p99Ms.toFixed(2)} ms (${Math.round(busy.opsPerSecond)}/s)`,
    );
    await sleep(300);
    for (const k of ['stream/a', 'stream/b']) await deleteObject(s, k).catch(() => undefined);
  });
}

