/**
 * The rollup topologies: per-series 1-minute rollups of `metrics` into `metrics.rollup.1m`
 * (rollup-1m.ts), and 1-hour rollups of those into `metrics.rollup.1h` (rollup-1h.ts). Schema
 * schemas/rollup-batch.avsc, semantics in docs/topology.md.
 */
export { buildRollup1mTopology, SampleRollupStore } from './rollup-1m.js';
export { buildRollup1hTopology } from './rollup-1h.js';
export { ROLLUP_1M_MS, ROLLUP_1H_MS, type RollupTopologyOptions } from './rollup-common.js';
