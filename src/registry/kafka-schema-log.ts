/**
 * SchemaLog on a Kafka topic (default `_schemas`), as the Confluent registry keeps its state: every
 * record goes to partition 0; a consumer (its own group, never committing) reads the topic from the
 * beginning and keeps following it, so a registry restarted on the same cluster recovers every schema
 * and one started next to another sees its writes.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { createKafka, embeddedConsumerDefaults, ensureTopics, startResilientConsumer, type ResilientConsumer } from '../kafka/client.js';
import { componentLogger } from '../obs/logger.js';
import type { SchemaLog, SchemaLogRecord } from './schema-log.js';

export interface KafkaSchemaLogOptions {
  /** Bootstrap servers (list or comma-separated). */
  brokers: string | string[];
  /** Topic name (default `_schemas`). */
  topic?: string;
  clientId?: string;
}

const log = componentLogger('schema-registry');

export class KafkaSchemaLog implements SchemaLog {
  private readonly topic: string;
  private readonly brokers: string | string[];
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private consumer: ResilientConsumer | null = null;
  /** Next offset to deliver, per partition. */
  private readonly positions = new Map<number, number>();
  private waiters: { targets: Map<number, number>; resolve: () => void }[] = [];
  private onRecord: ((r: SchemaLogRecord) => void) | null = null;

  constructor(options: KafkaSchemaLogOptions) {
    this.topic = options.topic ?? '_schemas';
    this.brokers = options.brokers;
    this.kafka = createKafka(options.brokers, options.clientId ?? 'vigil-schema-registry');
    this.producer = this.kafka.producer({ allowAutoTopicCreation: true });
    this.admin = this.kafka.admin();
  }

  async start(onRecord: (record: SchemaLogRecord) => void): Promise<void> {
    this.onRecord = onRecord;
    await ensureTopics(this.brokers, [{ name: this.topic, partitions: 1, compacted: true }]);
    await Promise.all([this.producer.connect(), this.admin.connect()]);
    // Its own group that never commits: every registry reads the whole topic. A consumer replaced
    // after a crash starts from the beginning again; records already applied are skipped by offset.
    this.consumer = await startResilientConsumer(this.kafka, {
      config: { groupId: `vigil-schema-registry-${randomUUID()}`, ...embeddedConsumerDefaults },
      subscribe: { topics: [this.topic], fromBeginning: true },
      run: {
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const offset = Number(message.offset);
          if (offset < (this.positions.get(partition) ?? 0)) return;
          if (message.key) {
            try {
              this.onRecord?.({ key: message.key.toString('utf8'), value: message.value ? message.value.toString('utf8') : null });
            } catch (err) {
              log.warn({ err, offset }, 'skipping an unreadable _schemas record');
            }
          }
          this.advance(partition, offset + 1);
        },
      },
    });
    await this.catchUp();
  }

  async append(record: SchemaLogRecord): Promise<void> {
    const [meta] = await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: record.key, value: record.value, partition: 0 }],
    });
    // The caller applies its own record; skip it on the consumer when nothing else came before it.
    const offset = Number(meta?.baseOffset ?? -1);
    if (offset >= 0 && (this.positions.get(0) ?? 0) === offset) this.advance(0, offset + 1);
  }

  /** Rejects after `timeoutMs` (default 15 s) when the reader does not get there (e.g. Kafka is down). */
  async catchUp(timeoutMs = 15_000): Promise<void> {
    const offsets = await this.admin.fetchTopicOffsets(this.topic);
    const targets = new Map<number, number>();
    for (const p of offsets) targets.set(p.partition, Number(p.high));
    if (this.reached(targets)) return;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { targets, resolve: () => undefined as void };
    try {
      await new Promise<void>((resolve, reject) => {
        waiter.resolve = resolve;
        this.waiters.push(waiter);
        timer = setTimeout(() => reject(new Error(`Timed out reading topic ${this.topic} to its end`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  async close(): Promise<void> {
    this.onRecord = null;
    await Promise.allSettled([this.consumer?.stop(), this.producer.disconnect(), this.admin.disconnect()]);
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private advance(partition: number, next: number): void {
    if (next > (this.positions.get(partition) ?? 0)) this.positions.set(partition, next);
    this.waiters = this.waiters.filter((w) => {
      if (!this.reached(w.targets)) return true;
      w.resolve();
      return false;
    });
  }

  private reached(targets: Map<number, number>): boolean {
    for (const [p, high] of targets) if ((this.positions.get(p) ?? 0) < high) return false;
    return true;
  }
}
