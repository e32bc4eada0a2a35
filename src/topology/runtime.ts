/**
 * TopologyRuntime: runs a Topology on kafkajs. One consumer group (= applicationId), one StreamTask per
 * assigned input partition, batch-at-a-time processing (eachBatch), and the effectively-once commit:
 *
 *   1. ONE storage (LevelDB) batch: store changes + processed input offsets + stream time + outbox
 *   2. send the changelog records (ending with a commit marker) and the outputs (deterministic ids)
 *   3. commit the input offsets to Kafka
 *
 * On (re)start a task skips records at or below its stored offsets; an unconfirmed outbox is re-sent.
 * A task whose local state is older than the group's committed offsets (it ran elsewhere meanwhile) is
 * rebuilt from the changelog. A new cluster incarnation (the embedded Kafka restarted empty) or stored
 * offsets beyond the end of the partition drop only the stored input offsets, keeping the state.
 *
 * The Kafka client is injected (wired at the app level); this module never reads the environment.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer, Message } from 'kafkajs';
import type { Clock } from './api.js';
import { TopologyError } from './api.js';
import type { RawRecord, Topology } from './topology.js';
import { StreamTask, KEYS, type TaskCommit } from './internals/stream-task.js';
import { readChangelog } from './internals/changelog-restore.js';
import type { QueuedMessage } from './internals/message-codec.js';
import type { StorageOp, TaskStorage, TaskStorageFactory } from '../state/task-storage.js';
import { startResilientConsumer, type ResilientConsumer } from '../kafka/resilient-consumer.js';
import { componentLogger, type Logger } from '../obs/logger.js';
import { counter, gauge, histogram } from '../obs/metrics.js';

const recordsTotal = counter('vigil_topology_records_total', 'Input records processed', ['topology']);
const samplesRate = gauge('vigil_topology_records_per_second', 'Input records processed per second (last commit interval)', ['topology']);
const skippedTotal = counter('vigil_topology_records_skipped_total', 'Input records skipped as already covered by stored offsets (replays)', ['topology']);
const sideTotal = counter('vigil_topology_side_records_total', 'Records sent to side topics (late, dead letters)', ['topology', 'topic', 'reason']);
const lateTotal = counter('vigil_late_records_total', 'Input records with data for closed windows (sent to metrics.late)', ['topology']);
const lagGauge = gauge('vigil_consumer_lag', 'High watermark minus next offset to process', ['topology', 'topic', 'partition']);
const commitSeconds = histogram('vigil_commit_duration_seconds', 'Duration of a task commit (storage batch + sends + offset commit)', ['topology'], [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
const stateBytes = gauge('vigil_state_bytes', 'Approximate bytes of a task\'s LevelDB', ['task']);
const restoredTotal = counter('vigil_changelog_restored_records_total', 'Changelog records read to restore tasks', ['topology']);
const restoresTotal = counter('vigil_changelog_restores_total', 'Task restores from the changelog (mode full: empty local state; tail: local state + changelog tail)', ['topology', 'mode']);

export interface TopologyRuntimeOptions {
  kafka: Kafka;
  topology: Topology;
  storage: TaskStorageFactory;
  /** From clusterIncarnation(): a change drops stored input offsets (state is kept). */
  incarnation: string;
  /** Extra kafkajs consumer settings (e.g. embeddedConsumerDefaults). */
  consumer?: Record<string, unknown>;
  /** Commit interval (ms). Default 5000. */
  commitIntervalMs?: number;
  /** How often wall-clock punctuators are checked (ms). Default 1000. */
  punctuateIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called after each commit (tests, progress). */
  onCommit?: (taskId: string, commit: TaskCommit) => void;
}

interface TaskEntry {
  task: StreamTask;
  storage: TaskStorage;
  /** Topic -> next offset committed to Kafka by this runtime. */
  committed: Map<string, string>;
}

const systemClock: Clock = { now: () => Date.now() };

export class TopologyRuntime {
  private readonly topology: Topology;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly tasks = new Map<number, TaskEntry>();
  private readonly opening = new Map<number, Promise<TaskEntry>>();
  private consumer: ResilientConsumer | null = null;
  private adminClient: Admin | null = null;
  /**
   * The group's committed offsets, fetched once per assignment for every task it opens (one request,
   * not one per task: 16 concurrent look-ups took up to 1.5 s on the embedded Kafka). While this
   * instance owns a partition only it commits there, and its commits never pass its local storage,
   * so a copy older than the latest own commit gives the same staleness answer.
   */
  private groupOffsets: Promise<Awaited<ReturnType<Admin['fetchOffsets']>>> | null = null;
  private producer: Producer | null = null;
  private commitChain: Promise<void> = Promise.resolve();
  private lastCommit = 0;
  private recordsSinceRate = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Records processed by this runtime (all tasks). */
  processed = 0;
  /** Time spent processing records / waiting for a previous commit's IO (ms; for benchmarks). */
  busyMs = 0;
  commitWaitMs = 0;

