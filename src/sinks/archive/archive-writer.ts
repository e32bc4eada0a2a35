/**
 * The archive writer on Kafka: consumes `metrics` (raw) and the two rollup topics with its own
 * consumer group, feeds the ArchiveSink, writes files on hour close / size / age, and commits input
 * offsets only once the rows they carry are in durable objects (see archive-sink.ts for why a crash
 * at any point neither loses nor duplicates rows). `vigil run` starts it with `startArchiver`.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { VigilConfig } from '../../config/config.js';
import { createKafka, embeddedConsumerDefaults, startResilientConsumer, type ResilientConsumer } from '../../kafka/client.js';
import type { RegistryClient } from '../../model/registry-client.js';
import { SampleBatchDecoder } from '../../model/sample-batch-decoder.js';
import { rollupBatchSerde, type AvroSerde } from '../../model/serde.js';
import type { RollupBatch } from '../../model/types.js';
import { componentLogger } from '../../obs/logger.js';
import { counter, gauge } from '../../obs/metrics.js';
import { ArchiveError } from './archive-error.js';
import { ArchiveSink, type ArchiveSinkOptions } from './archive-sink.js';
import { hourStartOf, parseDurationMs, type Resolution } from './layout.js';
import { ParquetWriter, type ParquetTuning } from './parquet-writer.js';
import { openObjectStore } from './storage/open-store.js';
import type { ObjectStore } from './storage/object-store.js';

const undecodable = counter('vigil_archive_records_skipped_total', 'Input records the archive could not decode (the engine dead-letters them)', ['topic', 'reason']);
const buffered = gauge('vigil_archive_buffered_rows', 'Rows held in memory waiting to be written');

export interface ArchiverOptions {
  /** kafkajs client (default: from config.kafka.brokers). */
  kafka?: Kafka;
  /** Registry URL or client (default config.schemaRegistry.url). */
  registry?: string | RegistryClient;
  /** Object store (default: config.archive root). Closed by `stop()` only when created here. */
  store?: ObjectStore;
  /** Consumer group (default `<clientId>-archive`). */
  groupId?: string;
  /** Sink settings: rows per file, max age, close grace. */
  sink?: Omit<ArchiveSinkOptions, 'store' | 'writer'>;
  tuning?: Partial<ParquetTuning>;
  /** How often age-based flushes and commits are checked, ms (default 2000). */
  tickMs?: number;
  now?: () => number;
}

/** A running archive writer. */
export interface Archiver {
  readonly store: ObjectStore;
  /** Writes every buffered row now and commits (e.g. before a planned stop). */
  flushAll(): Promise<void>;
  /** Files and rows written by this process, rows waiting in memory. */
  stats(): { files: number; rows: number; bytes: number; bufferedRows: number };
  /**
   * A clean stop: consumes nothing more, writes every buffered row as files (within `timeoutMs`,
   * default config archive.stopTimeout; buffers not started by then are left to be re-read from the
   * committed offsets at the next start), commits, leaves the group and closes. Progress is logged.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** Starts the archive writer's consumer group. */
export async function startArchiver(config: VigilConfig, options: ArchiverOptions = {}): Promise<Archiver> {
  const registry = options.registry ?? config.schemaRegistry.url;
  if (!registry) throw new ArchiveError('ARCHIVE_BAD_OPTION', 'The archive writer needs a schema registry (SCHEMA_REGISTRY_URL)');
  const kafka = options.kafka ?? (config.kafka.brokers ? createKafka(config.kafka.brokers, `${config.kafka.clientId}-archive`) : undefined);
  if (!kafka) throw new ArchiveError('ARCHIVE_BAD_OPTION', 'The archive writer needs Kafka (KAFKA_BROKERS)');
  const store = options.store ?? openObjectStore(config.archive);
  const writer = await ParquetWriter.open(options.tuning);
  const archiver = new KafkaArchiver(config, kafka, registry, store, writer, options);
  try {
    await archiver.start();
  } catch (err) {
    writer.close();
    if (!options.store) await store.close();
    throw err;
  }
  return archiver;
}

class KafkaArchiver implements Archiver {
  private readonly sink: ArchiveSink;
  private readonly decoder: SampleBatchDecoder;
  private readonly rollupSerde: AvroSerde<RollupBatch>;
  private readonly topics: Map<string, Resolution>;
  private readonly log = componentLogger('archive-writer');
  private readonly now: () => number;
  private consumer: ResilientConsumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly committed = new Map<string, number>();
  private stopped = false;
  private readonly written = { files: 0, rows: 0, bytes: 0 };

