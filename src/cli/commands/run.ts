/**
 * `vigil run --rules PATH...`: the engine. Runs the rollup topologies (1m rollups of `metrics` into
 * `metrics.rollup.1m`, 1h rollups into `metrics.rollup.1h`) with LevelDB state under VIGIL_STATE_DIR,
 * /metrics and /healthz on VIGIL_HTTP_PORT. Without KAFKA_BROKERS / SCHEMA_REGISTRY_URL it starts the
 * embedded stack in this process. SIGINT/SIGTERM = clean stop with a final commit (exit 0).
 *
 * Other areas join as EngineModules: add them to MODULES below (one line each).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { startStack, type Stack } from '../../dev/stack.js';
import { Engine } from '../../engine/engine.js';
import type { EngineModule } from '../../engine/engine-module.js';
import { rollupModule } from '../../engine/rollup-module.js';
import { archiveModule } from '../../sinks/archive/archive-module.js';
import { rulesModule } from '../../rules/rules-engine-module.js';
import { queryModule } from '../../query/query-module.js';
import { checkRulesFiles, formatRuleError } from '../../dsl/index.js';
import { UserError } from '../user-error.js';
import { stopSignals } from '../stop-signals.js';

/** The engine's modules. Rules, archive and query modules are added here by their areas. */
export function engineModules(): EngineModule[] {
  const rules = rulesModule();
  return [rollupModule(), archiveModule(), rules, queryModule({ alerting: () => rules.alerting() })];
}

/**
 * Throws a UserError listing every error of the rules at `paths` as file:line:col (missing paths are the rules
 * module's to warn about, as at a reload).
 */
export function checkRulesBeforeStart(paths: string[]): void {
  const result = checkRulesFiles(paths);
  const errors = result.errors.filter((e) => !(e.code === 'FILE' && e.message.endsWith('no such file')));
  if (errors.length) throw new UserError(`rules do not check:\n${errors.map((e) => formatRuleError(e, result.sources.get(e.file))).join('\n')}`, 'RULES_INVALID');
}

interface RunFlags {
  rules?: string[];
  commitInterval: string;
}

async function run(flags: RunFlags, program: Command): Promise<void> {
  const loaded = loadConfig({ path: program.opts().config });
  const commitIntervalMs = Number(flags.commitInterval);
  if (!Number.isInteger(commitIntervalMs) || commitIntervalMs < 10) throw new UserError(`--commit-interval must be an integer of ms >= 10, got "${flags.commitInterval}"`);
  const signals = stopSignals();
  let stack: Stack | null = null;
  let engine: Engine | null = null;
  try {
    const embedded = !loaded.kafka.brokers;
    const rulesPaths = flags.rules ?? loaded.rules.paths;
    // Bad rules are the user's to fix: said before anything (an embedded broker) starts.
    checkRulesBeforeStart(rulesPaths);
    stack = await startStack({ config: loaded });
    engine = new Engine({ config: stack.config, modules: engineModules(), rulesPaths, embedded, commitIntervalMs });
    await engine.start();
    process.stdout.write(`vigil run: engine started (${engine.status()}); http ${engine.url() ?? 'off'}\n`);
    await signals.received;
  } finally {
    await engine?.stop();
    await stack?.stop();
    signals.dispose();
  }
  process.stdout.write('vigil run: stopped\n');
}

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'the engine: 1m/1h rollups, rules (alerts topic, recording rules, hot reload), archive writer, query API + web UI, /metrics and /healthz on VIGIL_HTTP_PORT',
    )
    .option('--rules <paths...>', 'rules files or directories (default: config rules.paths)')
    .option('--commit-interval <ms>', 'commit interval in ms', '5000')
    .action(async (flags: RunFlags) => run(flags, program));
}
