/**
 * The dev stack: Kafka + schema registry + Vigil's topics, embedded by default. What `vigil stack` and
 * `vigil start` run, and what integration tests stand on (test/support/stack.ts).
 *
 * - No `kafka.brokers` in the config (KAFKA_BROKERS unset): start the embedded Kafka: by default a real
 *   Apache Kafka broker (child JVM, src/dev/kafka-cluster.ts) whose data lives in `kafka.dataDir`, so a
 *   second start resumes with every topic and offset; with `kafka.embedded: mock`, librdkafka's mock
 *   cluster in this process (lost when it ends).
 * - No `schemaRegistry.url` (SCHEMA_REGISTRY_URL unset): start the embedded schema registry on the Kafka.
 * - Either one set: use it and start nothing for it.
 * In every case the topics of `vigilTopics(config)` exist afterwards (created when missing, checked).
 */
import { resolve } from 'node:path';
import { configSchema, type VigilConfig } from '../config/config.js';
import { ensureTopics, topicPolicy, vigilTopics, type TopicSpec } from '../kafka/client.js';
import { componentLogger } from '../obs/logger.js';
import { startSchemaRegistry } from '../registry/server.js';
import { startEmbeddedKafka, type EmbeddedKafka } from './embedded-kafka.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';

export interface StackOptions {
  /** Nodes of the embedded Kafka, broker or mock (default 1). */
  brokers?: number;
  /** Partitions of Vigil's topics (default config.kafka.partitions). */
  partitions?: number;
  /** Port of the embedded registry (default any free port). */
  registryPort?: number;
  /** Configuration (default: all defaults, i.e. everything embedded). */
  config?: VigilConfig;
  /** The embedded Kafka's kind (default config.kafka.embedded). */
  embedded?: 'broker' | 'mock';
  /** The embedded broker's data directory (default config.kafka.dataDir); null: a temporary one, removed at stop. */
  kafkaDataDir?: string | null;
}

/** A running stack. `stop()` stops what it started (never an external cluster or registry); idempotent. */
export interface Stack {
  /** Bootstrap servers, comma-separated (what KAFKA_BROKERS takes). */
  readonly brokers: string;
  /** Schema registry base URL (what SCHEMA_REGISTRY_URL takes). */
  readonly registryUrl: string;
  /** The embedded mock Kafka (fault injection, topic creation), when that is what runs. */
  readonly kafka: EmbeddedKafka | undefined;
  /** The embedded real broker, when that is what runs (undefined with KAFKA_BROKERS or the mock). */
  readonly cluster: KafkaCluster | undefined;
  /** The config with kafka.brokers and schemaRegistry.url filled in: hand it to the components. */
  readonly config: VigilConfig;
  stop(): Promise<void>;
}

/** The topics the stack always makes sure of: Vigil's topics with `partitions`, and the registry's. */
export function stackTopics(config: VigilConfig, partitions = config.kafka.partitions): TopicSpec[] {
  return vigilTopics(config, partitions);
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
    let cluster: KafkaCluster | undefined;
    let brokers = config.kafka.brokers;
    if (!brokers) {
      if ((options.embedded ?? config.kafka.embedded) === 'mock') {
        kafka = await startEmbeddedKafka({ brokers: options.brokers ?? 1 });
        cleanup.push(() => kafka!.stop());
        brokers = kafka.bootstrapServers;
      } else {
        const dataDir = options.kafkaDataDir === undefined ? resolve(config.kafka.dataDir) : (options.kafkaDataDir ?? undefined);
        log.info({ dataDir: dataDir ?? '(temporary)' }, 'starting the embedded Kafka broker');
        cluster = await startKafkaCluster({ nodes: options.brokers ?? 1, ...(dataDir ? { dataDir } : {}) });
        cleanup.push(() => cluster!.stop());
        brokers = cluster.bootstrapServers;
      }
    }
    const topics = await ensureTopics(brokers, stackTopics(config, options.partitions), topicPolicy(config));
    log.info({ topics: topics.map((t) => `${t.name}:${t.partitions}`) }, 'topics ready');

    let registryUrl = config.schemaRegistry.url;
    if (!registryUrl) {
      const registry = await startSchemaRegistry({ brokers, port: options.registryPort, topic: config.schemaRegistry.topic });
      cleanup.push(() => registry.close());
      registryUrl = registry.url;
    }
    log.info({ brokers, registryUrl, embeddedKafka: cluster ? 'broker' : kafka ? 'mock' : false, embeddedRegistry: !config.schemaRegistry.url }, 'stack ready');

    let stopped: Promise<void> | undefined;
    return {
      brokers,
      registryUrl,
      kafka,
      cluster,
      config: { ...config, kafka: { ...config.kafka, brokers }, schemaRegistry: { ...config.schemaRegistry, url: registryUrl } },
      stop: () => (stopped ??= stopAll().then(() => log.info('stack stopped'))),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
