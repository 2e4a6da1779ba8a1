// Big transfers with curl, one process per transfer: `-T file` for a PUT, `-o /dev/null` for a GET,
// unsigned path-style requests. A failed transfer throws, so no figure is built on an error page.
import { run } from './proc';

export interface Transfer {
  seconds: number;
  bytes: number;
}

const FORMAT = '%{http_code} %{time_total} %{size_upload} %{size_download}';

function parse(url: string, what: string, out: { code: number; stdout: string; stderr: string }): Transfer {
  const [status, time, up, down] = out.stdout.trim().split(' ');
  if (out.code !== 0 || status === undefined || !/^2\d\d$/.test(status)) {
    throw new Error(`curl ${what} ${url}: exit ${out.code}, HTTP ${status ?? '?'} ${out.stderr.trim().slice(0, 300)}`);
  }
  return { seconds: Number(time), bytes: what === 'PUT' ? Number(up) : Number(down) };
}

/** PUT a file; no `Expect: 100-continue` round trip, so the bytes flow at once for every server. */
export async function curlPut(url: string, file: string): Promise<Transfer> {
  const out = await run('curl', ['-sS', '-T', file, '-H', 'Expect:', '-o', '/dev/null', '-w', FORMAT, url]);
  return parse(url, 'PUT', out);
}

export async function curlGet(url: string): Promise<Transfer> {
  const out = await run('curl', ['-sS', '-o', '/dev/null', '-w', FORMAT, url]);
  return parse(url, 'GET', out);
}

/** Runs transfers at once; the aggregate rate is all bytes over the wall time of the whole batch. */
export async function concurrently(transfers: (() => Promise<Transfer>)[]): Promise<{ mbPerSecond: number; seconds: number }> {
  const started = process.hrtime.bigint();
  const results = await Promise.all(transfers.map((t) => t()));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
  return { mbPerSecond: bytes / 1e6 / seconds, seconds };
}

/** MB/s (10^6 bytes per second) of one transfer. */
export function rate(t: Transfer): number {
  return t.bytes / 1e6 / t.seconds;
}

/** A loop of PUTs of one file, restarted as each ends, until stop() (workload 6's background streams). */
export function putLoop(url: string, file: string): { stop(): Promise<number> } {
  let running = true;
  let completed = 0;
  let current: Promise<unknown> = Promise.resolve();
  const controller = new AbortController();
  const loop = (async () => {
    while (running) {
      current = run('curl', ['-sS', '-T', file, '-H', 'Expect:', '-o', '/dev/null', url], { signal: controller.signal }).then((r) => {
        if (r.code === 0) completed += 1;
      });
      await current.catch(() => undefined);
    }
  })();
  return {
    async stop() {
      running = false;
      controller.abort();
      await loop;
      return completed;
    },
  };
}
