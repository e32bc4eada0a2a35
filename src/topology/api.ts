/**
 * The public contracts of Vigil's topology core, in one place (Kafka Streams' processor/api in
 * miniature). Implementations live in src/topology/internals/ and src/state/; the rules (src/rules),
 * the archive writer and the engine program against these types only.
 *
 * Time is always passed in: a processor sees `ctx.streamTime` (max event time of its task) and
 * `ctx.wallClockTime` (the runtime's or the test driver's clock), never `Date.now()`.
 */

/** Kafka-ish headers: string values only (what Vigil writes and reads). */
export type Headers = Record<string, string>;

/** One record flowing through a topology. `timestamp` is event time in UTC milliseconds. */
export interface StreamRecord<K = unknown, V = unknown> {
  key: K;
  value: V;
  timestamp: number;
  headers?: Headers;
}

/** Where the record being processed came from (null inside a punctuator). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (as kafkajs gives it). */
  offset: string;
}

/** Converts keys or values to and from bytes. `deserialize` may throw: the record then goes to the DLQ. */
export interface Serde<T> {
  serialize(value: T): Buffer | null;
  deserialize(bytes: Buffer | null): T;
}

/** Something that tells the time: the runtime uses the system clock, the test driver a simulated one. */
export interface Clock {
  /** UTC milliseconds. */
  now(): number;
}

/** Which clock drives a punctuator. */
export type PunctuationType = 'stream-time' | 'wall-clock';

/** Called by the task on schedule with the time that triggered it (stream or wall time, ms). */
export type Punctuator = (timestamp: number) => void;

/** Handle returned by `ProcessorContext.schedule`. */
export interface Cancellable {
  cancel(): void;
}

/**
 * What a processor may do. Valid from `init` until `close`; owned by the task, never by the processor.
 * Everything is synchronous: stores are served from memory and persisted by the task at commit.
 */
export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  /** Task id, `<topology>-<partition>`. */
  readonly taskId: string;
  /** The input partition this task owns. */
  readonly partition: number;
  /** Max event time this task has seen, the current record included (-Infinity before the first record). */
  readonly streamTime: number;
  /**
   * Stream time before the current record (= `streamTime` inside punctuators). A record that carries
   * many samples (a batch) judges their lateness against this, so that it is never late against
   * itself: its own newest sample must not close the windows of its older ones.
   */
  readonly priorStreamTime: number;
  /** The task's wall clock (simulated in the test driver). */
  readonly wallClockTime: number;
  /** Metadata of the input record being processed; null inside punctuators. */
  readonly recordMetadata: RecordMetadata | null;
  /** Sends a record to all children, or to the named child only. */
  forward<K extends KOut, V extends VOut>(record: StreamRecord<K, V>, childName?: string): void;
  /** Returns a store this processor was connected to (by name); throws if not connected. */
  getStateStore<S extends StateStore>(name: string): S;
  /** Schedules a punctuator every `intervalMs` of stream time or wall-clock time. */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  /**
   * Sends a record to a side topic (e.g. `metrics.late`, `metrics.dlq`) with `vigil.reason`,
   * `vigil.topic`, `vigil.partition`, `vigil.offset` headers taken from the current record.
   * Counted per topic and reason; never silent.
   */
  sendToSideTopic(topic: string, reason: string, key: Buffer | null, value: Buffer | null, extraHeaders?: Headers): void;
  /**
   * Sends the original bytes of the input record being processed to the topology's late topic
   * (`metrics.late` by default) with reason `late`; at most once per input record. Counted.
   */
  reportLate(extraHeaders?: Headers): void;
}

/** A node of a topology. Lifecycle: init once, process/punctuate many times, close once. */
export interface Processor<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> {
  init?(ctx: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  /** Called when the task commits, before stores are persisted (flush caches, emit suppressed results). */
  flush?(): void;
  close?(): void;
}

/** Creates a fresh processor for each task. */
export type ProcessorSupplier<KIn = unknown, VIn = unknown, KOut = unknown, VOut = unknown> = () => Processor<
  KIn,
  VIn,
  KOut,
  VOut
>;

/**
 * The changes a store hands to the task at commit: they go, together with the input offsets, into
 * ONE LevelDB batch and then to the changelog topic. Keys are store-local (the task prefixes them).
 */
export interface CommitBatch {
  put(key: string, value: Buffer): void;
  del(key: string): void;
}

/**
 * Base contract of every state store. A store lives in memory while its task runs; the task persists
 * it through `commit` (LevelDB + changelog) and rebuilds it through `restore` (from LevelDB at open or
 * from the changelog when the task moved here).
 */
export interface StateStore {
  readonly name: string;
  /** Applies one persisted entry (value null = deleted). Called before processing starts. */
  restore(key: string, value: Buffer | null): void;
  /** Writes every change since the last commit into `batch` and forgets them. */
  commit(batch: CommitBatch): void;
  /** Number of entries held (for /metrics). */
  approximateEntries(): number;
  close(): void;
}

/** A key-value store with string keys. Iteration is in key order. */
export interface KeyValueStore<V> extends StateStore {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  /** Returns the old value. */
  delete(key: string): V | undefined;
  /** Entries with from <= key < to (both optional), in key order. */
  range(from?: string, to?: string): IterableIterator<[string, V]>;
  all(): IterableIterator<[string, V]>;
}

/** One window of one key in a window store. */
export interface WindowedEntry<V> {
  key: string;
  /** Window start, UTC ms (epoch-aligned). */
  start: number;
  value: V;
}

/** A store of values per (key, window start). */
export interface WindowStore<V> extends StateStore {
  fetch(key: string, start: number): V | undefined;
  put(key: string, start: number, value: V): void;
  delete(key: string, start: number): void;
  /** Windows of `key` with from <= start <= to, by start. */
  fetchRange(key: string, from: number, to: number): WindowedEntry<V>[];
  /** All windows with from <= start <= to (any key), by start then key. */
  fetchAll(from: number, to: number): WindowedEntry<V>[];
  /** Removes every window that starts before `start` (retention). */
  deleteBefore(start: number): number;
}

/** A place outputs go (a Kafka topic in the runtime, a list in the test driver). */
export interface Sink {
  /** Queues one record for `topic`; the runtime sends it after the LevelDB commit. */
  send(topic: string, message: OutputMessage): void;
}

/** An output record as it is sent to Kafka. `id` is deterministic so a replay rewrites the same thing. */
export interface OutputMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** Partition to write to; default: hash of the key (kafkajs default partitioner). */
  partition?: number;
  headers?: Headers;
  timestamp?: number;
}

/** Header carrying an output's deterministic id (downstream dedups by it). */
export const OUTPUT_ID_HEADER = 'vigil.id';

/** Headers put on records sent to `metrics.dlq` / `metrics.late`. */
export const SIDE_HEADERS = {
  reason: 'vigil.reason',
  /** The applicationId of the topology that wrote the record (several topologies read one input). */
  topology: 'vigil.topology',
  topic: 'vigil.topic',
  partition: 'vigil.partition',
  offset: 'vigil.offset',
} as const;

/** Errors of the topology core carry a stable code. */
export class TopologyError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TopologyError';
  }
}
