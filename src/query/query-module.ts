/**
 * The query service as an engine module: the Prometheus-shaped query API over the archive plus the
 * head of recent samples, the alerts and rules views when the rules module provides them, and the
 * web UI. Served on the engine's HTTP server (VIGIL_HTTP_PORT).
 */
import type { EngineContext, EngineModule } from '../engine/engine-module.js';
import type { ResilientConsumer } from '../kafka/client.js';
import { ArchiveQuery } from '../sinks/archive/archive-query.js';
import { openObjectStore } from '../sinks/archive/storage/open-store.js';
import { registerUiRoutes } from '../ui/ui-routes.js';
import type { AlertingView } from './alerting-view.js';
import { ArchiveSource } from './archive-source.js';
import { CombinedSource } from './combined-source.js';
import { Head } from './head.js';
import { startHeadFeeder } from './head-feeder.js';
import { registerQueryRoutes } from './query-routes.js';
import { registerStatusRoutes } from './status-routes.js';

export interface QueryModuleOptions {
  /** Where /api/v1/alerts and /api/v1/rules read from (the rules module), resolved at request time. */
  alerting?: () => AlertingView | undefined;
  /** Serve the web UI at / (default true). */
  ui?: boolean;
}

export function queryModule(options: QueryModuleOptions = {}): EngineModule {
  const head = new Head();
  let archive: ArchiveQuery | null = null;
  let feeder: ResilientConsumer | null = null;
  const lazyAlerting: AlertingView = {
    alerts: () => options.alerting?.()?.alerts() ?? [],
    rules: () => options.alerting?.()?.rules() ?? { files: [], rules: [], errors: [], lastReload: null },
  };
  return {
    name: 'query',
    async routes(app, ctx: EngineContext) {
      const store = openObjectStore(ctx.config.archive);
      archive = await ArchiveQuery.open(store);
      await registerQueryRoutes(app, { source: new CombinedSource(new ArchiveSource(archive), head), alerting: lazyAlerting });
      registerStatusRoutes(app, { archive: store, components: () => componentStatus(ctx) });
      if (options.ui !== false) await registerUiRoutes(app);
    },
    async start(ctx: EngineContext) {
      feeder = await startHeadFeeder({
        kafka: ctx.kafka,
        topic: ctx.config.topics.metrics,
        registryUrl: ctx.registryUrl,
        head,
        consumer: ctx.consumerDefaults,
        logger: ctx.logger,
      });
    },
    async stop() {
      await feeder?.stop();
      archive?.close();
    },
    status: () => `head ${head.size} series`,
  };
}

/** The status lines of the engine's topologies and modules (the Status page). */
function componentStatus(ctx: EngineContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of ctx.runtimes) out[id] = `${r.processed} records, partitions [${r.assignedPartitions().join(',')}]`;
  return { ...out, ...ctx.moduleStatus?.() };
}
