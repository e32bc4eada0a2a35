/**
 * An in-process stand-in for the parts of kafkajs the topology runtime uses (like Kafka Streams'
 * MockConsumer / MockProducer), so that the runtime's failure paths can be unit-tested with faults
 * injected exactly where a test wants them: a producer send that fails or hangs, a consumer whose
 * position has moved past what was stored.
 *
 * Semantics copied from kafkajs 2.2.4 (src/consumer/runner.js, consumerGroup.js, fetcher.js):
 * - one member per group, assigned every partition of its subscribed topics (GROUP_JOIN on run);
 * - a fetch returns at most one batch per partition from its position (last resolved offset + 1, or
 *   the group's committed offset, or 0), skipping paused partitions; the next fetch waits until every
 *   batch of the previous one was handled (the fetcher drains its worker queue);
 * - `seek` is applied at the next fetch; until then `isStale()` of that partition's batch is true and
 *   fetched data of that partition is dropped; with autoCommit false a seek only moves the position;
 * - `commitOffsets` stores the group's offsets (readable by `admin().fetchOffsets`).
 */
import type { Message } from 'kafkajs';

export interface FakeRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer>;
}

type SendBatch = { topicMessages: Array<{ topic: string; messages: Message[] }>; acks?: number; compression?: number };

/** A hook run before each producer request; throw (or return a rejected promise) to fail it. */
export type SendHook = (request: SendBatch) => void | Promise<void>;

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash', REBALANCING: 'consumer.rebalancing' } as const;
const toBuffer = (v: Buffer | string | null | undefined): Buffer | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));

export class FakeKafka {
  readonly logs = new Map<string, FakeRecord[][]>();
  readonly groupOffsets = new Map<string, Map<string, string>>();
  /** Every producer request, in order (for size assertions). */
  readonly requests: SendBatch[] = [];
  /** Called before each producer request is appended. */
  beforeSend: SendHook | null = null;
  /** Max records per fetched batch (small, so tests see many batches). */
  maxBatch = 5;
  /** Log start offsets (`topic/partition` -> offset) of partitions whose beginning retention deleted. */
  readonly logStart = new Map<string, number>();

  constructor(readonly partitions = 1) {}

  topic(name: string): FakeRecord[][] {
    let t = this.logs.get(name);
    if (!t) {
      t = Array.from({ length: this.partitions }, () => []);
      this.logs.set(name, t);
    }
    return t;
  }

  /** Appends a record (as a producer outside the runtime would). */
  append(topic: string, partition: number, key: Buffer | string | null, value: Buffer | string | null, headers?: Record<string, string>): string {
    const log = this.topic(topic)[partition]!;
    const offset = String(log.length);
    log.push({
      offset,
      key: toBuffer(key),
      value: toBuffer(value),
      timestamp: String(Date.now()),
      ...(headers ? { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])) } : {}),
    });
    return offset;
  }

  records(topic: string, partition = 0): FakeRecord[] {
    return this.topic(topic)[partition]!;
  }

  producer() {
    const producer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: (r: { topic: string; messages: Message[]; acks?: number }) => producer.sendBatch({ topicMessages: [{ topic: r.topic, messages: r.messages }], ...(r.acks !== undefined ? { acks: r.acks } : {}) }),
      sendBatch: async (request: SendBatch) => {
        await this.beforeSend?.(request);
        this.requests.push(request);
        const out: Array<{ topicName: string; partition: number; errorCode: number; baseOffset: string }> = [];
        // like kafkajs (producer/sendMessages.js: a Map by topic), a topic listed twice keeps its last entry only
        const byTopic = new Map(request.topicMessages.map((tm) => [tm.topic, tm]));
        for (const tm of byTopic.values()) {
          const byPartition = new Map<number, Message[]>();
          for (const m of tm.messages) {
            const p = m.partition ?? 0;
            let list = byPartition.get(p);
            if (!list) byPartition.set(p, (list = []));
            list.push(m);
          }
          for (const [p, list] of byPartition) {
            const log = this.topic(tm.topic)[p]!;
            out.push({ topicName: tm.topic, partition: p, errorCode: 0, baseOffset: String(log.length) });
            for (const m of list) {
              const headers = m.headers ? Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, toBuffer(v as Buffer | string)!])) : undefined;
              log.push({ offset: String(log.length), key: toBuffer(m.key), value: toBuffer(m.value as Buffer | string | null), timestamp: m.timestamp ?? String(Date.now()), ...(headers ? { headers } : {}) });
            }
          }
        }
        return out;
      },
    };
    return producer;
  }

  admin() {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async ({ groupId, topics }: { groupId: string; topics: string[] }) =>
        topics.map((topic) => ({
          topic,
          partitions: this.topic(topic).map((_, partition) => ({ partition, offset: this.groupOffsets.get(groupId)?.get(`${topic}/${partition}`) ?? '-1', metadata: null })),
        })),
      fetchTopicOffsets: async (topic: string) =>
        this.topic(topic).map((log, partition) => ({ partition, offset: String(log.length), high: String(log.length), low: String(this.logStart.get(`${topic}/${partition}`) ?? 0) })),
    };
  }

  consumer(config: { groupId: string }) {
    return new FakeConsumer(this, config.groupId);
  }
}

