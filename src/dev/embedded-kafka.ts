/**
 * The embedded Kafka: librdkafka's mock cluster (Debian librdkafka1 2.0.2) started inside this process
 * through koffi. It speaks the real Kafka protocol on 127.0.0.1 ports, so kafkajs, kcat and any other
 * client work against `bootstrapServers` unchanged.
 *
 * Quirks callers must know (measured with kafkajs 2.2.4; see ../shared/design/architecture.md):
 * - Admin createTopics fails (no controller): create topics here, or with `ensureTopics` from
 *   src/kafka/client.ts, which also works from another process. A Metadata or Produce request for
 *   an unknown topic auto-creates it with 4 partitions.
 * - Only the last ~5 MiB of batches per partition are kept; no compaction; everything is in memory and
 *   gone when `stop()` runs or the process ends.
 * - Consumer groups: use `embeddedConsumerDefaults` and `startResilientConsumer` from src/kafka/client.ts.
 * - The mock places partition leaders at random; a broker that is down stays leader of its partitions,
 *   so its partitions wait (no leader moves, which would lose acknowledged records in kafkajs 2.2.4).
 *
 * The mock runs on its own native threads; the JS event loop is never needed to serve clients, and
 * nothing here keeps the process alive.
 */
import { randomBytes } from 'node:crypto';
import { cString, librdkafka, type Handle, type Librdkafka } from './librdkafka.js';
import { startControlServer, type ControlServer } from './embedded-control.js';
import { beaconTopic } from '../kafka/embedded-beacon.js';
import { componentLogger } from '../obs/logger.js';

const RD_KAFKA_PRODUCER = 0;

/**
 * Hard-coded limits of librdkafka 2.0.2's mock (rdkafka_mock.c), for sizing tests and benchmarks: per
 * partition only the newest batches within these bounds are kept (older ones vanish silently, and a
 * consumer behind them gets OFFSET_OUT_OF_RANGE); unknown topics are auto-created with 4 partitions.
 */
export const embeddedKafkaLimits = {
  retainedBytesPerPartition: 5 * 1024 * 1024,
  retainedBatchesPerPartition: 100_000,
  autoCreatedPartitions: 4,
} as const;

const RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS = 36;

/** A failed call into the mock cluster; `kafkaCode` is librdkafka's rd_kafka_resp_err_t. */
export class EmbeddedKafkaError extends Error {
  readonly code = 'EMBEDDED_KAFKA';
  constructor(
    message: string,
    readonly kafkaCode?: number,
  ) {
    super(message);
    this.name = 'EmbeddedKafkaError';
  }
}

export interface EmbeddedKafkaOptions {
  /** Number of brokers, ids 1..brokers (default 1). */
  brokers?: number;
  /**
   * Serve the control endpoint and announce it in the cluster (default true), so `ensureTopics` and
   * `clusterIncarnation` work from any process (see src/kafka/embedded-beacon.ts).
   */
  control?: boolean;
}

/** A running in-process Kafka cluster. Every method throws EmbeddedKafkaError after `stop()`. */
export interface EmbeddedKafka {
  /** Comma-separated `127.0.0.1:port` list, e.g. for KAFKA_BROKERS or kafkajs `brokers` (split on ','). */
  readonly bootstrapServers: string;
  /** Broker ids, 1..n. */
  readonly brokerIds: readonly number[];
  /** Random id of this start (16 hex digits): a restarted embedded Kafka is a new, empty cluster. */
  readonly incarnation: string;
  /** Base URL of the control endpoint on 127.0.0.1, or undefined when started with control: false. */
  readonly controlUrl: string | undefined;
  /**
   * Creates a topic with `partitions` partitions. Idempotent: an existing topic is left as it is
   * (its partition count is not changed). Returns true when this call created it.
   */
  createTopic(name: string, partitions: number): boolean;
  /** Takes a broker down: its connections close and new ones are refused; it stays leader of its partitions. */
  brokerDown(id: number): void;
  /** Brings a broker back on the same port. */
  brokerUp(id: number): void;
  /**
   * Makes the next `errors.length` requests with Kafka API key `apiKey` (0 Produce, 1 Fetch, 3 Metadata,
   * 11 JoinGroup, 14 SyncGroup, ...) fail, in order, with these Kafka error codes (cluster-wide).
   */
  pushRequestErrors(apiKey: number, errors: number[]): void;
  /** Drops the not yet consumed errors pushed for `apiKey`. */
  clearRequestErrors(apiKey: number): void;
  /** Delays every response of broker `id` by `ms` (0 = none). */
  setBrokerRtt(id: number, ms: number): void;
  /** Destroys the cluster and frees every native resource. Idempotent; resolves when done. */
  stop(): Promise<void>;
}

/** Starts an embedded Kafka cluster. Rejects with LibrdkafkaUnavailableError when librdkafka1 is absent. */
export async function startEmbeddedKafka(options: EmbeddedKafkaOptions = {}): Promise<EmbeddedKafka> {
  const brokers = options.brokers ?? 1;
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 16) {
    throw new EmbeddedKafkaError(`brokers must be an integer from 1 to 16, got ${brokers}`);
  }
  const lib = librdkafka();
  const rk = newHostClient(lib);
  const mcluster = lib.mockClusterNew(rk, brokers);
  if (!mcluster) {
    await lib.destroyAsync(rk);
    throw new EmbeddedKafkaError('rd_kafka_mock_cluster_new failed (see librdkafka log on stderr)');
  }
  const cluster = new MockCluster(lib, rk, mcluster, brokers, randomBytes(8).toString('hex'));
  if (options.control ?? true) {
    try {
      await cluster.serveControl();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }
  componentLogger('embedded-kafka').info(
    { bootstrapServers: cluster.bootstrapServers, brokers, incarnation: cluster.incarnation, librdkafka: lib.version },
    'embedded Kafka started',
  );
  return cluster;
}

