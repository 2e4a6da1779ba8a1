// Metrics of the process itself: memory and how late its event loop runs. Summed (memory) or the
// worst (lag) over the processes of a cluster.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gauge } from './registry';

/** The lag figures cover this long a window, whenever they are read. */
const LAG_WINDOW_MS = 10_000;

gauge('process_resident_memory_bytes', 'Resident memory of the sluice processes, in bytes', { collect: () => process.memoryUsage.rss() });
const lagP99 = gauge('sluice_event_loop_lag_p99_seconds', 'Event-loop delay, 99th percentile over the last 10 s (worst process)', {
  merge: 'max',
});
const lagMax = gauge('sluice_event_loop_lag_max_seconds', 'Event-loop delay, largest over the last 10 s (worst process)', {
  merge: 'max',
});

let started = false;

/** Starts measuring the event loop's delay (a 20 ms sampling timer in libuv, never keeping the process alive). */
export function startProcessMetrics(): void {
  if (started) return;
  started = true;
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const timer = setInterval(() => {
    // The histogram counts the resolution itself as delay: subtract it.
    const over = (ns: number): number => Math.max(0, ns / 1e9 - 0.02);
    lagP99.set(delay.count > 0 ? over(delay.percentile(99)) : 0);
    lagMax.set(delay.count > 0 ? over(delay.max) : 0);
    delay.reset();
  }, LAG_WINDOW_MS);
  timer.unref();
}
