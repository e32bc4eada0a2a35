/**
 * `vigil produce`: the simulated fleet. Publishes one SampleBatch per host per interval to the
 * metrics topic, or (with --expose) serves the hosts as Prometheus exporters for `vigil collect`.
 *
 * Where it publishes: KAFKA_BROKERS / SCHEMA_REGISTRY_URL (or the config file). A piece that is not
 * set is started embedded in this process, as for every Vigil component (contracts.md); since an
 * embedded Kafka lives only as long as this process, it then prints the two addresses and a note
 * that `vigil stack` (shared, long-lived) or `vigil start` (everything) is what most users want.
 *
 * Status lines go to stderr every 2 s; the summary at the end to stderr too. Exit 0 after
 * --duration or on SIGINT/SIGTERM (after flushing what was published).
 */
import type { Command } from 'commander';
import { loadConfig, type VigilConfig } from '../../config/config.js';
import { startStack, type Stack } from '../../dev/stack.js';
import { FleetExporter } from '../../fleet/fleet-exporter.js';
import { FleetSession } from '../../fleet/fleet-session.js';
import { fleetSetup, type FleetOptionValues, type FleetSetup } from '../../fleet/fleet-setup.js';
import { addFleetShapeOptions } from './fleet-options.js';
import { FleetOptionError } from '../../fleet/fleet-option-error.js';
import { createKafka, ensureTopics, streamTopicSpec, topicPolicy } from '../../kafka/client.js';
import { SampleBatchPublisher } from '../../kafka/publisher.js';
import { sampleBatchSerde } from '../../model/serde.js';
import { UserError } from '../user-error.js';
import { stopSignals } from '../stop-signals.js';

interface ProduceFlags extends FleetOptionValues {
  fast?: boolean;
  topic?: string;
  expose?: string | boolean;
  publish?: boolean;
  fileSdOut?: string;
  statusInterval: string;
}

const say = (line: string) => process.stderr.write(`vigil produce: ${line}\n`);

/** Parses the fleet flags; bad values become a UserError naming the option. */
export function produceSetup(flags: FleetOptionValues & { fast?: boolean }, now: number): FleetSetup {
  try {
    return fleetSetup({ ...flags, asFastAsPossible: flags.asFastAsPossible || flags.fast }, now);
  } catch (err) {
    if (err instanceof FleetOptionError) throw new UserError(err.message, err.code);
    throw err;
  }
}

/** The port of `--expose[=PORT]`: undefined when absent, 0 (any free port) without a value. */
export function exposePort(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`Invalid --expose port "${value}": expected 0-65535`);
  return port;
}

async function runProduce(flags: ProduceFlags, program: Command): Promise<void> {
  const config = loadConfig({ path: program.opts().config });
  const setup = produceSetup(flags, Date.now());
  const port = exposePort(flags.expose);
  const publishing = port === undefined || !!flags.publish;
  if (port !== undefined && setup.speed !== 1) {
    throw new UserError('--expose serves live exporters in real time: it cannot be combined with --speed or --as-fast-as-possible');
  }
  if (flags.fileSdOut && port === undefined) throw new UserError('--file-sd-out needs --expose');
  const statusMs = Number(flags.statusInterval) * 1000;
  if (!(statusMs > 0)) throw new UserError(`Invalid --status-interval "${flags.statusInterval}": expected seconds above 0`);

  const ac = new AbortController();
  const signals = stopSignals((sig) => {
    say(`${sig}, stopping after flushing what was published`);
    ac.abort();
  });

  const stops: (() => Promise<void>)[] = [];
  try {
    let publisher: SampleBatchPublisher | undefined;
    let exporter: FleetExporter | undefined;
    if (publishing) {
      const stack = await connect(config);
      stops.push(() => stack.stop());
      const topic = flags.topic ?? config.topics.metrics;
      if (topic !== config.topics.metrics) await ensureTopics(stack.brokers, [streamTopicSpec(config, topic)], topicPolicy(config));
      publisher = createFleetPublisher(stack.brokers, stack.registryUrl, config, topic);
      await connectPublisher(publisher, topic);
      stops.push(() => publisher!.close());
      say(`publishing to topic "${topic}" at ${stack.brokers} (registry ${stack.registryUrl})`);
    }
    if (port !== undefined) {
      exporter = new FleetExporter(setup.model.hosts);
      stops.push(() => exporter!.close());
    }
    const session = new FleetSession({ setup, publisher, exporter, signal: ac.signal, statusIntervalMs: statusMs, onStatus: say });
    say(describe(setup));
    const running = session.run();
    if (exporter) {
      const listening = await exporter.listen(port);
      say(`exporters at ${exporter.url}/hosts/<host>/metrics (${setup.model.hosts.length} hosts, port ${listening})`);
      if (flags.fileSdOut) {
        await exporter.writeFileSd(flags.fileSdOut);
        say(`file_sd targets written to ${flags.fileSdOut}`);
      }
    }
    const result = await running.catch((err: Error) => {
      throw new UserError(`publishing failed: ${err.message}`);
    });
    say(result.summary);
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => say(`while stopping: ${err.message}`));
    signals.dispose();
  }
}

