/**
 * SampleBatchPublisher: publishes samples to the `metrics` topic as SampleBatch records (Confluent
 * wire format, subject `<topic>-value`), keyed by the source id so a series always lands on one
 * partition. Used by the simulated fleet and by the collectors.
 *
 * Lifecycle: `new` -> `connect()` (optional: surfaces registry/Kafka errors at once) ->
 * `publish()` any number of times -> `flush()` (optional) -> `close()`.
 * - `publish(source, samples)` encodes at once and resolves when the records are queued (not yet
 *   acknowledged). Samples of one call become one record, split into several when there are more
 *   than `maxSamplesPerRecord`.
 * - Backpressure: queued + in-flight bytes are bounded by `maxInFlightBytes`; when full,
 *   `publish()` waits (default) or, with `onFull: 'reject'`, rejects with
 *   PublisherBackpressureError. Nothing is dropped to make room.
 * - Delivery: acks from all in-sync replicas. Idempotent producers where the cluster supports them
 *   (a real Kafka; not librdkafka's mock): one producer per concurrent send, each with one request in
 *   flight, so a request kafkajs retries (e.g. after NOT_LEADER for one partition of it) never writes
 *   the partitions that already succeeded twice. A send that still fails after kafkajs's retries is
 *   retried by the publisher with backoff for `retryBudgetMs` (a new request: at least once); after that
 *   the publisher fails: every pending and later call rejects with PublishError, and the records not
 *   written are counted in `stats.failedRecords`.
 * - Order: records of one source reach their partition in publish() order, except when a failed
 *   send is retried while a later one (maxConcurrentSends > 1) already went through.
 */
import type { Kafka, Message, Producer, ProducerConfig } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { kafkaRetry } from './create-kafka.js';
import { findBeacon } from './embedded-beacon.js';
import type { AvroSerde } from '../model/serde.js';
import type { Sample, SampleBatch } from '../model/types.js';
import { componentLogger } from '../obs/logger.js';
import { counter, gauge } from '../obs/metrics.js';

/**
 * The registry-aware serde of src/model/serde.ts (`sampleBatchSerde({ registry })`): registers the
 * SampleBatch schema under `<topic>-value` once, then encodes synchronously with that id.
 */
export type SampleBatchEncoder = Pick<AvroSerde<SampleBatch>, 'schemaId' | 'encodeWithId'>;

/** The part of kafkajs the publisher uses (a kafkajs `Kafka` fits; tests pass fakes). */
export interface KafkaLike {
  producer(config?: ProducerConfig): Pick<Producer, 'connect' | 'send' | 'disconnect'>;
}

type PublisherProducer = Pick<Producer, 'connect' | 'send' | 'disconnect'>;

export interface SampleBatchPublisherOptions {
  kafka: KafkaLike | Kafka;
  serde: SampleBatchEncoder;
  /** Topic to publish to (the config's `topics.metrics`). */
  topic: string;
  /** Bound on queued + in-flight record bytes; default 16 MiB. */
  maxInFlightBytes?: number;
  /** Samples per record before a publish() is split; default 100 (batch on the wire). */
  maxSamplesPerRecord?: number;
  /** Bytes per produce request; default 1 MiB. */
  maxRequestBytes?: number;
  /** Concurrent produce requests; default 2. */
  maxConcurrentSends?: number;
  /** How long queued records wait for more before a send; default 5 ms. */
  lingerMs?: number;
  /** How long a failing send is retried before the publisher gives up; default 5 min. */
  retryBudgetMs?: number;
  /** First backoff between our retries (doubles, at most 5 s); default 250 ms. */
  retryBackoffMs?: number;
  /** When the buffer is full: wait (default) or reject with PublisherBackpressureError. */
  onFull?: 'wait' | 'reject';
  /** Label for metrics and logs (e.g. "fleet", "collect"); default "publisher". */
  name?: string;
  /**
   * Idempotent producers: true, false, or 'auto' (default): true unless the cluster is librdkafka's mock
   * (found by its beacon topic; needs a kafkajs `Kafka`, fakes get false).
   */
  idempotent?: boolean | 'auto';
}

/** Counters of one publisher since it was created. */
export interface PublisherStats {
  /** Records acknowledged by Kafka. */
  records: number;
  samples: number;
  /** Record value bytes acknowledged. */
  bytes: number;
  /** Produce requests that succeeded. */
  sends: number;
  /** Produce requests retried after a failure. */
  retries: number;
  /** Records that will never be written (after the retry budget ran out). */
  failedRecords: number;
  /** publish() calls that had to wait for room (or were rejected with onFull 'reject'). */
  backpressureWaits: number;
  /** Bytes queued or in flight now. */
  bufferedBytes: number;
}