  constructor(
    private readonly config: VigilConfig,
    private readonly kafka: Kafka,
    registry: string | RegistryClient,
    readonly store: ObjectStore,
    private readonly writer: ParquetWriter,
    private readonly options: ArchiverOptions,
  ) {
    this.sink = new ArchiveSink({
      store,
      writer,
      maxAgeMs: parseDurationMs(config.archive.flushAfter),
      maxRowsPerFile: config.archive.maxRowsPerFile,
      ...options.sink,
    });
    this.decoder = new SampleBatchDecoder({ registry });
    this.rollupSerde = rollupBatchSerde({ registry });
    const t = config.topics;
    this.topics = new Map<string, Resolution>([
      [t.metrics, 'raw'],
      [t.rollup1m, '1m'],
      [t.rollup1h, '1h'],
    ]);
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.consumer = await startResilientConsumer(this.kafka, {
      config: { groupId: this.options.groupId ?? `${this.config.kafka.clientId}-archive`, ...embeddedConsumerDefaults },
      subscribe: { topics: [...this.topics.keys()], fromBeginning: true },
      // Offsets are resolved one record at a time (a stale batch is re-fetched, never skipped) and committed
      // only by commit(). A flush can outlast the session timeout, so heartbeats continue while a batch waits.
      run: { autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.keepAlive(p, () => this.serial(() => this.onBatch(p))) },
      onConsumer: (c) => this.watchAssignments(c),
    });
    this.timer = setInterval(() => void this.serial(() => this.tick()).catch((err) => this.log.error({ err }, 'archive flush failed; will retry')), this.options.tickMs ?? 2000);
    this.log.info({ store: this.store.url, topics: [...this.topics.keys()] }, 'archive writer started');
  }