type EachBatch = (payload: any) => Promise<void>;

export class FakeConsumer {
  readonly events = EVENTS;
  private readonly listeners = new Map<string, Array<(e: { payload: any }) => void>>();
  private topics: string[] = [];
  private readonly position = new Map<string, bigint>();
  private readonly seeks = new Map<string, string>();
  private readonly paused = new Set<string>();
  /** Partitions of the current assignment (null = all). */
  private assigned: Set<number> | null = null;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly kafka: FakeKafka,
    readonly groupId: string,
  ) {}

  on(event: string, fn: (e: { payload: any }) => void): void {
    let l = this.listeners.get(event);
    if (!l) this.listeners.set(event, (l = []));
    l.push(fn);
  }

  async connect(): Promise<void> {}

  async subscribe({ topics }: { topics: string[] }): Promise<void> {
    this.topics = topics;
  }

  async run({ eachBatch, eachBatchAutoResolve }: { eachBatch: EachBatch; eachBatchAutoResolve?: boolean }): Promise<void> {
    this.running = true;
    const assignment = Object.fromEntries(this.topics.map((t) => [t, this.kafka.topic(t).map((_, p) => p)]));
    for (const fn of this.listeners.get(EVENTS.GROUP_JOIN) ?? []) fn({ payload: { memberAssignment: assignment } });
    this.loop = this.fetchLoop(eachBatch, eachBatchAutoResolve ?? true);
  }

  private async fetchLoop(eachBatch: EachBatch, autoResolve: boolean): Promise<void> {
    while (this.running) {
      const batches: Array<Promise<void>> = [];
      for (const topic of this.topics) {
        for (let partition = 0; partition < this.kafka.partitions; partition++) {
          const id = `${topic}/${partition}`;
          const seek = this.seeks.get(id);
          if (seek !== undefined) {
            this.seeks.delete(id);
            this.position.set(id, BigInt(seek));
          }
          if (this.paused.has(id) || (this.assigned && !this.assigned.has(partition))) continue;
          const from = this.position.get(id) ?? BigInt(this.kafka.groupOffsets.get(this.groupId)?.get(id) ?? '0');
          const log = this.kafka.records(topic, partition);
          const messages = log.slice(Number(from), Number(from) + this.kafka.maxBatch);
          if (messages.length === 0) continue;
          const batch = { topic, partition, messages, highWatermark: String(log.length), firstOffset: () => messages[0]!.offset };
          batches.push(
            eachBatch({
              batch,
              resolveOffset: (offset: string) => {
                // kafkajs resolves into the position used by the next fetch
                this.position.set(id, BigInt(offset) + 1n);
              },
              heartbeat: async () => undefined,
              isRunning: () => this.running,
              isStale: () => this.seeks.has(id),
            }).then(() => {
              // kafkajs resolves the whole batch after eachBatch unless eachBatchAutoResolve is false
              if (autoResolve && !this.seeks.has(id)) this.position.set(id, BigInt(messages.at(-1)!.offset) + 1n);
            }),
          );
        }
      }
      await Promise.all(batches);
      // The mock's fetch "waits" a little when there is nothing to read.
      await new Promise((r) => setTimeout(r, batches.length ? 0 : 5));
    }
  }

  /** A rebalance: REBALANCING now, then (after `settle` resolves) GROUP_JOIN with `partitions` of every topic. */
  async rebalance(partitions: number[], settle: Promise<void> = Promise.resolve()): Promise<void> {
    for (const fn of this.listeners.get(EVENTS.REBALANCING) ?? []) fn({ payload: {} });
    await settle;
    this.assigned = new Set(partitions);
    for (const fn of this.listeners.get(EVENTS.GROUP_JOIN) ?? []) fn({ payload: { memberAssignment: Object.fromEntries(this.topics.map((t) => [t, partitions])) } });
  }

  pause(list: Array<{ topic: string; partitions?: number[] }>): void {
    for (const { topic, partitions } of list) for (const p of partitions ?? this.kafka.topic(topic).map((_, i) => i)) this.paused.add(`${topic}/${p}`);
  }

  resume(list: Array<{ topic: string; partitions?: number[] }>): void {
    for (const { topic, partitions } of list) for (const p of partitions ?? this.kafka.topic(topic).map((_, i) => i)) this.paused.delete(`${topic}/${p}`);
  }

  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    this.seeks.set(`${topic}/${partition}`, offset);
  }

  async commitOffsets(list: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    let g = this.kafka.groupOffsets.get(this.groupId);
    if (!g) this.kafka.groupOffsets.set(this.groupId, (g = new Map()));
    for (const o of list) g.set(`${o.topic}/${o.partition}`, o.offset);
  }

  async disconnect(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
