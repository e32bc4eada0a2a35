/**
 * `vigil start`: everything in one process on the embedded default (what `npm start` runs).
 *
 * Interim version: the stack (embedded Kafka + schema registry + topics) and the simulated fleet
 * publishing in real time (with --expose also serving its hosts as Prometheus exporters and writing
 * their file_sd list, `ctx.fleetTargetsFile`, for a collector component). Components start in the order of COMPONENTS and stop in reverse; each
 * later issue adds its component (engine, notifier, archive, UI) as one more entry. A component
 * reads what earlier ones set on the shared context (e.g. `ctx.stack`, `ctx.config`).
 *
 * Prints `KAFKA_BROKERS=...` and `SCHEMA_REGISTRY_URL=...` on stdout once the stack is up, then a
 * live status line on stderr every 2 s. SIGINT/SIGTERM stops everything (a second one: at once);
 * exit 0 after a clean stop, 1 when a component fails.
 */
import type { Command } from 'commander';
import { loadConfig, type VigilConfig } from '../../config/config.js';
import { startStack, type Stack } from '../../dev/stack.js';
import { Engine } from '../../engine/engine.js';
import { notifyModule } from '../../sinks/notify/notify-module.js';
import { parseDurationMs } from '../../dsl/duration.js';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { FleetExporter } from '../../fleet/fleet-exporter.js';
import { FleetSession } from '../../fleet/fleet-session.js';
import { fleetStart, loadFleetState, saveFleetState, type FleetState } from '../../fleet/fleet-state.js';
import { addFleetShapeOptions } from './fleet-options.js';
import { componentLogger } from '../../obs/logger.js';
import { UserError } from '../user-error.js';
import { stopSignals } from '../stop-signals.js';
import { connectPublisher, createFleetPublisher, exposePort, produceSetup } from './produce.js';
import { jobsFromFlags } from './collect.js';
import { CollectService } from '../../collect/collect-service.js';
import { engineModules } from './run.js';
import { embeddedKind } from './stack.js';

/** What components share: the config (filled in by the stack), earlier components' handles. */
export interface StartContext {
  config: VigilConfig;
  flags: StartFlags;
  stack?: Stack;
  /** The Prometheus file_sd list of the fleet's exporters (with --expose), for a collector. */
  fleetTargetsFile?: string;
  /** Prints one line on stderr, prefixed with the command name. */
  say(line: string): void;
}

/** A started component. */
export interface RunningComponent {
  /** A short live status for the status line (e.g. "1,200 samples/s"). */
  status?(): string;
  /** Settles when the component ends on its own; a rejection stops everything with exit 1. */
  done?: Promise<unknown>;
  stop(): Promise<void>;
}

export interface StartComponent {
  name: string;
  /** Checks the flags and config before anything starts; throws UserError. */
  check?(ctx: StartContext): void;
  start(ctx: StartContext): Promise<RunningComponent>;
}

interface StartFlags {
  pools: string;
  hosts: string;
  metrics: string;
  interval: string;
  seed: string;
  faults: string;
  fleet: boolean;
  expose?: string | boolean;
  fileSdOut?: string;
  statusInterval: string;
  backfill: string;
  rules?: string[];
  engine: boolean;
  embeddedKafka?: string;
  pull: boolean;
}

const stackComponent: StartComponent = {
  name: 'stack',
  async start(ctx) {
    const stack = await startStack({ config: ctx.config, embedded: embeddedKind(ctx.flags.embeddedKafka) });
    ctx.stack = stack;
    ctx.config = stack.config;
    process.stdout.write(`KAFKA_BROKERS=${stack.brokers}\nSCHEMA_REGISTRY_URL=${stack.registryUrl}\n`);
    return { stop: () => stack.stop() };
  },
};

/** The fleet's history before now, in ms (`--backfill`). */
function backfillMs(flags: StartFlags): number {
  const ms = flags.backfill === '0' ? 0 : parseDurationMs(flags.backfill);
  if (Number.isNaN(ms)) throw new UserError(`Invalid --backfill "${flags.backfill}": expected a duration such as 5m, or 0`);
  return ms;
}

/** The packaged example rules (rules/ of the Vigil package). */
const packagedRules = fileURLToPath(new URL('../../../rules', import.meta.url));

/**
 * --rules, else config rules.paths; when that is the default `rules` and this directory has none, the
 * packaged example rules (the demo must run anywhere), said on the console.
 */
function rulesPathsOf(ctx: StartContext): string[] {
  if (ctx.flags.rules) return ctx.flags.rules;
  const paths = ctx.config.rules.paths;
  if (paths.length === 1 && paths[0] === 'rules' && !existsSync('rules')) {
    ctx.say(`no ./rules here: running the packaged example rules in ${packagedRules}`);
    return [packagedRules];
  }
  return paths;
}

