// What the primary and the workers of a cluster tell each other over node:cluster's IPC channel,
// besides node's own messages: metrics (a worker asked for /-/metrics asks the primary, which
// gathers every worker's snapshot and sums them), a graceful stop, and a start-up failure to report.
import type { Snapshot } from '../metrics';

export type ToPrimary =
  | { sluice: 'cluster-metrics'; id: number }
  | { sluice: 'snapshot'; id: number; snapshot: Snapshot }
  /** The worker cannot serve (port taken, unreadable certificate): the primary says why and stops. */
  | { sluice: 'fatal'; message: string };

export type ToWorker =
  | { sluice: 'snapshot'; id: number }
  /** Stop gracefully (SIGTERM or SIGINT reached the primary). */
  | { sluice: 'stop'; reason: string }
  | { sluice: 'cluster-metrics'; id: number; snapshot: Snapshot };

export function isMessage<T extends { sluice: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { sluice?: unknown }).sluice === 'string';
}

/** How long the primary waits for a worker's snapshot before it uses the last one it had. */
export const SNAPSHOT_TIMEOUT_MS = 2_000;