/** The publisher of the simulated fleet (also used by `vigil start`). */
export function createFleetPublisher(brokers: string, registryUrl: string, config: VigilConfig, topic: string): SampleBatchPublisher {
  return new SampleBatchPublisher({
    kafka: createKafka(brokers, `${config.kafka.clientId}-fleet`),
    serde: sampleBatchSerde({ registry: registryUrl }),
    topic,
    name: 'fleet',
  });
}

/** Registers the schema and connects, turning failures into a UserError that says what to check. */
export async function connectPublisher(publisher: SampleBatchPublisher, topic: string): Promise<void> {
  try {
    await publisher.connect();
  } catch (err) {
    await publisher.close().catch(() => undefined);
    throw new UserError(`cannot publish to "${topic}": ${(err as Error).message}`);
  }
}

/** Connects to the configured Kafka + registry, starting the missing ones embedded. */
async function connect(config: VigilConfig): Promise<Stack> {
  const embedded = !config.kafka.brokers || !config.schemaRegistry.url;
  let stack: Stack;
  try {
    stack = await startStack({ config });
  } catch (err) {
    throw new UserError(`cannot connect to Kafka / the schema registry: ${(err as Error).message}`);
  }
  if (embedded) {
    say(
      `no ${!config.kafka.brokers ? 'KAFKA_BROKERS' : 'SCHEMA_REGISTRY_URL'} set: started an embedded ` +
        `${!config.kafka.brokers ? 'Kafka + schema registry' : 'schema registry'} in this process; it lives only while this runs. ` +
        'For a shared one run `vigil stack` and export its two lines, or run everything with `vigil start`.',
    );
    process.stdout.write(`KAFKA_BROKERS=${stack.brokers}\nSCHEMA_REGISTRY_URL=${stack.registryUrl}\n`);
  }
  return stack;
}

function describe(s: FleetSetup): string {
  const m = s.model;
  const speed = s.speed === Infinity ? 'as fast as possible' : s.speed === 1 ? 'real time' : `${s.speed}x real time`;
  const duration = s.durationMs === undefined ? 'until stopped' : `for ${s.durationMs / 1000} s of event time`;
  return (
    `${m.hosts.length} hosts (${m.series.length} series each, ${m.seriesCount.toLocaleString('en-US')} series), ` +
    `every ${s.intervalMs / 1000} s, ${speed}, ${duration}, from ${new Date(s.startTime).toISOString()}, ` +
    `seed ${s.seed}, faults: ${m.faults.describe()}`
  );
}

export function register(program: Command): void {
  const command = program
    .command('produce')
    .description('simulated fleet publishing realistic metrics (and failing a few hosts so alerts fire)');
  addFleetShapeOptions(command)
    .option('--speed <n>', 'event time runs N times faster than the wall clock (default 1: real time)')
    .option('--as-fast-as-possible', 'no pacing: event time runs as fast as Kafka takes it')
    .option('--fast', 'same as --as-fast-as-possible')
    .option('--duration <duration>', 'event time to cover, e.g. 10s, 5m (default: until Ctrl-C)')
    .option('--start <time>', 'event time of the first sample: ISO-8601 or epoch ms (default: now)')
    .option('--topic <name>', 'topic to publish to (default: config topics.metrics, "metrics")')
    .option('--expose [port]', 'serve the hosts as Prometheus exporters on 127.0.0.1 (port 0 or none: any free port) instead of publishing')
    .option('--publish', 'with --expose: publish to Kafka as well')
    .option('--file-sd-out <file>', 'with --expose: write a Prometheus file_sd list of the exporters to FILE')
    .option('--status-interval <seconds>', 'seconds between status lines', '2')
    .action((flags: ProduceFlags) => runProduce(flags, program));
}