/** The rd_kafka_t that hosts the mock: a producer that never produces, so it never needs polling. */
function newHostClient(lib: Librdkafka): Handle {
  const errstr = Buffer.alloc(512);
  const conf = lib.confNew();
  const settings: Record<string, string> = {
    'client.id': 'vigil-embedded-kafka',
    // Only warnings and errors of the mock reach stderr; its info lines are noise for users.
    log_level: '4',
  };
  for (const [name, value] of Object.entries(settings)) {
    if (lib.confSet(conf, name, value, errstr, errstr.length) !== 0) {
      lib.confDestroy(conf);
      throw new EmbeddedKafkaError(`rd_kafka_conf_set ${name}=${value}: ${cString(errstr)}`);
    }
  }
  const rk = lib.newClient(RD_KAFKA_PRODUCER, conf, errstr, errstr.length);
  if (!rk) {
    lib.confDestroy(conf);
    throw new EmbeddedKafkaError(`rd_kafka_new: ${cString(errstr)}`);
  }
  return rk;
}

class MockCluster implements EmbeddedKafka {
  readonly bootstrapServers: string;
  readonly brokerIds: readonly number[];
  private control: ControlServer | undefined;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly lib: Librdkafka,
    private readonly rk: Handle,
    private readonly mcluster: Handle,
    brokers: number,
    readonly incarnation: string,
  ) {
    this.bootstrapServers = lib.mockClusterBootstraps(mcluster);
    this.brokerIds = Array.from({ length: brokers }, (_, i) => i + 1);
  }

  get controlUrl(): string | undefined {
    return this.control && `http://127.0.0.1:${this.control.port}`;
  }

  /** Starts the control endpoint, then announces it with the beacon topic. */
  async serveControl(): Promise<void> {
    this.control = await startControlServer(this, this.incarnation);
    this.createTopic(beaconTopic(this.incarnation, this.control.port), 1);
  }

  createTopic(name: string, partitions: number): boolean {
    this.assertRunning();
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name)) {
      throw new EmbeddedKafkaError(`invalid topic name "${name}": use 1 to 249 of [a-zA-Z0-9._-]`);
    }
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
      throw new EmbeddedKafkaError(`topic "${name}": partitions must be an integer from 1 to 10000, got ${partitions}`);
    }
    const replication = Math.min(3, this.brokerIds.length);
    const err = this.lib.mockTopicCreate(this.mcluster, name, partitions, replication);
    if (err === RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return false;
    this.check(err, `create topic "${name}"`);
    return true;
  }

  brokerDown(id: number): void {
    this.assertBroker(id);
    this.check(this.lib.mockBrokerSetDown(this.mcluster, id), `broker ${id} down`);
  }

  brokerUp(id: number): void {
    this.assertBroker(id);
    this.check(this.lib.mockBrokerSetUp(this.mcluster, id), `broker ${id} up`);
  }

  pushRequestErrors(apiKey: number, errors: number[]): void {
    this.assertRunning();
    if (!Number.isInteger(apiKey) || apiKey < 0 || apiKey > 32767) {
      throw new EmbeddedKafkaError(`apiKey must be a Kafka API key (0..32767), got ${apiKey}`);
    }
    if (errors.length === 0) return;
    if (!errors.every((e) => Number.isInteger(e))) {
      throw new EmbeddedKafkaError(`errors must be integer Kafka error codes, got ${JSON.stringify(errors)}`);
    }
    this.lib.mockPushRequestErrorsArray(this.mcluster, apiKey, errors.length, Int32Array.from(errors));
  }

  clearRequestErrors(apiKey: number): void {
    this.assertRunning();
    this.lib.mockClearRequestErrors(this.mcluster, apiKey);
  }

  setBrokerRtt(id: number, ms: number): void {
    this.assertBroker(id);
    if (!Number.isInteger(ms) || ms < 0) throw new EmbeddedKafkaError(`rtt must be a whole number of ms >= 0, got ${ms}`);
    this.check(this.lib.mockBrokerSetRtt(this.mcluster, id, ms), `broker ${id} rtt`);
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.control?.close();
      // The cluster first: it closes every client connection; then the client that hosted it.
      await this.lib.mockClusterDestroyAsync(this.mcluster);
      await this.lib.destroyAsync(this.rk);
      componentLogger('embedded-kafka').info({ bootstrapServers: this.bootstrapServers }, 'embedded Kafka stopped');
    })();
    return this.stopped;
  }

  private assertRunning(): void {
    if (this.stopped) throw new EmbeddedKafkaError(`embedded Kafka ${this.bootstrapServers} is stopped`);
  }

  private assertBroker(id: number): void {
    this.assertRunning();
    if (!this.brokerIds.includes(id)) {
      throw new EmbeddedKafkaError(`no broker ${id}: brokers are ${this.brokerIds.join(', ')}`);
    }
  }

  private check(err: number, what: string): void {
    if (err !== 0) throw new EmbeddedKafkaError(`${what}: ${this.lib.err2str(err)}`, err);
  }
}