  /** One operation at a time: batches, timer flushes and commits never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async keepAlive(payload: EachBatchPayload, fn: () => Promise<void>): Promise<void> {
    const timer = setInterval(() => void payload.heartbeat().catch(() => undefined), 1000);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const resolution = this.topics.get(batch.topic);
    // Once stopping, nothing more is buffered: the final flush must hold every row consumed.
    if (!resolution || this.stopped) return;
    const partition = batch.partition;
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.stopped) return;
      const offset = Number(m.offset);
      if (resolution === 'raw') await this.addRaw(partition, offset, batch.topic, m.key, m.value);
      else await this.addRollups(resolution, partition, offset, batch.topic, m.value);
      resolveOffset(m.offset);
    }
    buffered.set(this.sink.bufferedRows);
    await this.flushDue();
    await heartbeat();
  }

  private async addRaw(partition: number, offset: number, topic: string, key: Buffer | null, value: Buffer | null): Promise<void> {
    const { batch, deadLetters } = await this.decoder.decode({ topic, partition, offset: String(offset), key, value });
    for (const d of deadLetters) undecodable.inc({ topic, reason: d.reason });
    await this.sink.prepare('raw', partition, ArchiveSink.hoursOfBatch(batch));
    this.sink.addRaw(partition, offset, batch, this.now());
  }

  private async addRollups(resolution: Resolution, partition: number, offset: number, topic: string, value: Buffer | null): Promise<void> {
    let decoded: RollupBatch;
    try {
      decoded = await this.rollupSerde.decode(value);
    } catch (err) {
      undecodable.inc({ topic, reason: (err as { code?: string }).code ?? 'undecodable' });
      this.log.warn({ topic, partition, offset, err: (err as Error).message }, 'rollup record not archived');
      this.sink.skipRecord(resolution, partition, offset);
      return;
    }
    await this.sink.prepare(resolution, partition, new Set(decoded.rollups.map((r) => hourStartOf(r.start))));
    this.sink.addRollups(resolution, partition, offset, decoded.rollups, this.now());
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.flushDue();
  }

  private async flushDue(): Promise<void> {
    this.count(await this.sink.flush(this.sink.due(this.now())));
    await this.commit();
  }

  private count(files: { rows: number; bytes: number }[]): void {
    for (const f of files) {
      this.written.files++;
      this.written.rows += f.rows;
      this.written.bytes += f.bytes;
    }
    buffered.set(this.sink.bufferedRows);
  }

  stats(): { files: number; rows: number; bytes: number; bufferedRows: number } {
    return { ...this.written, bufferedRows: this.sink.bufferedRows };
  }

  async flushAll(): Promise<void> {
    await this.serial(async () => {
      this.count(await this.sink.flush(this.sink.all()));
      await this.commit();
    });
  }

  /**
   * Writes every buffer, logging each file, until `timeoutMs` has passed (checked between files: the
   * file being written when it passes is finished, so the bound is the timeout plus one file), then
   * commits what is durable.
   */
  private async flushForStop(timeoutMs: number): Promise<void> {
    const buffers = this.sink.all();
    const rows = buffers.reduce((n, b) => n + b.length, 0);
    const started = Date.now();
    const deadline = started + timeoutMs;
    this.log.info({ rows, files: buffers.length, timeoutMs }, `archive: flushing ${rows} buffered rows in ${buffers.length} files before stopping`);
    let writtenRows = 0;
    try {
      const files = await this.sink.flush(buffers, {
        stopWhen: () => Date.now() >= deadline,
        onWritten: (file, written) => {
          writtenRows += file.rows;
          this.log.info({ key: file.key, rows: file.rows }, `archive: stop flush ${written}/${buffers.length} files, ${writtenRows}/${rows} rows`);
        },
      });
      this.count(files);
    } finally {
      await this.commit();
      const left = this.sink.bufferedRows;
      if (left > 0) this.log.warn({ rows: left, timeoutMs }, `archive: stop flush ended after ${Date.now() - started} ms with ${left} rows unwritten; they are re-read from the committed offsets at the next start`);
      else this.log.info({ rows: writtenRows, ms: Date.now() - started }, `archive: stop flush wrote ${writtenRows} rows in ${Date.now() - started} ms`);
    }
  }

  /** Commits, per input partition, the first offset whose rows are not all durable yet. */
  private async commit(): Promise<void> {
    const consumer = this.consumer?.consumer;
    if (!consumer) return;
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const [topic, resolution] of this.topics) {
      for (const seen of this.sink.inputsSeen()) {
        if (seen.resolution !== resolution) continue;
        const next = this.sink.committable(resolution, seen.partition);
        const k = `${topic}|${seen.partition}`;
        if (next === undefined || this.committed.get(k) === next) continue;
        offsets.push({ topic, partition: seen.partition, offset: String(next) });
        this.committed.set(k, next);
      }
    }
    if (offsets.length > 0) await consumer.commitOffsets(offsets);
  }

  /** On a rebalance, forgets partitions that moved away: their new owner re-reads the unwritten rows. */
  private watchAssignments(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment as Record<string, number[]>;
      void this.serial(async () => {
        for (const [topic, resolution] of this.topics) {
          const mine = new Set(assigned[topic] ?? []);
          for (const seen of this.sink.inputsSeen()) {
            if (seen.resolution === resolution && !mine.has(seen.partition)) {
              this.sink.dropPartition(resolution, seen.partition);
              this.committed.delete(`${topic}|${seen.partition}`);
            }
          }
        }
      });
    });
  }

  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    const timeoutMs = options.timeoutMs ?? parseDurationMs(this.config.archive.stopTimeout);
    try {
      await this.serial(() => this.flushForStop(timeoutMs));
    } finally {
      await this.consumer?.stop();
      this.writer.close();
      if (!this.options.store) await this.store.close();
      this.log.info('archive writer stopped');
    }
  }
}
