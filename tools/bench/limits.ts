// The machine's limits that are not servers: one core's MD5 rate (Node's crypto and openssl speed)
// and `cat parts > out` on the disk the servers write to.
import { createHash, randomFillSync } from 'node:crypto';
import { run, which } from './proc';

/** MB/s of Node's MD5 on one core: a 256 MiB buffer hashed in 1 MiB updates, as a stream would. */
export function nodeMd5Rate(): number {
  const chunk = 1024 * 1024;
  const buffer = randomFillSync(Buffer.allocUnsafe(256 * chunk));
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const hash = createHash('md5');
    const started = process.hrtime.bigint();
    for (let offset = 0; offset < buffer.length; offset += chunk) hash.update(buffer.subarray(offset, offset + chunk));
    hash.digest();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    best = Math.max(best, buffer.length / 1e6 / seconds);
  }
  return best;
}

/** MB/s of `openssl speed -evp md5` on 16 KiB blocks, or undefined without openssl. */
export async function opensslMd5Rate(): Promise<number | undefined> {
  const openssl = which('openssl');
  if (openssl === undefined) return undefined;
  const out = await run(openssl, ['speed', '-evp', 'md5', '-bytes', '16384', '-seconds', '2']);
  if (out.code !== 0) return undefined;
  // The last line: `md5   1234567.89k` in thousands of bytes per second.
  const line = out.stdout.trim().split('\n').reverse().find((l) => /^md5\s/i.test(l));
  const match = line === undefined ? null : /([\d.]+)k\s*$/.exec(line);
  return match === null ? undefined : Number(match[1]) / 1000;
}

/** Seconds of `cat parts > out`, the floor for assembling a multipart object from its parts. */
export async function catSeconds(parts: string[], out: string): Promise<number> {
  const result = await run('sh', ['-c', 'out="$1"; shift; cat "$@" > "$out"', 'sh', out, ...parts]);
  if (result.code !== 0) throw new Error(`cat parts > out failed: ${result.stderr.trim()}`);
  return result.seconds;
}
