/**
 * `vigil stack`: only the embedded Kafka + schema registry (+ Vigil's topics). Prints exactly
 * `KAFKA_BROKERS=<bootstrap>` and `SCHEMA_REGISTRY_URL=<url>` on stdout once ready (logs go to stderr),
 * runs until SIGINT/SIGTERM, then stops cleanly with exit code 0. The embedded Kafka is a real broker
 * (data in kafka.dataDir: a second `vigil stack` finds its topics, offsets and schemas) or, with
 * `--embedded-kafka mock`, librdkafka's mock.
 * With KAFKA_BROKERS / SCHEMA_REGISTRY_URL
 * set it starts nothing for them and prints them back.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { startStack, type Stack } from '../../dev/stack.js';
import { UserError } from '../user-error.js';
import { stopSignals } from '../stop-signals.js';

interface StackFlags {
  brokerCount: string;
  embeddedKafka?: string;
  partitions?: string;
  registryPort?: string;
}

function positiveInt(value: string, flag: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UserError(`${flag} must be an integer from 1 to ${max}, got "${value}"`);
  return n;
}

async function runStack(flags: StackFlags, program: Command): Promise<void> {
  const config = loadConfig({ path: program.opts().config });
  const options = {
    config,
    embedded: embeddedKind(flags.embeddedKafka),
    brokers: positiveInt(flags.brokerCount, '--broker-count', 16),
    partitions: flags.partitions === undefined ? undefined : positiveInt(flags.partitions, '--partitions', 10_000),
    registryPort: flags.registryPort === undefined ? undefined : positiveInt(flags.registryPort, '--registry-port', 65535),
  };
  // Handlers first: whoever reads our stdout may signal us the moment the lines appear. A second
  // signal while stopping means "now".
  const signals = stopSignals();
  // Nothing else may keep the event loop alive (the embedded Kafka runs on native threads).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    let stack: Stack;
    try {
      stack = await startStack(options);
    } catch (err) {
      // Known set-up failures (librdkafka missing, unreachable cluster, port taken) are the user's to fix.
      const e = err as Error & { code?: unknown };
      if (typeof e.code === 'string') throw new UserError(e.message, e.code);
      throw err;
    }
    if (!signals.signal) {
      process.stdout.write(`KAFKA_BROKERS=${stack.brokers}\nSCHEMA_REGISTRY_URL=${stack.registryUrl}\n`);
      process.stderr.write('vigil stack: ready; stop with Ctrl-C (SIGINT) or SIGTERM\n');
    }
    process.stderr.write(`vigil stack: ${await signals.received}, stopping\n`);
    await stack.stop();
  } finally {
    clearInterval(keepAlive);
    signals.dispose();
  }
}

/** The --embedded-kafka flag: `broker` (a real Kafka, the default of config kafka.embedded) or `mock`. */
export function embeddedKind(value: string | undefined): 'broker' | 'mock' | undefined {
  if (value === undefined || value === 'broker' || value === 'mock') return value;
  throw new UserError(`--embedded-kafka must be "broker" or "mock", got "${value}"`);
}

export function register(program: Command): void {
  program
    .command('stack')
    .description('run only the embedded Kafka + schema registry; prints KAFKA_BROKERS=... and SCHEMA_REGISTRY_URL=...')
    .option('--broker-count <n>', 'embedded Kafka brokers', '1')
    .option(
      '--embedded-kafka <kind>',
      'without KAFKA_BROKERS: "broker", a real Apache Kafka with its data in kafka.dataDir (./data/kafka), or "mock", librdkafka\'s in-process mock (lost at exit) (default: config kafka.embedded, "broker")',
    )
    .option('--partitions <n>', "partitions of Vigil's topics (default: config kafka.partitions, 4)")
    .option('--registry-port <port>', 'port of the embedded schema registry (default: any free port)')
    .action((flags: StackFlags) => runStack(flags, program));
}
