/**
 * One task = one input partition of a topology (co-partitioned input topics share it). It owns its
 * processors and stores, tracks stream time and the offsets it has processed, runs punctuators, and
 * at commit hands over everything the effectively-once protocol needs (see `prepareCommit`).
 * Synchronous: the runtime and the test driver do the IO around it.
 */
import type {
  Cancellable,
  Clock,
  CommitBatch,
  Headers,
  OutputMessage,
  Processor,
  ProcessorContext,
  PunctuationType,
  Punctuator,
  StateStore,
} from '../api.js';
import { OUTPUT_ID_HEADER, SIDE_HEADERS, TopologyError } from '../api.js';
import type { RawRecord, Topology, TopologyNode } from '../topology.js';
import type { StorageOp } from '../../state/task-storage.js';
import { decodeOutbox, encodeOutbox, type PendingOutbox, type QueuedMessage } from './message-codec.js';
import { NodeContext } from './node-context.js';
import { changelogRecords, partCount } from './changelog-parts.js';
import { messageBytes } from './record-sender.js';

/** Storage key layout of a task (one LevelDB per task). */
export const KEYS = {
  store: (store: string, key: string) => `s\u0000${store}\u0000${key}`,
  offset: (topic: string) => `m\u0000offset\u0000${topic}`,
  streamTime: 'm\u0000streamTime',
  seq: 'm\u0000seq',
  incarnation: 'm\u0000incarnation',
  /** Offset of a commit marker of this task in the changelog (the previous commit's: known after its send). */
  changelogOffset: 'm\u0000changelogOffset',
  outbox: (seq: number) => `o\u0000${String(seq).padStart(12, '0')}`,
} as const;

/** Changelog key of the commit marker: everything before it in the partition belongs to that commit. */
export const CHANGELOG_MARKER_KEY = '\u0000commit';

export interface CommitMarker {
  seq: number;
  streamTime: number | null;
  offsets: Record<string, string>;
}

/** What one commit consists of, in the order the runtime must apply it. */
export interface TaskCommit {
  seq: number;
  /** 1. ONE storage batch: store changes, offsets, stream time, the outbox of 2. */
  ops: StorageOp[];
  /** 2. Changelog records (ending with a commit marker) and outputs, sent after 1. */
  messages: QueuedMessage[];
  /** Outbox key to delete once 2. is acknowledged (see `commitSent`). */
  outboxKey: string | null;
  /** 3. Kafka offsets to commit: topic -> next offset to read (last processed + 1). */
  offsets: Map<string, string>;
  /** Number of input records covered since the previous commit. */
  records: number;
}

export interface StreamTaskOptions {
  taskId: string;
  partition: number;
  clock: Clock;
  /** Counts side-topic records (late, dlq) for /metrics. */
  onSideRecord?: (topic: string, reason: string) => void;
  /** Largest changelog record (the topic's max.message.bytes); larger values go in parts. Default 1 MiB. */
  maxRecordBytes?: number;
}

interface Schedule {
  interval: number;
  type: PunctuationType;
  fn: Punctuator;
  last: number;
  cancelled: boolean;
}

class PrefixedBatch implements CommitBatch {
  constructor(
    private readonly task: StreamTask,
    private readonly store: string,
    private readonly ops: StorageOp[],
    private readonly changelog: QueuedMessage[],
  ) {}

  put(key: string, value: Buffer): void {
    const storageKey = KEYS.store(this.store, key);
    this.ops.push({ type: 'put', key: storageKey, value });
    this.changelog.push(...this.task.changelogMessages(storageKey, value));
  }

  del(key: string): void {
    const storageKey = KEYS.store(this.store, key);
    this.ops.push({ type: 'del', key: storageKey });
    this.changelog.push(...this.task.changelogMessages(storageKey, null));
  }
}

export class StreamTask {
  readonly taskId: string;
  readonly partition: number;
  private readonly clock: Clock;
  private readonly stores = new Map<string, StateStore>();
  private readonly processors = new Map<string, Processor>();
  private readonly contexts = new Map<string, NodeContext>();
  private readonly sourceByTopic = new Map<string, TopologyNode & { kind: 'source' }>();
  private readonly schedules: Schedule[] = [];
  /** Last processed offset per input topic. */
  private readonly processed = new Map<string, bigint>();
  private pending: QueuedMessage[] = [];
  private lateSentFor: string | null = null;
  private recordsSinceCommit = 0;
  private seq = 0;
  private outboxToDelete: string[] = [];
  /** Storage key -> parts its stored value has in the changelog (only values written in 2+ parts). */
  private readonly partsOf = new Map<string, number>();
  private readonly maxRecordBytes: number;
  /** Storage keys the next commit writes to the changelog again, with their stored values (see `relogAfterRestore`). */
  private relog: Map<string, Buffer | null> | null = null;
  streamTime = -Infinity;
  /** Stream time before the record being processed (see ProcessorContext.priorStreamTime). */
  priorStreamTime = -Infinity;
  /** Changelog offset of a commit marker whose state the storage holds (or a later one); null = unknown. */
  changelogOffset: bigint | null = null;
  current: RawRecord | null = null;
  skipped = 0;
  initialized = false;