/** The publisher gave up (retry budget exhausted, or closed); `code` is stable. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly code: 'PUBLISH_FAILED' | 'PUBLISHER_CLOSED' = 'PUBLISH_FAILED',
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/** The buffer is full and `onFull` is 'reject': retry after `retryAfterSeconds`. */
export class PublisherBackpressureError extends Error {
  readonly code = 'PUBLISHER_BACKPRESSURE';
  readonly retriable = true;
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
    this.name = 'BackpressureError';
  }
}

/**
 * The Kafka key of a source: its labels sorted by name as `name=value` joined by commas
 * (`env=prod,host=web1,pool=a`); empty values are left out, as in series identity.
 */
export function sourceKey(source: Readonly<Record<string, string>>): string {
  let key = '';
  for (const k of Object.keys(source).sort()) {
    const v = source[k]!;
    if (v !== '') key += `${key ? ',' : ''}${k}=${v}`;
  }
  return key;
}

interface Queued {
  message: Message;
  bytes: number;
  samples: number;
}

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const MAX_BACKOFF_MS = 5000;

export class SampleBatchPublisher {
  private readonly opts: Required<Omit<SampleBatchPublisherOptions, 'kafka' | 'serde' | 'idempotent'>>;
  private readonly kafka: KafkaLike | Kafka;
  private readonly idempotence: boolean | 'auto';
  /** Producers not sending now (one per concurrent send when idempotent, else one shared). */
  private readonly idle: PublisherProducer[] = [];
  private readonly producers: PublisherProducer[] = [];
  private readonly serde: SampleBatchEncoder;
  private schemaId: number | undefined;
  private readonly log;
  private readonly metrics;
  private readonly queue: Queued[] = [];
  private queueBytes = 0;
  private readonly waiters: Waiter[] = [];
  private readonly idleResolvers: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private connecting: Promise<void> | undefined;
  private activeSends = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private failure: PublishError | undefined;
  private closed = false;
  private readonly counts: PublisherStats = {
    records: 0,
    samples: 0,
    bytes: 0,
    sends: 0,
    retries: 0,
    failedRecords: 0,
    backpressureWaits: 0,
    bufferedBytes: 0,
  };

  constructor(options: SampleBatchPublisherOptions) {
    this.opts = {
      topic: options.topic,
      maxInFlightBytes: options.maxInFlightBytes ?? 16 * 1024 * 1024,
      maxSamplesPerRecord: options.maxSamplesPerRecord ?? 100,
      maxRequestBytes: options.maxRequestBytes ?? 1024 * 1024,
      maxConcurrentSends: options.maxConcurrentSends ?? 2,
      lingerMs: options.lingerMs ?? 5,
      retryBudgetMs: options.retryBudgetMs ?? 5 * 60_000,
      retryBackoffMs: options.retryBackoffMs ?? 250,
      onFull: options.onFull ?? 'wait',
      name: options.name ?? 'publisher',
    };
    if (!(this.opts.maxSamplesPerRecord >= 1)) throw new RangeError('maxSamplesPerRecord must be at least 1');
    this.serde = options.serde;
    this.kafka = options.kafka;
    this.idempotence = options.idempotent ?? 'auto';
    this.log = componentLogger('publisher', { name: this.opts.name, topic: this.opts.topic });
    const labels = ['publisher', 'topic'];
    const l = { publisher: this.opts.name, topic: this.opts.topic };
    this.metrics = {
      records: counter('vigil_publisher_records_total', 'SampleBatch records acknowledged by Kafka', labels).labels(l),
      samples: counter('vigil_publisher_samples_total', 'Samples in acknowledged records', labels).labels(l),
      bytes: counter('vigil_publisher_bytes_total', 'Record value bytes acknowledged', labels).labels(l),
      retries: counter('vigil_publisher_retries_total', 'Produce requests retried after a failure', labels).labels(l),
      failed: counter('vigil_publisher_failed_records_total', 'Records given up after the retry budget', labels).labels(l),
      waits: counter('vigil_publisher_backpressure_total', 'publish() calls that found the buffer full', labels).labels(l),
      buffered: gauge('vigil_publisher_buffered_bytes', 'Record bytes queued or in flight', labels).labels(l),
    };
  }

  /**
   * Registers the schema and connects the producer now (publish() does both lazily), so a wrong
   * registry URL or unreachable Kafka shows at start-up. Rejects with the underlying error.
   */
  async connect(): Promise<void> {
    this.throwIfUnusable();
    this.schemaId ??= await this.serde.schemaId(this.opts.topic);
    await this.connectProducer();
  }

