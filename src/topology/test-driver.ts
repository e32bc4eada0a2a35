/**
 * TopologyTestDriver: runs any topology in-process and synchronously with a simulated clock, no broker.
 *
 *   const driver = new TopologyTestDriver(topology, { wallClockStart: 0 });
 *   const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
 *   const output = driver.createOutputTopic('out', stringSerde, jsonSerde<number>());
 *   input.pipeInput('k', { x: 1 }, 60_000);      // key, value, event time (ms)
 *   driver.advanceWallClockTime(10_000);           // runs wall-clock punctuators
 *   output.readKeyValuesToList();                  // [{ key, value }]
 *   driver.getKeyValueStore<number>('store').get('k');
 *   driver.close();
 *
 * Semantics: every piped record is processed by the task of its partition (default 0) and followed by a
 * commit, so outputs are readable at once (as in Kafka Streams' TopologyTestDriver). Records written to a
 * topic the topology reads itself (repartition topics) are processed right away. Late and dead-letter
 * records are readable like any output topic (`metrics.late`, `metrics.dlq` by default).
 * `restart()` closes all tasks and rebuilds them from what they committed (state, offsets, stream time).
 */
import type { Clock, Headers, KeyValueStore, OutputMessage, Serde, StateStore, WindowStore } from './api.js';
import { OUTPUT_ID_HEADER, TopologyError } from './api.js';
import type { RawRecord, Topology } from './topology.js';
import { StreamTask } from './internals/stream-task.js';
import type { StorageOp } from '../state/task-storage.js';

/** A record read from an output topic. */
export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
  partition: number;
}

export interface TestDriverOptions {
  /** Initial simulated wall-clock time (ms). Default 0. */
  wallClockStart?: number;
  /** Commit after every piped record (default true); false = only on `commit()`. */
  autoCommit?: boolean;
}

class SimulatedClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
}

export class TestInputTopic<K, V> {
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Pipes one record with event time `timestamp` (ms) into `partition` (default 0). */
  pipeInput(key: K, value: V, timestamp: number, options: { partition?: number; headers?: Headers } = {}): void {
    this.driver.pipeRaw(this.topic, this.keySerde.serialize(key), this.valueSerde.serialize(value), timestamp, options);
  }

  /** Pipes many `[key, value, timestamp]` records in order. */
  pipeRecordList(records: Array<[K, V, number]>, options: { partition?: number } = {}): void {
    for (const [k, v, t] of records) this.pipeInput(k, v, t, options);
  }
}

export class TestOutputTopic<K, V> {
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly topic: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Reads (and removes) the next record; throws when empty. */
  readRecord(): TestRecord<K, V> {
    const m = this.driver.takeOutput(this.topic);
    if (!m) throw new TopologyError(`Output topic "${this.topic}" is empty`, 'NO_OUTPUT');
    return {
      key: this.keySerde.deserialize(m.message.key),
      value: this.valueSerde.deserialize(m.message.value),
      timestamp: m.message.timestamp ?? 0,
      headers: m.message.headers ?? {},
      partition: m.partition,
    };
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readKeyValuesToList(): Array<{ key: K; value: V }> {
    return this.readRecordsToList().map((r) => ({ key: r.key, value: r.value }));
  }

  readValuesToList(): V[] {
    return this.readRecordsToList().map((r) => r.value);
  }

  isEmpty(): boolean {
    return this.driver.queueSize(this.topic) === 0;
  }

  getQueueSize(): number {
    return this.driver.queueSize(this.topic);
  }
}

export class TopologyTestDriver {
  private readonly clock: SimulatedClock;
  private readonly tasks = new Map<number, StreamTask>();
  private readonly storage = new Map<number, Map<string, Buffer>>();
  private readonly outputs = new Map<string, Array<{ message: OutputMessage; partition: number }>>();
  private readonly nextOffset = new Map<string, bigint>();
  private readonly sources: Set<string>;
  private readonly autoCommit: boolean;
  /** Every record ever sent to each topic (including repartition and changelog topics), not consumed by reads. */
  readonly history = new Map<string, OutputMessage[]>();

  constructor(
    readonly topology: Topology,
    options: TestDriverOptions = {},
  ) {
    this.clock = new SimulatedClock(options.wallClockStart ?? 0);
    this.autoCommit = options.autoCommit ?? true;
    this.sources = new Set(topology.sourceTopics());
  }

  private task(partition: number): StreamTask {
    let task = this.tasks.get(partition);
    if (!task) {
      task = new StreamTask(this.topology, { taskId: `${this.topology.applicationId}-${partition}`, partition, clock: this.clock });
      const stored = this.storage.get(partition);
      if (stored) for (const key of [...stored.keys()].sort()) task.loadEntry(key, stored.get(key)!);
      task.init();
      this.tasks.set(partition, task);
    }
    return task;
  }

  createInputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestInputTopic<K, V> {
    if (!this.sources.has(topic)) throw new TopologyError(`Topology does not read topic "${topic}"`, 'UNKNOWN_TOPIC');
    return new TestInputTopic(this, topic, keySerde, valueSerde);
  }

  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keySerde, valueSerde);
  }

  /** Pipes raw bytes (for decoders that read the wire format themselves). */
  pipeRaw(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, options: { partition?: number; headers?: Headers } = {}): void {
    const partition = options.partition ?? 0;
    const id = `${topic}/${partition}`;
    const offset = this.nextOffset.get(id) ?? 0n;
    this.nextOffset.set(id, offset + 1n);
    const raw: RawRecord = { topic, partition, offset: offset.toString(), key, value, timestamp, ...(options.headers ? { headers: options.headers } : {}) };
    const task = this.task(partition);
    if (task.prepare([raw])) {
      throw new TopologyError(`A source of "${topic}" needs async preparation (e.g. a schema fetch): use pipeRawAsync`, 'NEEDS_ASYNC');
    }
    task.process(raw);
    if (this.autoCommit) this.commit();
  }

  /** Like pipeRaw, awaiting the sources' preparation first (schema registry look-ups). */
  async pipeRawAsync(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, options: { partition?: number; headers?: Headers } = {}): Promise<void> {
    const partition = options.partition ?? 0;
    const offset = this.nextOffset.get(`${topic}/${partition}`) ?? 0n;
    await this.task(partition).prepare([{ topic, partition, offset: offset.toString(), key, value, timestamp }]);
    this.pipeRaw(topic, key, value, timestamp, options);
  }

  /** Moves the simulated wall clock forward and runs due wall-clock punctuators of every task. */
  advanceWallClockTime(ms: number): void {
    this.clock.time += ms;
    for (const p of this.partitions()) this.task(p).punctuateWallClock(this.clock.time);
    if (this.autoCommit) this.commit();
  }

  /** The simulated wall-clock time. */
  get wallClockTime(): number {
    return this.clock.time;
  }

  /** Stream time of the task of `partition` (-Infinity before its first record). */
  streamTime(partition = 0): number {
    return this.task(partition).streamTime;
  }

  private partitions(): number[] {
    const ps = new Set<number>([...this.tasks.keys(), ...this.storage.keys()]);
    if (ps.size === 0) ps.add(0);
    return [...ps];
  }

  /** Commits every task: state into the simulated storage, outputs into the output topics. */
  commit(): void {
    for (const [partition, task] of [...this.tasks]) {
      if (!task.dirty) continue;
      const c = task.prepareCommit();
      this.apply(partition, c.ops);
      for (const { topic, message } of c.messages) this.deliver(topic, message, partition);
      this.apply(partition, task.commitSent(c));
    }
  }

  private apply(partition: number, ops: StorageOp[]): void {
    let m = this.storage.get(partition);
    if (!m) this.storage.set(partition, (m = new Map()));
    for (const op of ops) {
      if (op.type === 'put') m.set(op.key, op.value);
      else m.delete(op.key);
    }
  }

  private deliver(topic: string, message: OutputMessage, taskPartition: number): void {
    let h = this.history.get(topic);
    if (!h) this.history.set(topic, (h = []));
    h.push(message);
    if (topic === this.topology.changelogTopic) return;
    const partition = message.partition ?? taskPartition;
    if (this.sources.has(topic)) {
      this.pipeRaw(topic, message.key, message.value, message.timestamp ?? this.clock.time, { partition, ...(message.headers ? { headers: message.headers } : {}) });
      return;
    }
    let q = this.outputs.get(topic);
    if (!q) this.outputs.set(topic, (q = []));
    q.push({ message, partition });
  }

  /** @internal used by TestOutputTopic. */
  takeOutput(topic: string): { message: OutputMessage; partition: number } | undefined {
    return this.outputs.get(topic)?.shift();
  }

  /** @internal */
  queueSize(topic: string): number {
    return this.outputs.get(topic)?.length ?? 0;
  }

  /** Raw records waiting on `topic` (read without removing). */
  peekRaw(topic: string): OutputMessage[] {
    return (this.outputs.get(topic) ?? []).map((o) => o.message);
  }

  /** Output ids (header vigil.id) of every record sent to `topic` so far. */
  outputIds(topic: string): string[] {
    return (this.history.get(topic) ?? []).map((m) => m.headers?.[OUTPUT_ID_HEADER] ?? '');
  }

  getStateStore<S extends StateStore>(name: string, partition = 0): S {
    const s = this.task(partition).getStore(name);
    if (!s) throw new TopologyError(`No store named "${name}"`, 'UNKNOWN_STORE');
    return s as S;
  }

  getKeyValueStore<V>(name: string, partition = 0): KeyValueStore<V> {
    return this.getStateStore<KeyValueStore<V>>(name, partition);
  }

  getWindowStore<V>(name: string, partition = 0): WindowStore<V> {
    return this.getStateStore<WindowStore<V>>(name, partition);
  }

  /** Simulates a process restart: tasks are closed and rebuilt from their committed state. */
  restart(): void {
    for (const t of this.tasks.values()) t.close();
    this.tasks.clear();
  }

  close(): void {
    for (const t of this.tasks.values()) t.close();
    this.tasks.clear();
  }
}