  constructor(
    readonly topology: Topology,
    private readonly options: StreamTaskOptions,
  ) {
    this.taskId = options.taskId;
    this.partition = options.partition;
    this.clock = options.clock;
    this.maxRecordBytes = options.maxRecordBytes ?? 1024 * 1024;
    for (const def of topology.stores.values()) this.stores.set(def.name, def.build(this.taskId));
    for (const node of topology.nodes.values()) {
      if (node.kind === 'source') for (const t of node.topics) this.sourceByTopic.set(t, node);
      if (node.kind === 'processor') this.processors.set(node.name, node.supplier());
      this.contexts.set(node.name, new NodeContext(this, node));
    }
  }

  // ---- restore -------------------------------------------------------------------------------

  /**
   * Loads the task's persisted entries (from its storage). Returns the outbox messages of commits
   * whose sends were not confirmed: the runtime re-sends them before processing anything new.
   */
  async load(entries: AsyncIterable<[string, Buffer]>): Promise<QueuedMessage[]> {
    const outbox: PendingOutbox[] = [];
    const wanted = new Map<string, Buffer | null>();
    const relog = this.relog;
    for await (const [key, value] of entries) {
      if (relog?.has(key)) relog.set(key, value);
      if (key.startsWith('o\u0000')) {
        const entry = decodeOutbox(value);
        outbox.push(entry);
        for (const k of entry.changed) wanted.set(k, null);
        this.outboxToDelete.push(key);
        continue;
      }
      if (wanted.has(key)) wanted.set(key, value);
      this.loadEntry(key, value);
    }
    // Re-create the unconfirmed sends: changelog values as stored (nothing was committed after them).
    const messages: QueuedMessage[] = [];
    for (const entry of outbox) {
      for (const k of entry.changed) messages.push(...this.changelogMessages(k, wanted.get(k) ?? null));
      messages.push(...entry.messages);
    }
    return messages;
  }

  /** The changelog records that write `value` (null = delete) of a store entry (split when too large). */
  changelogMessages(storageKey: string, value: Buffer | null): QueuedMessage[] {
    const storeAndKey = storageKey.slice(2);
    const records = changelogRecords(storeAndKey, value, this.maxRecordBytes, this.partsOf.get(storageKey) ?? 0);
    const n = value === null ? 1 : partCount(storeAndKey, value.length, this.maxRecordBytes);
    if (n > 1) this.partsOf.set(storageKey, n);
    else this.partsOf.delete(storageKey);
    return records.map((r) => ({ topic: this.topology.changelogTopic, message: { key: r.key, value: r.value, partition: this.partition } }));
  }

  /** Applies one stored entry (see KEYS); outbox entries are handled by `load`. */
  loadEntry(key: string, value: Buffer): void {
    if (key.startsWith('s\u0000')) {
      if (value.length > this.maxRecordBytes / 2) {
        const n = partCount(key.slice(2), value.length, this.maxRecordBytes);
        if (n > 1) this.partsOf.set(key, n);
      }
      const i = key.indexOf('\u0000', 2);
      const store = this.stores.get(key.slice(2, i));
      store?.restore(key.slice(i + 1), value);
    } else if (key.startsWith('m\u0000offset\u0000')) {
      this.processed.set(key.slice('m\u0000offset\u0000'.length), BigInt(value.toString()));
    } else if (key === KEYS.streamTime) {
      this.streamTime = Number(value.toString());
    } else if (key === KEYS.seq) {
      this.seq = Number(value.toString());
    } else if (key === KEYS.changelogOffset) {
      this.changelogOffset = BigInt(value.toString());
    } else if (key.startsWith('o\u0000')) {
      this.outboxToDelete.push(key);
    }
  }

  /**
   * Call before `load` after a restore that discarded the records of a commit cut short (storage keys):
   * the next commit writes their stored values (or tombstones) to the changelog again, after those
   * stale records, so that no later restore applies them.
   */
  relogAfterRestore(storageKeys: string[]): void {
    this.relog = storageKeys.length ? new Map(storageKeys.map((k) => [k, null])) : null;
  }

  /** Forgets the stored input offsets (new cluster incarnation / offsets out of range); keeps state. */
  dropStoredOffsets(): void {
    this.processed.clear();
  }

  /** Last processed offset per topic, as stored. */
  storedOffsets(): Map<string, bigint> {
    return new Map(this.processed);
  }

