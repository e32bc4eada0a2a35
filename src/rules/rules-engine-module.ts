/**
 * The rules as an EngineModule of `vigil run`: checks the rules paths at start (a bad set stops the
 * start with every error as file:line:col), runs the rules topology (Avro in, `alerts` and recorded
 * samples out), hot-reloads the rules paths, and serves the live alert states on
 * GET /api/rules (loaded rules) and GET /api/alerts (groups that are pending, firing or resolved).
 *
 * Records that cannot be decoded are dead-lettered by the rollup topology, which reads the same
 * input; this module counts them but does not write a second copy to `metrics.dlq`.
 */
import type { EngineModule } from '../engine/engine-module.js';
import { checkRulesFiles, formatRuleError } from '../dsl/index.js';
import { componentLogger } from '../obs/logger.js';
import { RulesModule } from './rules-processor.js';
import { buildRegistryRulesTopology } from './registry-rules-topology.js';
import { watchRules, type RulesWatcher } from './rules-watcher.js';
import { alertingView } from './alerting-view.js';
import type { AlertingView, ReloadError } from '../query/alerting-view.js';

/** The rules given to `vigil run` do not check; the message lists every error. */
export class RulesLoadError extends Error {
  readonly code = 'RULES_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'RulesLoadError';
  }
}

export interface RulesEngineModuleOptions {
  /** Watch the rules paths and hot-reload (default true). */
  watch?: boolean;
  /** Wall time without records before an idle task follows the wall clock (default 60 s). */
  idleMs?: number;
}

/** The rules module, plus the view of its alerts and rules that the query API serves. */
export interface RulesEngineModule extends EngineModule {
  alerting(): AlertingView;
}

export function rulesModule(options: RulesEngineModuleOptions = {}): RulesEngineModule {
  const log = componentLogger('rules');
  let module: RulesModule | null = null;
  let watcher: RulesWatcher | null = null;
  let files: string[] = [];
  const reload: { at: number | null; errors: ReloadError[] } = { at: null, errors: [] };
  const views = () => {
    if (!module) return [];
    return module.liveEngines.flatMap((e) => e.loadedRules.filter((r) => r.kind === 'alert').flatMap((r) => e.alertStates(r.name).map((v) => ({ alertname: r.name, ...v }))));
  };
  return {
    name: 'rules',
    alerting: () => alertingView(() => ({ module, files, reload })),
    topologies(ctx) {
      const result = checkRulesFiles(ctx.rulesPaths);
      // A rules path that does not exist (e.g. the default ./rules elsewhere) is a warning, not a stop.
      const missing = result.errors.filter((e) => e.code === 'FILE' && e.message.endsWith('no such file'));
      for (const e of missing) log.warn({ path: e.file }, 'rules path does not exist; no rules from it');
      if (missing.length && missing.length === result.errors.length) {
        const existing = ctx.rulesPaths.filter((p) => !missing.some((m) => m.file === p));
        Object.assign(result, checkRulesFiles(existing));
      }
      if (result.errors.length) {
        throw new RulesLoadError(`rules do not check:\n${result.errors.map((e) => formatRuleError(e, result.sources.get(e.file))).join('\n')}`);
      }
      module = new RulesModule(result.model!);
      files = result.files.map((f) => f.file);
      reload.at = Date.now();
      log.info({ files: result.files.length, rules: result.model!.rules.length }, 'rules loaded');
      const t = ctx.config.topics;
      const { topology } = buildRegistryRulesTopology({
        applicationId: `${ctx.config.kafka.clientId}-rules`,
        module,
        registry: ctx.registryUrl,
        metricsTopic: t.metrics,
        alertsTopic: t.alerts,
        recordedTopic: t.recorded,
        lateTopic: t.metricsLate,
        dlqTopic: t.metricsDlq,
        writeDeadLetters: false,
        repartition: ctx.config.rules.repartition,
        inputPartitions: ctx.config.kafka.partitions,
        ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
      });
      return [topology];
    },
    routes(app) {
      app.get('/api/rules', async () => ({
        rules: (module?.liveEngines[0]?.loadedRules ?? []).map((r) => ({ name: r.name, kind: r.kind, file: r.file, hash: r.hash, window_ms: r.windowMs, step_ms: r.stepMs })),
      }));
      app.get('/api/alerts', async () => ({ alerts: views().filter((v) => v.phase !== 'inactive') }));
    },
    async start(ctx) {
      if (options.watch === false || !module) return;
      const m = module;
      watcher = watchRules({
        paths: ctx.rulesPaths,
        apply: (model) => m.reload(model),
        report: (r) => {
          reload.at = Date.now();
          reload.errors = r.ok ? [] : r.errors.map(parseFormattedError);
          if (r.ok) log.info({ changed: r.changed, kept: r.kept, removed: r.removed }, 'rules reloaded');
          else log.error(`rules not reloaded, the running rules stay:\n${r.errors.join('\n')}`);
        },
      });
      await watcher.ready;
    },
    async stop() {
      await watcher?.close();
      watcher = null;
    },
    status() {
      const v = views();
      return `${v.filter((x) => x.phase === 'firing').length} firing, ${v.filter((x) => x.phase === 'pending').length} pending`;
    },
  };
}

/** Splits a formatted `file:line:col: message` (+ source line and caret) into its parts. */
function parseFormattedError(text: string): ReloadError {
  const m = /^(.*):(\d+):(\d+): (.*)$/m.exec(text);
  if (!m) return { file: '', line: 0, column: 0, message: text, text };
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]), message: m[4]!, text };
}
