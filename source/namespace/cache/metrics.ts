// The cache tier's metrics: what its reads, fills and persists count, and the gauges of its disk.
// The counters are defined together, in one module, so that /metrics lists them in one order.
import { counter, gauge } from '../../metrics';
import type { CacheDisk } from './index';

export const hits = counter('sluice_cache_hits_total', 'Reads served from a copy in the cache');
export const misses = counter('sluice_cache_misses_total', 'Reads of the under store that found no valid copy');
export const fills = counter(
  'sluice_cache_fills_total',
  'Copies filled into the cache (by a read, in the background, by a CACHE_THROUGH write)',
);
export const persists = counter('sluice_cache_persisted_total', 'ASYNC_THROUGH objects persisted to the under store');

/** The gauges of the cache's disk, and of its persist queue (`pending`: the jobs it holds). */
export function cacheGauges(disk: CacheDisk, pending: () => Promise<number>): void {
  // The ledger and the queue are on the shared cache disk: any process can tell them, none sums them.
  gauge('sluice_cache_used_bytes', 'Bytes held by the cache (complete copies and cache-only objects)', {
    merge: 'local',
    collect: async () => (await disk.ledger.usage()).used,
  });
  gauge('sluice_cache_reserved_bytes', 'Bytes held for writes and fills in progress', {
    merge: 'local',
    collect: async () => (await disk.ledger.usage()).reserved,
  });
  gauge('sluice_cache_capacity_bytes', 'Bytes the cache may hold at most', { merge: 'local', collect: () => disk.ledger.capacity });
  gauge('sluice_cache_persist_queue', 'ASYNC_THROUGH objects waiting to be persisted', {
    merge: 'local',
    collect: () => pending(),
  });
}
