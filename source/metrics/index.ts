// Metrics: a registry every layer counts into, snapshots the processes of a cluster sum, and the
// Prometheus text format. Imports nothing of sluice.
export * from './registry';
export { startProcessMetrics } from './process';
