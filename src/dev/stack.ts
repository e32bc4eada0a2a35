/**
 * The dev stack: Kafka + schema registry + Vigil's topics, embedded by default. What `vigil stack` and
 * `vigil start` run, and what integration tests stand on (test/support/stack.ts).
 *
 * - No `kafka.brokers` in the config (KAFKA_BROKERS unset): start the embedded Kafka in this process.
 * - No `schemaRegistry.url` (SCHEMA_REGISTRY_URL unset): start the embedded schema registry on the Kafka.
 * - Either one set: use it and start nothing for it.
 * In every case the topics of `stackTopics(config)` exist afterwards (created when missing).
 */
import { configSchema, type VigilConfig } from '../config/config.js';
import { ensureTopics, type TopicSpec } from '../kafka/client.js';
import { componentLogger } from '../obs/logger.js';
import { startSchemaRegistry } from '../registry/server.js';
import { startEmbeddedKafka, type EmbeddedKafka } from './embedded-kafka.js';

export interface StackOptions {
  /** Embedded brokers (default 1). */
  brokers?: number;
  /** Partitions of Vigil's topics (default config.kafka.partitions). */
  partitions?: number;
  /** Port of the embedded registry (default any free port). */
  registryPort?: number;
  /** Configuration (default: all defaults, i.e. everything embedded). */
  config?: VigilConfig;
}

/** A running stack. `stop()` stops what it started (never an external cluster or registry); idempotent. */
export interface Stack {
  /** Bootstrap servers, comma-separated (what KAFKA_BROKERS takes). */
  readonly brokers: string;
  /** Schema registry base URL (what SCHEMA_REGISTRY_URL takes). */
  readonly registryUrl: string;
  /** The embedded Kafka (fault injection, topic creation), or undefined when KAFKA_BROKERS pointed elsewhere. */
  readonly kafka: EmbeddedKafka | undefined;
  /** The config with kafka.brokers and schemaRegistry.url filled in: hand it to the components. */
  readonly config: VigilConfig;
  stop(): Promise<void>;
}

/** The topics the stack always makes sure of: Vigil's topics with `partitions`, and `_schemas`. */
export function stackTopics(config: VigilConfig, partitions = config.kafka.partitions): TopicSpec[] {
  const t = config.topics;
  const names = [t.metrics, t.metricsDlq, t.metricsLate, t.rollup1m, t.rollup1h, t.alerts, t.alertsDlq, t.silences, t.recorded];
  const specs: TopicSpec[] = [...new Set(names)].map((name) => ({ name, partitions }));
  specs.push({ name: '_schemas', partitions: 1, compacted: true });
  return specs;
}

/** Starts (or connects to) Kafka and the schema registry and creates Vigil's topics. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = componentLogger('stack');
  const config = options.config ?? configSchema.parse({});
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch((err: Error) => log.warn({ err }, 'stop step failed'));
  };
  try {
    let kafka: EmbeddedKafka | undefined;
    let brokers = config.kafka.brokers;
    if (!brokers) {
      kafka = await startEmbeddedKafka({ brokers: options.brokers ?? 1 });
      cleanup.push(() => kafka!.stop());
      brokers = kafka.bootstrapServers;
    }
    const topics = await ensureTopics(brokers, stackTopics(config, options.partitions));
    log.info({ topics: topics.map((t) => `${t.name}:${t.partitions}`) }, 'topics ready');

    let registryUrl = config.schemaRegistry.url;
    if (!registryUrl) {
      const registry = await startSchemaRegistry({ brokers, port: options.registryPort });
      cleanup.push(() => registry.close());
      registryUrl = registry.url;
    }
    log.info({ brokers, registryUrl, embeddedKafka: !!kafka, embeddedRegistry: !config.schemaRegistry.url }, 'stack ready');

    let stopped: Promise<void> | undefined;
    return {
      brokers,
      registryUrl,
      kafka,
      config: { ...config, kafka: { ...config.kafka, brokers }, schemaRegistry: { ...config.schemaRegistry, url: registryUrl } },
      stop: () => (stopped ??= stopAll().then(() => log.info('stack stopped'))),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