  /** A snapshot of the counters. */
  get stats(): PublisherStats {
    return { ...this.counts };
  }

  /** True while the buffer is full: a publish() now would wait (or be rejected). */
  get saturated(): boolean {
    return this.counts.bufferedBytes >= this.opts.maxInFlightBytes || this.waiters.length > 0;
  }

  /**
   * Queues the samples of one source. Resolves when they are queued; rejects with PublishError
   * once the publisher has failed or is closed, and with PublisherBackpressureError when full and
   * `onFull` is 'reject'. Samples are not copied: do not change them until the promise resolves.
   */
  async publish(source: Record<string, string>, samples: Sample[]): Promise<void> {
    this.throwIfUnusable();
    if (samples.length === 0) return;
    const key = sourceKey(source);
    const chunks = splitEvenly(samples, this.opts.maxSamplesPerRecord);
    const schemaId = this.schemaId ?? (this.schemaId = await this.serde.schemaId(this.opts.topic));
    const records: Queued[] = [];
    for (const chunk of chunks) {
      const value = this.serde.encodeWithId(schemaId, { source, samples: chunk });
      records.push({ message: { key, value }, bytes: value.length + key.length, samples: chunk.length });
    }
    const bytes = records.reduce((n, r) => n + r.bytes, 0);
    await this.reserve(bytes);
    this.queue.push(...records);
    this.queueBytes += bytes;
    this.schedulePump();
  }

  /** Resolves when everything queued so far is acknowledged; rejects if the publisher failed. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.queue.length === 0 && this.activeSends === 0) return;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    const idle = new Promise<void>((resolve, reject) => this.idleResolvers.push({ resolve, reject }));
    this.pump();
    await idle;
  }

  /** Flushes what is queued (unless the publisher failed), then disconnects. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.flush();
    } finally {
      this.closed = true;
      if (this.lingerTimer) clearTimeout(this.lingerTimer);
      for (const w of this.waiters.splice(0)) w.reject(new PublishError('publisher closed', 'PUBLISHER_CLOSED'));
      if (this.connecting) await Promise.all(this.producers.map((p) => p.disconnect().catch(() => undefined)));
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private throwIfUnusable(): void {
    this.throwIfFailed();
    if (this.closed) throw new PublishError('publisher closed', 'PUBLISHER_CLOSED');
  }

  /** Counts `bytes` into the buffer, first waiting (FIFO) until they fit. */
  private async reserve(bytes: number): Promise<void> {
    if (this.waiters.length === 0 && this.fits(bytes)) return this.addBuffered(bytes);
    this.counts.backpressureWaits++;
    this.metrics.waits.inc();
    if (this.opts.onFull === 'reject') {
      throw new PublisherBackpressureError(`publisher buffer full (${this.counts.bufferedBytes} bytes queued or in flight)`);
    }
    // admitWaiters() counts the bytes in when it lets this call go on.
    await new Promise<void>((resolve, reject) => this.waiters.push({ bytes, resolve, reject }));
    if (this.failure || this.closed) {
      this.addBuffered(-bytes);
      this.throwIfUnusable();
    }
  }

  /** One record larger than the whole buffer still goes through, alone. */
  private fits(bytes: number): boolean {
    return this.counts.bufferedBytes === 0 || this.counts.bufferedBytes + bytes <= this.opts.maxInFlightBytes;
  }

  private addBuffered(delta: number): void {
    this.counts.bufferedBytes += delta;
    this.metrics.buffered.set(this.counts.bufferedBytes);
  }

