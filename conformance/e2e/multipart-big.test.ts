// A 2 GiB object from 32 parts of 64 MiB, uploaded by raw HTTP streaming from a generated file:
// the server's memory stays flat (peak RSS < 150 MB) and the complete takes about as long as
// copying the bytes once, measured against `cat parts > out` of the same part files on the same disk.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import { createBucket, objectPath, startSluice, tempDir, waitFor, xmlValue } from '../lib/harness';
import { MiB, completeXml, createUpload, inParallel, multipartETag, partMd5sOfFile, timedRequest, uploadPartFromFile } from '../lib/multipart-helpers';

const PART_SIZE = 64 * MiB;
const PARTS = 32;
const RSS_LIMIT = 150 * 1000 * 1000;

/**
 * Streams `parts * partSize` bytes to `path`: one random MiB, each copy stamped with its index so
 * that no two MiB (and no two parts) are alike. Returns the MD5 of each part.
 */
async function generate(path: string, parts: number, partSize: number): Promise<string[]> {
  const block = randomBytes(MiB);
  const partMd5s: string[] = [];
  const chunks = Readable.from(
    (function* () {
      for (let p = 0; p < parts; p++) {
        const part = createHash('md5');
        for (let m = 0; m < partSize / MiB; m++) {
          const chunk = Buffer.from(block);
          chunk.writeUInt32BE(p, 0);
          chunk.writeUInt32BE(m, 4);
          part.update(chunk);
          yield chunk;
        }
        partMd5s.push(part.digest('hex'));
      }
    })(),
  );
  await pipeline(chunks, createWriteStream(path, { highWaterMark: 4 * MiB }));
  return partMd5s;
}

function timedShell(script: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sh', ['-c', script, 'sh', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${script}: exit ${code}`))));
  });
}

t.test('a 2 GiB object from 32 parts of 64 MiB: flat memory, complete close to one copy', async (t) => {
  const server = await startSluice();
  const dir = tempDir('sluice-big-');
  t.teardown(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await createBucket(server, 'big');
  const source = join(dir, 'source.bin');
  let started = performance.now();
  const partMd5s = await generate(source, PARTS, PART_SIZE);
  t.comment(`generated 2 GiB in ${(performance.now() - started).toFixed(0)} ms`);

  const id = await createUpload(server, 'big', 'huge/object.bin');
  started = performance.now();
  const etags = await inParallel(PARTS, 2, async (i) => {
    const res = await uploadPartFromFile(server, 'big', 'huge/object.bin', id, i + 1, source, i * PART_SIZE, PART_SIZE);
    if (res.status !== 200) throw new Error(`part ${i + 1}: ${res.status} ${res.text}`);
    return String(res.headers.etag).replace(/"/g, '');
  });
  t.comment(`uploaded 32 parts in ${(performance.now() - started).toFixed(0)} ms`);
  t.same(etags, partMd5s, 'each part\'s ETag is its MD5');
  rmSync(source); // only the server's copies from here on: less disk, and a fair page cache

  // The baseline: cat of the very part files the complete will read, on the same disk; taken
  // again after the complete (of the object, the same bytes) because the load of a shared
  // machine drifts, and averaged.
  const partsDir = join(server.root, '.sluice', 'uploads', id, 'parts');
  const partFiles = readdirSync(partsDir)
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((name) => join(partsDir, name));
  t.equal(partFiles.length, PARTS);
  const catOut = join(server.root, '.sluice', 'tmp', 'cat-baseline');
  const catBeforeMs = await timedShell('out="$1"; shift; cat "$@" > "$out"', [catOut, ...partFiles]);
  rmSync(catOut);

  const res = await timedRequest(server, 'POST', `${objectPath('big', 'huge/object.bin')}?uploadId=${id}`, completeXml(etags.map((etag, i) => ({ partNumber: i + 1, etag }))));
  const completeMs = res.endAt;
  t.equal(res.status, 200);
  t.equal(xmlValue(res.text, 'ETag'), `&quot;${multipartETag(partMd5s)}&quot;`, 'the multipart ETag, -32');
  const rss = server.rss();

  const leftovers = () => readdirSync(join(server.root, '.sluice', 'uploads')).filter((n) => n.startsWith(id) && !n.endsWith('.done.json'));
  await waitFor(() => leftovers().length === 0, 'the parts to be removed', 60_000);
  t.same(leftovers(), [], 'the parts are gone (removed in the background after the answer)');
  const object = join(server.root, 'big', 'huge', 'object.bin');
  const catAfterMs = await timedShell('cat "$1" > "$2"', [object, catOut]);
  rmSync(catOut);

  const catMs = (catBeforeMs + catAfterMs) / 2;
  const ratio = completeMs / catMs;
  t.comment(
    `complete ${completeMs.toFixed(0)} ms, cat ${catMs.toFixed(0)} ms (${catBeforeMs.toFixed(0)} before, ${catAfterMs.toFixed(0)} after), ` +
      `ratio ${ratio.toFixed(2)}, server peak RSS ${(rss / 1e6).toFixed(1)} MB`,
  );
  t.ok(rss > 0, 'peak RSS was read');
  t.ok(rss < RSS_LIMIT, `peak RSS ${(rss / 1e6).toFixed(1)} MB < 150 MB`);
  // Node's streamed copy (a thread-pool hop per chunk) costs about twice cat's CPU; on the shared
  // 2-core machine the ratio was 1.4 to 3.5 at load 6 to 14. 4 still catches a complete that does
  // per-byte work or holds bytes in memory, without failing on the neighbours' load.
  t.ok(ratio < 4, `complete within 4x of cat (ratio ${ratio.toFixed(2)}; the machine is shared)`);
  t.same(await partMd5sOfFile(object, PART_SIZE), partMd5s, 'the 2 GiB object holds the bytes of the parts in order');
});