const engineComponent: StartComponent = {
  name: 'engine',
  async start(ctx) {
    if (!ctx.flags.engine) return { stop: async () => undefined };
    // `vigil run`'s modules plus the notifier; PagerDuty pages without a routing key go to the log.
    const modules = [...engineModules(), notifyModule({ missingRoutingKey: 'log' })];
    const engine = new Engine({ config: ctx.config, modules, rulesPaths: rulesPathsOf(ctx), embedded: !!ctx.stack?.kafka });
    try {
      await engine.start();
    } catch (err) {
      await engine.stop();
      throw err;
    }
    ctx.say(`UI and API at ${engine.url()}/ (emails in ${ctx.config.notify.smtpUrl ? ctx.config.notify.smtpUrl : ctx.config.notify.outbox})`);
    return { status: () => engine.status(), stop: () => engine.stop() };
  },
};

function fleetShape(flags: StartFlags): Record<string, string> {
  const { pools, hosts, metrics, interval, seed, faults } = flags;
  return { pools, hosts, metrics, interval, seed, faults };
}

/**
 * The fleet starts `--backfill` in the past (sent at once, then real time), like a fleet that was already
 * running: alerts whose `for` has run out fire within the first minute of the demo. When the previous
 * `vigil start` in this directory ran the same fleet (`previous`), it continues that fleet after its last
 * published tick instead, so no event time is published twice with other values.
 */
function fleetSetupOf(flags: StartFlags, previous?: FleetState) {
  const now = Date.now();
  const plan = fleetStart(previous, fleetShape(flags), now, backfillMs(flags));
  return { plan, setup: produceSetup({ ...fleetShape(flags), start: new Date(plan.startTime).toISOString() }, now) };
}

/** Where `vigil start` remembers its fleet: next to the state directory (./data/fleet.json). */
function fleetStateFile(ctx: StartContext): string {
  return join(dirname(ctx.config.state.dir), 'fleet.json');
}

const fleetComponent: StartComponent = {
  name: 'fleet',
  check(ctx) {
    if (!ctx.flags.fleet) return;
    fleetSetupOf(ctx.flags);
    exposePort(ctx.flags.expose);
    if (ctx.flags.fileSdOut && ctx.flags.expose === undefined && !ctx.flags.pull) throw new UserError('--file-sd-out needs --expose');
  },
  async start(ctx) {
    if (!ctx.flags.fleet) return { stop: async () => undefined };
    const stateFile = fleetStateFile(ctx);
    const { plan, setup } = fleetSetupOf(ctx.flags, loadFleetState(stateFile));
    if (plan.resumed) ctx.say(`fleet: continuing the fleet of the previous run after ${new Date(plan.skipThrough!).toISOString()} (${stateFile})`);
    const publisher = createFleetPublisher(ctx.stack!.brokers, ctx.stack!.registryUrl, ctx.config, ctx.config.topics.metrics);
    await connectPublisher(publisher, ctx.config.topics.metrics);
    // The pull path: with --pull (the default) the hosts are also served as exporters for the collector.
    const port = exposePort(ctx.flags.expose ?? (ctx.flags.pull ? true : undefined));
    const exporter = port === undefined ? undefined : new FleetExporter(setup.model.hosts);
    const ac = new AbortController();
    const session = new FleetSession({ setup, publisher, exporter, signal: ac.signal, ...(plan.skipThrough !== undefined ? { skipThrough: plan.skipThrough } : {}) });
    const done = session.run();
    // Records how far the fleet got: the event time of the last tick, once everything queued up to it is
    // acknowledged (so a resumed fleet neither repeats nor skips a tick, even after a SIGKILL).
    const saveProgress = async () => {
      const at = session.stats.eventTime;
      if (at === undefined) return;
      await publisher.flush();
      await saveFleetState(stateFile, { shape: fleetShape(ctx.flags), startTime: setup.startTime, lastEventTime: at });
    };
    let saving = Promise.resolve();
    const progress = setInterval(() => {
      saving = saving.then(saveProgress).catch((err: Error) => componentLogger('start').warn({ err: err.message }, 'cannot record the fleet\'s progress'));
    }, 5_000);
    ctx.say(`fleet: ${setup.model.hosts.length} hosts x ${setup.model.series.length} series every ${setup.intervalMs / 1000} s in real time, faults ${setup.model.faults.describe()}`);
    const stop = async () => {
      clearInterval(progress);
      ac.abort();
      await done.catch(() => undefined);
      await saving;
      await saveProgress().catch((err: Error) => componentLogger('start').warn({ err: err.message }, 'cannot record the fleet\'s progress'));
      await publisher.close();
      await exporter?.close();
    };
    if (exporter) {
      try {
        await exporter.listen(port);
        const file = ctx.flags.fileSdOut ?? join(dirname(ctx.config.state.dir), 'fleet-targets.json');
        await mkdir(dirname(file), { recursive: true });
        await exporter.writeFileSd(file);
        ctx.fleetTargetsFile = file;
        ctx.say(`fleet: exporters at ${exporter.url}/hosts/<host>/metrics, file_sd targets in ${file}`);
      } catch (err) {
        await stop();
        throw new UserError(`cannot serve the fleet's exporters: ${(err as Error).message}`);
      }
    }
    return { status: () => session.statusLine(), done, stop };
  },
};