  constructor(private readonly options: TopologyRuntimeOptions) {
    this.topology = options.topology;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? componentLogger('runtime', { topology: options.topology.applicationId });
  }

  get applicationId(): string {
    return this.topology.applicationId;
  }

  /** Partitions with an open task. */
  assignedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  /** The task of `partition` (tests, HTTP state views). */
  taskFor(partition: number): StreamTask | undefined {
    return this.tasks.get(partition)?.task;
  }

  /** One admin connection for the runtime's look-ups (opening a task must stay cheap). */
  private async admin(): Promise<Admin> {
    if (!this.adminClient) {
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.adminClient = admin;
    }
    return this.adminClient;
  }

  async start(): Promise<void> {
    const { kafka } = this.options;
    this.producer = kafka.producer({ allowAutoTopicCreation: true });
    await this.producer.connect();
    this.lastCommit = this.clock.now();
    this.consumer = await startResilientConsumer(kafka, {
      config: { groupId: this.applicationId, ...(this.options.consumer ?? {}) } as never,
      subscribe: { topics: this.topology.sourceTopics(), fromBeginning: true },
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Tasks are independent: while one waits for a fetch or a schema, another processes.
        partitionsConsumedConcurrently: 4,
        eachBatch: (payload) => this.eachBatch(payload),
      },
      onConsumer: (consumer) => this.watch(consumer),
    });
    this.timer = setInterval(() => this.tick(), this.options.punctuateIntervalMs ?? 1000);
    this.log.info({ topics: this.topology.sourceTopics() }, 'runtime started');
  }

  private watch(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const mine = new Set<number>();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        if (this.topology.sourceTopics().includes(topic)) for (const p of partitions as number[]) mine.add(p);
      }
      this.log.info({ partitions: [...mine].sort((a, b) => a - b) }, 'assignment');
      this.groupOffsets = null;
      // Tasks whose partition moved away are closed without committing: the new owner continues from
      // the last committed state (changelog + offsets), so nothing is lost or counted twice.
      for (const p of [...this.tasks.keys()]) if (!mine.has(p)) void this.closeTask(p);
      // Open the new tasks now, in parallel, rather than one by one as their first batches arrive.
      for (const p of mine) {
        if (!this.tasks.has(p)) this.ensureTask(p).catch((err: Error) => this.log.warn({ err: err.message, partition: p }, 'task open failed; retried with its next batch'));
      }
    });
  }

  private tick(): void {
    if (this.stopping) return;
    const now = this.clock.now();
    for (const e of this.tasks.values()) e.task.punctuateWallClock(now);
    if (now - this.lastCommit >= (this.options.commitIntervalMs ?? 5000)) void this.commitAll().catch(() => undefined);
  }

  /**
   * A commit that failed half-way leaves tasks whose memory is ahead of their storage: the tasks are
   * dropped and reopen from storage (re-sending their outbox) with the next batch.
   */
  private fail(err: Error): void {
    this.log.error({ err }, 'commit failed; reopening tasks from their storage');
    for (const p of [...this.tasks.keys()]) void this.closeTask(p);
  }

  private async eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    this.log.debug({ partition: batch.partition, messages: batch.messages.length, first: batch.firstOffset() }, 'batch');
    const entry = await this.ensureTask(batch.partition);
    const records: RawRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      timestamp: Number(m.timestamp),
      ...(m.headers ? { headers: headersOf(m.headers) } : {}),
    }));
    const prep = entry.task.prepare(records);
    if (prep) await prep;
    let n = 0;
    let skipped = 0;
    const t0 = performance.now();
    for (const r of records) {
      if (!isRunning() || isStale()) break;
      if (entry.task.process(r)) n++;
      else skipped++;
      // Kafka's committed offsets move only in commitTask; this tells kafkajs where to fetch next.
      resolveOffset(r.offset);
    }
    this.busyMs += performance.now() - t0;
    if (skipped) skippedTotal.inc({ topology: this.applicationId }, skipped);
    this.processed += n;
    this.recordsSinceRate += n;
    recordsTotal.inc({ topology: this.applicationId }, n);
    const last = records.at(-1);
    if (last) lagGauge.set({ topology: this.applicationId, topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
    if (this.clock.now() - this.lastCommit >= (this.options.commitIntervalMs ?? 5000)) {
      // At most one commit's IO in flight: wait for the previous one, start this one, go on processing.
      const w0 = performance.now();
      await this.commitChain;
      this.commitWaitMs += performance.now() - w0;
      void this.commitAll().catch(() => undefined);
    }
    await heartbeat();
  }

  /** Opens (once) the task of `partition`: local state, incarnation and staleness checks, restore. */
  private ensureTask(partition: number): Promise<TaskEntry> {
    const open = this.tasks.get(partition);
    if (open) return Promise.resolve(open);
    let p = this.opening.get(partition);
    if (!p) {
      p = this.openTask(partition).finally(() => this.opening.delete(partition));
      this.opening.set(partition, p);
    }
    return p;
  }

  private async openTask(partition: number): Promise<TaskEntry> {
    const taskId = `${this.applicationId}-${partition}`;
    const storage = await this.options.storage(taskId);
    let task = new StreamTask(this.topology, { taskId, partition, clock: this.clock, onSideRecord: (topic, reason) => this.countSide(topic, reason) });
    let outbox = await task.load(storage.entries());
    const storedIncarnation = (await storage.get(KEYS.incarnation))?.toString();
    const fixes: StorageOp[] = [];
    if (storedIncarnation !== undefined && storedIncarnation !== this.options.incarnation) {
      this.log.warn({ taskId, stored: storedIncarnation, current: this.options.incarnation }, 'new Kafka cluster incarnation: dropping stored input offsets, keeping state');
      for (const topic of task.storedOffsets().keys()) fixes.push({ type: 'del', key: KEYS.offset(topic) });
      task.dropStoredOffsets();
      outbox = []; // sends meant for the previous cluster
    } else if (await this.isStale(task, partition)) {
      task.close();
      const from = task.changelogOffset;
      if (from !== null) {
        // Local state covers the changelog up to a known marker: apply only the tail after it (values are
        // absolute, so re-applying a commit the storage already holds is harmless).
        this.log.info({ taskId, from: (from + 1n).toString() }, 'local state is older than the committed offsets: restoring the changelog tail');
        await this.restoreFromChangelog(storage, partition, taskId, from + 1n);
      } else {
        this.log.info({ taskId }, 'local state is older than the committed offsets: restoring from the changelog');
        await this.wipe(storage);
        await this.restoreFromChangelog(storage, partition, taskId, 0n);
      }
      task = new StreamTask(this.topology, { taskId, partition, clock: this.clock, onSideRecord: (topic, reason) => this.countSide(topic, reason) });
      outbox = await task.load(storage.entries());
    }
    await this.dropOffsetsBeyondEnd(task, partition, fixes);
    fixes.push({ type: 'put', key: KEYS.incarnation, value: Buffer.from(this.options.incarnation) });
    await storage.write(fixes);
    task.init();
    if (outbox.length) {
      this.log.info({ taskId, messages: outbox.length }, 're-sending the outbox of an unconfirmed commit');
      await this.send(outbox);
    }
    const entry: TaskEntry = { task, storage, committed: new Map() };
    this.tasks.set(partition, entry);
    this.log.info({ taskId, streamTime: task.streamTime, offsets: Object.fromEntries([...task.storedOffsets()].map(([t, o]) => [t, o.toString()])) }, 'task opened');
    return entry;
  }

  /** True when the group committed past what the local storage covers (the task ran elsewhere). */
  private async isStale(task: StreamTask, partition: number): Promise<boolean> {
    const stored = task.storedOffsets();
    for (const t of await this.committedOffsets()) {
      const p = t.partitions.find((x) => x.partition === partition);
      if (!p || p.offset === '-1') continue;
      const local = stored.get(t.topic);
      if (local === undefined || BigInt(p.offset) - 1n > local) return true;
    }
    return false;
  }

  private committedOffsets(): Promise<Awaited<ReturnType<Admin['fetchOffsets']>>> {
    if (!this.groupOffsets) {
      const p = this.admin().then((admin) => admin.fetchOffsets({ groupId: this.applicationId, topics: this.topology.sourceTopics() }));
      // A failed look-up is not kept: the next task open asks again.
      p.catch(() => {
        if (this.groupOffsets === p) this.groupOffsets = null;
      });
      this.groupOffsets = p;
    }
    return this.groupOffsets;
  }

  /** A stored offset past the partition's end (topic recreated on a real cluster): drop, keep state. */
  private async dropOffsetsBeyondEnd(task: StreamTask, partition: number, fixes: StorageOp[]): Promise<void> {
    const stored = task.storedOffsets();
    if (stored.size === 0) return;
    const admin = await this.admin();
    for (const [topic, off] of stored) {
      const ends = await admin.fetchTopicOffsets(topic);
      const end = ends.find((e) => e.partition === partition);
      if (end && off >= BigInt(end.high)) {
        this.log.warn({ topic, partition, stored: off.toString(), high: end.high }, 'stored offset is beyond the end of the partition: dropping stored offsets, keeping state');
        for (const t of stored.keys()) fixes.push({ type: 'del', key: KEYS.offset(t) });
        task.dropStoredOffsets();
        return;
      }
    }
  }

  private async wipe(storage: TaskStorage): Promise<void> {
    const ops: StorageOp[] = [];
    for await (const [key] of storage.entries()) ops.push({ type: 'del', key });
    await storage.write(ops);
  }

  /** Reads the task's changelog partition up to its end; applies complete commits only. */
  private async restoreFromChangelog(storage: TaskStorage, partition: number, taskId: string, from: bigint): Promise<void> {
    const { kafka } = this.options;
    const topic = this.topology.changelogTopic;
    const admin = await this.admin();
    const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
    const o = offsets.find((x) => x.partition === partition);
    const high = o ? BigInt(o.high) : 0n;
    if (!o || BigInt(o.high) <= BigInt(o.low) || from >= high) {
      this.log.info({ taskId }, 'nothing to restore from the changelog');
      return;
    }
    if (from > 0n && from < BigInt(o.low)) throw new TopologyError(`Changelog ${topic}/${partition} no longer holds offset ${from} (log start ${o.low}): cannot restore the tail`, 'CHANGELOG_TRUNCATED');
    const started = this.clock.now();
    const restorer = await readChangelog({
      kafka,
      topic,
      partition,
      from,
      high,
      groupId: `${this.applicationId}-restore-${taskId}-${Date.now()}`,
      ...(this.options.consumer ? { consumer: this.options.consumer } : {}),
      onProgress: (read) => this.log.info({ taskId, read, total: (high - from).toString() }, 'restoring from changelog'),
    });
    restoredTotal.inc({ topology: this.applicationId }, restorer.records);
    restoresTotal.inc({ topology: this.applicationId, mode: from > 0n ? 'tail' : 'full' });
    if (from > 0n && !restorer.lastMarker) throw new TopologyError(`Changelog tail of ${taskId} from ${from} has no complete commit although the group committed past the local state`, 'CHANGELOG_INCOMPLETE');
    await storage.write(restorer.toStorageOps());
    this.log.info({ taskId, records: restorer.records, discarded: restorer.discarded, ms: this.clock.now() - started, marker: restorer.lastMarker?.seq }, 'restored from changelog');
  }

  private countSide(topic: string, reason: string): void {
    sideTotal.inc({ topology: this.applicationId, topic, reason });
    if (reason === 'late') lateTotal.inc({ topology: this.applicationId });
  }

  /**
   * Commits every task with changes. The commits are prepared synchronously now (a consistent cut: JS
   * runs no record in between) and their IO is chained after the previous commit's, so processing can
   * go on while LevelDB and Kafka work; writes, sends and offset commits stay in commit order.
   */
  commitAll(): Promise<void> {
    this.lastCommit = this.clock.now();
    const prepared: Array<[TaskEntry, TaskCommit]> = [];
    for (const entry of this.tasks.values()) {
      if (entry.task.dirty) prepared.push([entry, entry.task.prepareCommit()]);
    }
    const run = this.commitChain.then(async () => {
      for (const [entry, c] of prepared) await this.finishCommit(entry, c);
      const secs = Math.max(0.001, (this.clock.now() - this.rateSince) / 1000);
      samplesRate.set({ topology: this.applicationId }, this.recordsSinceRate / secs);
      this.recordsSinceRate = 0;
      this.rateSince = this.clock.now();
    });
    this.commitChain = run.catch((err: Error) => this.fail(err));
    return run;
  }

  private rateSince = Date.now();

  private async finishCommit(entry: TaskEntry, c: TaskCommit): Promise<void> {
    const endTimer = commitSeconds.startTimer({ topology: this.applicationId });
    this.log.debug({ taskId: entry.task.taskId, seq: c.seq, records: c.records, messages: c.messages.length }, 'commit');
    await entry.storage.write(c.ops); // 1. one atomic batch
    const written = await this.send(c.messages); // 2. changelog + outputs
    // The marker is the task's last changelog record of this commit.
    entry.task.commitSent(c, written.get(`${this.topology.changelogTopic}/${entry.task.partition}`));
    const offsets = [...c.offsets].filter(([topic, off]) => entry.committed.get(topic) !== off);
    if (offsets.length && this.consumer) {
      // 3. Kafka offsets (may fail after a rebalance: the stored offsets still prevent double counting)
      try {
        await this.consumer.consumer.commitOffsets(offsets.map(([topic, offset]) => ({ topic, partition: entry.task.partition, offset })));
        for (const [topic, off] of offsets) entry.committed.set(topic, off);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, taskId: entry.task.taskId }, 'offset commit failed (rebalance?); stored offsets cover it');
      }
    }
    endTimer();
    this.options.onCommit?.(entry.task.taskId, c);
    void entry.storage.approximateBytes().then((b) => stateBytes.set({ task: entry.task.taskId }, b));
  }

  /** Sends messages in bounded requests; returns the last offset written per `topic/partition`. */
  private async send(messages: QueuedMessage[]): Promise<Map<string, bigint>> {
    const last = new Map<string, bigint>();
    if (messages.length === 0) return last;
    if (!this.producer) throw new TopologyError('Runtime is not started', 'NOT_STARTED');
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of messages) {
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push({
        key: message.key,
        value: message.value,
        ...(message.partition !== undefined ? { partition: message.partition } : {}),
        ...(message.headers ? { headers: message.headers } : {}),
        ...(message.timestamp !== undefined && message.timestamp >= 0 ? { timestamp: String(Math.trunc(message.timestamp)) } : {}),
      });
    }
    const topicMessages = [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
    // Bounded requests: the embedded Kafka and real brokers both cap request sizes.
    let chunk: typeof topicMessages = [];
    let size = 0;
    for (const tm of topicMessages) {
      for (let i = 0; i < tm.messages.length; i += 500) {
        const part = tm.messages.slice(i, i + 500);
        chunk.push({ topic: tm.topic, messages: part });
        size += part.length;
        if (size >= 500) {
          await this.sendChunk(chunk, last);
          chunk = [];
          size = 0;
        }
      }
    }
    if (chunk.length) await this.sendChunk(chunk, last);
    return last;
  }

  private async sendChunk(chunk: Array<{ topic: string; messages: Message[] }>, last: Map<string, bigint>): Promise<void> {
    const results = await this.producer!.sendBatch({ topicMessages: chunk, acks: -1 });
    // Only explicitly partitioned messages can be attributed (changelog records always are).
    const counts = new Map<string, number>();
    for (const tm of chunk) for (const m of tm.messages) if (m.partition !== undefined) counts.set(`${tm.topic}/${m.partition}`, (counts.get(`${tm.topic}/${m.partition}`) ?? 0) + 1);
    for (const r of results) {
      const n = counts.get(`${r.topicName}/${r.partition}`);
      if (n && r.baseOffset !== undefined) last.set(`${r.topicName}/${r.partition}`, BigInt(r.baseOffset) + BigInt(n) - 1n);
    }
  }

  private async closeTask(partition: number): Promise<void> {
    const entry = this.tasks.get(partition);
    if (!entry) return;
    this.tasks.delete(partition);
    await this.commitChain;
    entry.task.close();
    await entry.storage.close();
    this.log.info({ taskId: entry.task.taskId }, 'task closed (partition revoked)');
  }

  /** Clean stop: final commit of every task, leave the group, close storages. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.timer);
    try {
      if (this.consumer) await this.consumer.consumer.pause(this.topology.sourceTopics().map((topic) => ({ topic })));
    } catch {
      /* not running */
    }
    try {
      await this.commitAll();
    } catch (err) {
      this.log.error({ err }, 'final commit failed');
    }
    await this.consumer?.stop().catch(() => undefined);
    for (const [p, entry] of [...this.tasks]) {
      this.tasks.delete(p);
      entry.task.close();
      await entry.storage.close();
    }
    await this.producer?.disconnect().catch(() => undefined);
    await this.adminClient?.disconnect().catch(() => undefined);
    this.log.info({ processed: this.processed }, 'runtime stopped');
  }
}

function headersOf(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
  return out;
}
