/**
 * The query service as an engine module: the Prometheus HTTP API (PromQL, and Vigil's language
 * with lang=vigil) over the archive plus the head of recent samples, the alerts and rules views
 * when the rules module provides them, and the web UI, on the engine's HTTP server
 * (VIGIL_HTTP_PORT). Queries, the head and DuckDB run on the query worker thread
 * (worker-client.ts), never on the thread that runs the topologies.
 */
import type { EngineContext, EngineModule } from '../engine/engine-module.js';
import { openObjectStore } from '../sinks/archive/storage/open-store.js';
import { registerUiRoutes } from '../ui/ui-routes.js';
import type { AlertingView } from './alerting-view.js';
import { registerQueryRoutes } from './query-routes.js';
import { registerStatusRoutes } from './status-routes.js';
import { startQueryWorker, type QueryWorker } from './worker-client.js';

export interface QueryModuleOptions {
  /** Where /api/v1/alerts and /api/v1/rules read from (the rules module), resolved at request time. */
  alerting?: () => AlertingView | undefined;
  /** Serve the web UI at / (default true). */
  ui?: boolean;
}

export function queryModule(options: QueryModuleOptions = {}): EngineModule {
  let worker: QueryWorker | null = null;
  const lazyAlerting: AlertingView = {
    alerts: () => options.alerting?.()?.alerts() ?? [],
    rules: () => options.alerting?.()?.rules() ?? { files: [], rules: [], errors: [], lastReload: null },
  };
  return {
    name: 'query',
    async routes(app, ctx: EngineContext) {
      worker = await startQueryWorker({
        brokers: ctx.brokers,
        registryUrl: ctx.registryUrl,
        clientId: ctx.config.kafka.clientId,
        topic: ctx.config.topics.metrics,
        consumer: ctx.consumerDefaults,
        archive: { root: ctx.config.archive.root, s3Endpoint: ctx.config.archive.s3Endpoint },
        query: ctx.config.query,
      });
      await registerQueryRoutes(app, { executor: worker, alerting: lazyAlerting });
      registerStatusRoutes(app, { archive: openObjectStore(ctx.config.archive), components: () => componentStatus(ctx) });
      if (options.ui !== false) await registerUiRoutes(app);
    },
    async stop() {
      await worker?.stop();
    },
    status: () => {
      const s = worker?.stats();
      return s ? `head ${s.series} series${s.full ? ' (full)' : ''}, on the query worker` : 'query worker starting';
    },
  };
}

/** The status lines of the engine's topologies and modules (the Status page). */
function componentStatus(ctx: EngineContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of ctx.runtimes) out[id] = `${r.processed} records, partitions [${r.assignedPartitions().join(',')}]`;
  return { ...out, ...ctx.moduleStatus?.() };
}