const collectorComponent: StartComponent = {
  name: 'collect',
  async start(ctx) {
    const file = ctx.fleetTargetsFile;
    if (!ctx.flags.pull || !file) return { stop: async () => undefined };
    const jobs = jobsFromFlags({
      fileSd: [file],
      job: 'fleet',
      interval: ctx.flags.interval,
      metricsPath: '/metrics',
      scheme: 'http',
      honorTimestamps: true,
      refreshInterval: '5m',
      shard: false,
      group: 'vigil-collectors',
      statusInterval: '10s',
      staleMarkers: true,
    });
    const publisher = createFleetPublisher(ctx.stack!.brokers, ctx.stack!.registryUrl, ctx.config, ctx.config.topics.metrics);
    const service = new CollectService({ jobs, publisher, staleMarkers: true });
    await service.start();
    ctx.say(`collect: scraping the fleet's exporters listed in ${file} (job "fleet")`);
    return {
      status: () => {
        const s = service.status();
        return `${s.targets} targets, ${s.up} up, ${s.scrapes} scrapes`;
      },
      stop: async () => {
        await service.stop();
        await publisher.close();
      },
    };
  },
};

/** Started in this order, stopped in reverse. Add a component with one line. */
export const COMPONENTS: StartComponent[] = [stackComponent, engineComponent, fleetComponent, collectorComponent];

async function runStart(flags: StartFlags, program: Command): Promise<void> {
  const log = componentLogger('start');
  const say = (line: string) => process.stderr.write(`vigil start: ${line}\n`);
  const ctx: StartContext = { config: loadConfig({ path: program.opts().config }), flags, say };
  const statusMs = Number(flags.statusInterval) * 1000;
  if (!(statusMs > 0)) throw new UserError(`Invalid --status-interval "${flags.statusInterval}": expected seconds above 0`);

  let stopRequested: (reason: string) => void = () => undefined;
  const stopping = new Promise<string>((resolve) => (stopRequested = resolve));
  let stopped = false;
  const signals = stopSignals((sig) => {
    stopped = true;
    stopRequested(sig);
  });

  const running: { name: string; component: RunningComponent }[] = [];
  let failure: unknown;
  let timer: NodeJS.Timeout | undefined;
  for (const c of COMPONENTS) c.check?.(ctx);
  try {
    for (const c of COMPONENTS) {
      if (stopped) break;
      const component = await c.start(ctx);
      running.push({ name: c.name, component });
      component.done?.then(
        () => stopRequested(`${c.name} ended`),
        (err: Error) => {
          failure = err;
          stopRequested(`${c.name} failed: ${err.message}`);
        },
      );
    }
    if (!stopped) {
      say(`running ${running.map((r) => r.name).join(', ')}; stop with Ctrl-C (SIGINT) or SIGTERM`);
      timer = setInterval(() => {
        const parts = running.flatMap((r) => (r.component.status ? [`${r.name}: ${r.component.status()}`] : []));
        if (parts.length) say(parts.join(' || '));
      }, statusMs);
      say(`stopping: ${await stopping}`);
    }
  } catch (err) {
    failure = err;
  } finally {
    stopped = true;
    signals.forceNext();
    if (timer) clearInterval(timer);
    for (const { name, component } of running.reverse()) {
      await component.stop().catch((err: Error) => log.warn({ err, component: name }, 'stop failed'));
    }
    signals.dispose();
  }
  if (failure) throw failure instanceof UserError ? failure : new UserError(`vigil start failed: ${(failure as Error).message}`);
  say('stopped');
}

export function register(program: Command): void {
  const command = program
    .command('start')
    .description(
      'everything in one process on the embedded default: Kafka, schema registry, the engine (rollups, rules, archive, query API and UI), the notifier and the simulated fleet',
    )
    .option('--rules <paths...>', 'rules files or directories (default: config rules.paths, ./rules)')
    .option('--no-engine', 'do not run the engine and notifier (stack and fleet only)')
    .option('--embedded-kafka <kind>', 'without KAFKA_BROKERS: "broker" (a real Apache Kafka, data in ./data/kafka) or "mock" (librdkafka\'s in-process mock, lost at exit) (default: config kafka.embedded, "broker")')
    .option('--no-pull', 'do not serve the fleet as exporters and scrape them (the pull path)');
  addFleetShapeOptions(command, 'simulated fleet: ')
    .option('--backfill <duration>', 'simulated fleet: history sent at start before following the wall clock (0 = none)', '5m')
    .option('--no-fleet', 'do not run the simulated fleet')
    .option('--expose [port]', 'simulated fleet: also serve the hosts as Prometheus exporters on 127.0.0.1 (any free port by default)')
    .option('--file-sd-out <file>', 'with --expose: file_sd list of the exporters (default: fleet-targets.json next to the state dir)')
    .option('--status-interval <seconds>', 'seconds between status lines', '2')
    .action((flags: StartFlags) => runStart(flags, program));
}
