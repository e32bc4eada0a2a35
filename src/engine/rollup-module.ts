/** The engine module of the rollup topologies (1m from `metrics`, 1h from the 1m topic). */
import type { EngineModule } from './engine-module.js';
import { buildRollup1hTopology, buildRollup1mTopology } from '../topology/rollup/rollup-topology.js';
import { parseDuration } from '../topology/windows.js';

export interface RollupModuleOptions {
  /** Grace of the 1m windows (ms). Default 10000. */
  graceMs?: number;
  /** Also run the 1h rollups (default true). */
  hourly?: boolean;
}

export function rollupModule(options: RollupModuleOptions = {}): EngineModule {
  return {
    name: 'rollup',
    topologies(ctx) {
      const t = ctx.config.topics;
      const common = { registry: ctx.registryUrl, lateTopic: t.metricsLate, dlqTopic: t.metricsDlq, maxRecordBytes: ctx.config.kafka.maxMessageBytes };
      const maxFutureMs = parseDuration(ctx.config.ingest.maxFuture);
      const evictAfterMs = parseDuration(ctx.config.ingest.evictSeriesAfter);
      // Consumer groups (= application ids) carry the client id: several Vigils can share one cluster.
      const app = ctx.config.kafka.clientId;
      const list = [buildRollup1mTopology({ ...common, applicationId: `${app}-rollup-1m`, inputTopic: t.metrics, outputTopic: t.rollup1m, graceMs: options.graceMs ?? 10_000, maxFutureMs, evictAfterMs })];
      if (options.hourly ?? true) list.push(buildRollup1hTopology({ ...common, applicationId: `${app}-rollup-1h`, inputTopic: t.rollup1m, outputTopic: t.rollup1h, evictAfterMs: 3 * evictAfterMs }));
      return list;
    },
  };
}