  /** Lets waiting publish() calls go on, in order, while they fit. */
  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      this.addBuffered(w.bytes);
      w.resolve();
    }
  }

  private schedulePump(): void {
    if (this.queueBytes >= this.opts.maxRequestBytes) return this.pump();
    if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.pump();
      }, this.opts.lingerMs);
    }
  }

  /** Starts sends while there is work and a free slot. */
  private pump(): void {
    while (!this.failure && this.queue.length > 0 && this.activeSends < this.opts.maxConcurrentSends) {
      const batch = this.takeRequest();
      this.activeSends++;
      void this.sendWithRetry(batch).finally(() => {
        this.activeSends--;
        this.pump();
      });
    }
    this.settleIdle();
  }

  private takeRequest(): Queued[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && (count === 0 || bytes + this.queue[count]!.bytes <= this.opts.maxRequestBytes)) {
      bytes += this.queue[count]!.bytes;
      count++;
    }
    this.queueBytes -= bytes;
    return this.queue.splice(0, count);
  }

  private async sendWithRetry(batch: Queued[]): Promise<void> {
    const bytes = batch.reduce((n, q) => n + q.bytes, 0);
    let firstFailure: number | undefined;
    let backoff = this.opts.retryBackoffMs;
    for (;;) {
      if (this.failure) return this.giveUp(batch, bytes);
      try {
        await this.connectProducer();
        const producer = this.idle.pop()!;
        try {
          await producer.send({ topic: this.opts.topic, acks: -1, messages: batch.map((q) => q.message) });
        } finally {
          this.idle.push(producer);
        }
        this.delivered(batch, bytes);
        return;
      } catch (err) {
        const now = Date.now();
        firstFailure ??= now;
        if (now - firstFailure >= this.opts.retryBudgetMs) {
          this.fail(new PublishError(`publishing to "${this.opts.topic}" failed for ${now - firstFailure} ms: ${(err as Error).message}`, 'PUBLISH_FAILED', err));
          return this.giveUp(batch, bytes);
        }
        this.counts.retries++;
        this.metrics.retries.inc();
        this.log.warn({ err: (err as Error).message, records: batch.length, backoffMs: backoff }, 'produce failed; retrying');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private connectProducer(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.createProducers();
      this.connecting.catch(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  private async createProducers(): Promise<void> {
    for (const p of this.producers.splice(0)) await p.disconnect().catch(() => undefined);
    this.idle.length = 0;
    const idempotent = this.idempotence === 'auto' ? await supportsIdempotence(this.kafka) : this.idempotence;
    // kafkajs tracks one sequence per partition and producer: concurrent idempotent sends need a producer each.
    const count = idempotent ? this.opts.maxConcurrentSends : 1;
    for (let i = 0; i < count; i++) {
      const producer = this.kafka.producer({
        idempotent,
        ...(idempotent ? { maxInFlightRequests: 1, retry: { ...kafkaRetry } } : {}),
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producers.push(producer);
    }
    await Promise.all(this.producers.map((p) => p.connect()));
    // A shared non-idempotent producer serves every concurrent send.
    for (let i = 0; i < this.opts.maxConcurrentSends; i++) this.idle.push(this.producers[i % count]!);
    this.log.debug({ idempotent, producers: count }, 'producers connected');
  }

  private delivered(batch: Queued[], bytes: number): void {
    let samples = 0;
    let valueBytes = 0;
    for (const q of batch) {
      samples += q.samples;
      valueBytes += (q.message.value as Buffer).length;
    }
    this.counts.records += batch.length;
    this.counts.samples += samples;
    this.counts.bytes += valueBytes;
    this.counts.sends++;
    this.metrics.records.inc(batch.length);
    this.metrics.samples.inc(samples);
    this.metrics.bytes.inc(valueBytes);
    this.addBuffered(-bytes);
    this.admitWaiters();
  }

  private giveUp(batch: Queued[], bytes: number): void {
    this.counts.failedRecords += batch.length;
    this.metrics.failed.inc(batch.length);
    this.addBuffered(-bytes);
  }

  private fail(error: PublishError): void {
    if (this.failure) return;
    this.failure = error;
    this.log.error({ err: error.message }, 'publisher failed; records not written are counted as failed');
    const queued = this.queue.splice(0);
    this.queueBytes = 0;
    this.giveUp(queued, queued.reduce((n, q) => n + q.bytes, 0));
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  private settleIdle(): void {
    if (this.failure) {
      for (const r of this.idleResolvers.splice(0)) r.reject(this.failure);
    } else if (this.queue.length === 0 && this.activeSends === 0) {
      for (const r of this.idleResolvers.splice(0)) r.resolve();
    }
  }
}

/** False on librdkafka's mock (no InitProducerId), found by its beacon topic; false for fakes. */
async function supportsIdempotence(kafka: KafkaLike | Kafka): Promise<boolean> {
  if (typeof (kafka as Kafka).admin !== 'function') return false;
  const admin = (kafka as Kafka).admin();
  await admin.connect();
  try {
    return findBeacon(await admin.listTopics()) === undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Splits `items` into the fewest chunks of at most `max`, whose sizes differ by at most one. */
function splitEvenly<T>(items: T[], max: number): T[][] {
  if (items.length <= max) return [items];
  const n = Math.ceil(items.length / max);
  const base = Math.floor(items.length / n);
  const extra = items.length % n;
  const out: T[][] = [];
  for (let i = 0, start = 0; i < n; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push(items.slice(start, start + size));
    start += size;
  }
  return out;
}