  /** Initializes processors (after load). Idempotent. */
  init(): void {
    if (this.initialized) return;
    this.initialized = true;
    for (const [name, p] of this.processors) p.init?.(this.contexts.get(name)! as ProcessorContext);
  }

  // ---- processing ----------------------------------------------------------------------------

  /** Runs the sources' async preparation for a batch (undefined when nothing needed awaiting). */
  prepare(records: RawRecord[]): Promise<void> | undefined {
    const waits: Promise<void>[] = [];
    for (const node of new Set(this.sourceByTopic.values())) {
      if (!node.prepare) continue;
      const mine = records.filter((r) => node.topics.includes(r.topic));
      if (mine.length === 0) continue;
      const r = node.prepare(mine, this.contexts.get(node.name)! as ProcessorContext);
      if (r) waits.push(r);
    }
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  /** Processes one input record; returns false when it was already covered by stored offsets. */
  process(raw: RawRecord): boolean {
    const last = this.processed.get(raw.topic);
    const offset = BigInt(raw.offset);
    if (last !== undefined && offset <= last) {
      this.skipped++;
      return false;
    }
    const source = this.sourceByTopic.get(raw.topic);
    if (!source) throw new TopologyError(`Task ${this.taskId} has no source for topic "${raw.topic}"`, 'UNKNOWN_TOPIC');
    this.current = raw;
    const ctx = this.contexts.get(source.name)!;
    try {
      const rec = source.decode(raw, ctx);
      if (rec) {
        this.priorStreamTime = this.streamTime;
        if (rec.timestamp > this.streamTime) this.streamTime = rec.timestamp;
        ctx.forward(rec);
      }
    } finally {
      this.current = null;
      this.lateSentFor = null;
    }
    this.processed.set(raw.topic, offset);
    this.recordsSinceCommit++;
    this.punctuateStreamTime();
    return true;
  }

  private punctuateStreamTime(): void {
    for (const s of this.schedules) {
      if (s.type !== 'stream-time' || s.cancelled) continue;
      if (this.streamTime !== -Infinity && (s.last === -Infinity || this.streamTime >= s.last + s.interval)) {
        s.last = this.streamTime;
        s.fn(this.streamTime);
      }
    }
  }

  /** Runs due wall-clock punctuators (the runtime calls this on a timer, also for idle partitions). */
  punctuateWallClock(now = this.clock.now()): number {
    let fired = 0;
    for (const s of this.schedules) {
      if (s.type !== 'wall-clock' || s.cancelled) continue;
      if (now >= s.last + s.interval) {
        s.last = now;
        s.fn(now);
        fired++;
      }
    }
    return fired;
  }

  schedule(interval: number, type: PunctuationType, fn: Punctuator): Cancellable {
    if (!(interval > 0)) throw new TopologyError(`Punctuation interval must be > 0 ms: ${interval}`, 'INVALID_SCHEDULE');
    const s: Schedule = { interval, type, fn, last: type === 'wall-clock' ? this.clock.now() : -Infinity, cancelled: false };
    this.schedules.push(s);
    return { cancel: () => (s.cancelled = true) };
  }

  getStore(name: string): StateStore | undefined {
    return this.stores.get(name);
  }

  storeNames(): string[] {
    return [...this.stores.keys()];
  }

  processorFor(name: string): Processor | undefined {
    return this.processors.get(name);
  }

  wallClockTime(): number {
    return this.clock.now();
  }

  // ---- outputs -------------------------------------------------------------------------------

  enqueue(topic: string, message: OutputMessage): void {
    this.pending.push({ topic, message });
  }

  sideRecord(topic: string, reason: string, key: Buffer | null, value: Buffer | null, extra: Headers = {}): void {
    const headers: Headers = { [SIDE_HEADERS.reason]: reason, ...extra, [SIDE_HEADERS.topology]: this.topology.applicationId };
    if (this.current) {
      headers[SIDE_HEADERS.topic] = this.current.topic;
      headers[SIDE_HEADERS.partition] = String(this.current.partition);
      headers[SIDE_HEADERS.offset] = this.current.offset;
      // Lateness depends on each topology's windows and grace, so each topology's late report is its own
      // record; a record that cannot be decoded is bad for every reader: one id, deduplicated downstream.
      const by = reason === 'late' ? `/${this.topology.applicationId}` : '';
      headers[OUTPUT_ID_HEADER] = `${this.current.topic}/${this.current.partition}/${this.current.offset}/${reason}${by}`;
    }
    // The input record itself may be as large as a record can be: with these headers it would not fit, and
    // a commit that can never be sent would stop the partition. Its coordinates above say where it is.
    if (value && messageBytes({ key, value, headers }) > this.maxRecordBytes - 4096) {
      headers['vigil.value_omitted'] = `too large for one record (${value.length} bytes)`;
      value = null;
    }
    this.enqueue(topic, { key, value, headers, ...(this.current ? { timestamp: this.current.timestamp } : {}) });
    this.options.onSideRecord?.(topic, reason);
  }

  reportLate(extra?: Headers): void {
    if (!this.current) return;
    const id = `${this.current.topic}/${this.current.offset}`;
    if (this.lateSentFor === id) return;
    this.lateSentFor = id;
    this.sideRecord(this.topology.lateTopic, 'late', this.current.key, this.current.value, extra);
  }

  // ---- commit --------------------------------------------------------------------------------

  /** True when something changed since the last commit. */
  get dirty(): boolean {
    return this.recordsSinceCommit > 0 || this.pending.length > 0 || this.outboxToDelete.length > 0 || this.relog !== null;
  }

  /**
   * Collects a commit: flushes processors, gathers store changes, offsets, stream time and queued
   * outputs. The caller must write `ops` (one batch), then send `messages`, then commit `offsets`.
   */
  prepareCommit(): TaskCommit {
    for (const p of this.processors.values()) p.flush?.();
    const seq = ++this.seq;
    const ops: StorageOp[] = this.outboxToDelete.map((key) => ({ type: 'del', key }) as StorageOp);
    this.outboxToDelete = [];
    const changelog: QueuedMessage[] = [];
    for (const store of this.stores.values()) {
      store.commit(new PrefixedBatch(this, store.name, ops, changelog));
    }
    const relogged: string[] = [];
    if (this.relog) {
      // Stored values of keys an incomplete commit wrote to the changelog; a key this commit changes
      // anyway is logged by the store with its newer value.
      const changedNow = new Set(ops.map((op) => op.key));
      const again: QueuedMessage[] = [];
      for (const [key, value] of this.relog) {
        if (changedNow.has(key)) continue;
        again.push(...this.changelogMessages(key, value));
        relogged.push(key);
      }
      changelog.unshift(...again);
      this.relog = null;
    }
    const offsets = new Map<string, string>();
    const markerOffsets: Record<string, string> = {};
    for (const [topic, off] of this.processed) {
      ops.push({ type: 'put', key: KEYS.offset(topic), value: Buffer.from(off.toString()) });
      offsets.set(topic, (off + 1n).toString());
      markerOffsets[topic] = off.toString();
    }
    const streamTime = this.streamTime === -Infinity ? null : this.streamTime;
    if (streamTime !== null) ops.push({ type: 'put', key: KEYS.streamTime, value: Buffer.from(String(streamTime)) });
    ops.push({ type: 'put', key: KEYS.seq, value: Buffer.from(String(seq)) });
    const marker: CommitMarker = { seq, streamTime, offsets: markerOffsets };
    changelog.push({
      topic: this.topology.changelogTopic,
      message: { key: Buffer.from(CHANGELOG_MARKER_KEY), value: Buffer.from(JSON.stringify(marker)), partition: this.partition },
    });
    const messages = [...changelog, ...this.pending];
    // The outbox keeps the outputs and the marker, but only the KEYS of changed store entries: their
    // values are in the same batch, so the changelog can be re-created without storing it twice.
    const changed: string[] = [...relogged];
    for (const op of ops) if (op.key.startsWith('s\u0000')) changed.push(op.key);
    const outboxKey = KEYS.outbox(seq);
    ops.push({ type: 'put', key: outboxKey, value: encodeOutbox(changed, [changelog[changelog.length - 1]!, ...this.pending]) });
    this.pending = [];
    const records = this.recordsSinceCommit;
    this.recordsSinceCommit = 0;
    return { seq, ops, messages, outboxKey, offsets, records };
  }

  /**
   * Called once the commit's messages are acknowledged. Returns the storage ops that confirm it, for
   * the caller to write at once (not with the next commit, so a crash re-sends as little as possible):
   * the outbox entry goes, and the changelog offset of its marker is kept (for tail restores).
   */
  commitSent(commit: TaskCommit, markerOffset?: bigint): StorageOp[] {
    const ops: StorageOp[] = [];
    if (commit.outboxKey) ops.push({ type: 'del', key: commit.outboxKey });
    if (markerOffset !== undefined) {
      this.changelogOffset = markerOffset;
      ops.push({ type: 'put', key: KEYS.changelogOffset, value: Buffer.from(markerOffset.toString()) });
    }
    return ops;
  }

  /**
   * Storage ops that confirm the outbox entries found by `load` once the caller re-sent them; entries
   * not confirmed this way are deleted by the next commit.
   */
  confirmLoadedOutbox(): StorageOp[] {
    const ops = this.outboxToDelete.map((key) => ({ type: 'del', key }) as StorageOp);
    this.outboxToDelete = [];
    return ops;
  }

  close(): void {
    for (const p of this.processors.values()) p.close?.();
    for (const s of this.stores.values()) s.close();
  }
}
