/**
 * Opening a task: its local storage is loaded, then checked against the cluster, in this order:
 * 1. a new cluster incarnation (the embedded Kafka restarted empty) drops the stored input offsets and
 *    the unconfirmed outbox (meant for the old cluster), keeping the state;
 * 2. local state older than the group's committed offsets (the task ran elsewhere meanwhile) is
 *    rebuilt from the changelog: the tail after a known commit marker, or the whole partition;
 * 3. stored offsets beyond the end of the partition (a recreated topic) are dropped, keeping the state.
 * The cluster is reached through `ClusterView`, so each of these paths is unit-tested without a broker.
 */
import type { Clock } from '../api.js';
import { TopologyError } from '../api.js';
import type { Topology } from '../topology.js';
import type { StorageOp, TaskStorage, TaskStorageFactory } from '../../state/task-storage.js';
import type { Logger } from '../../obs/logger.js';
import { counter } from '../../obs/metrics.js';
import { KEYS, StreamTask } from './stream-task.js';
import type { ChangelogRestorer } from './changelog-restore.js';
import type { QueuedMessage } from './message-codec.js';

const restoredTotal = counter('vigil_changelog_restored_records_total', 'Changelog records read to restore tasks', ['topology']);
const restoresTotal = counter('vigil_changelog_restores_total', 'Task restores from the changelog (mode full: empty local state; tail: local state + changelog tail)', ['topology', 'mode']);

/** Offsets of one partition of a topic. */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** What opening a task needs to know from the cluster. */
export interface ClusterView {
  /** The group's committed offsets of the source topics ('-1' = none). */
  committedOffsets(): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  /** Log start and end of every partition of `topic` (empty when the topic does not exist). */
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Reads changelog `partition` from offset `from` up to `high` (exclusive). */
  readChangelog(o: { partition: number; from: bigint; high: bigint; taskId: string; onProgress(read: number): void }): Promise<ChangelogRestorer>;
}

export interface TaskOpenerOptions {
  topology: Topology;
  storage: TaskStorageFactory;
  incarnation: string;
  clock: Clock;
  log: Logger;
  cluster: ClusterView;
  onSideRecord(topic: string, reason: string): void;
  /** Largest changelog record (larger store values are written in parts). */
  maxRecordBytes?: number;
}

/** A task loaded and checked, its outbox (unconfirmed sends) still to be re-sent by the caller. */
export interface OpenedTask {
  task: StreamTask;
  storage: TaskStorage;
  outbox: QueuedMessage[];
}

export class TaskOpener {
  constructor(private readonly o: TaskOpenerOptions) {}

  private newTask(partition: number): StreamTask {
    const taskId = `${this.o.topology.applicationId}-${partition}`;
    return new StreamTask(this.o.topology, {
      taskId,
      partition,
      clock: this.o.clock,
      onSideRecord: (topic, reason) => this.o.onSideRecord(topic, reason),
      ...(this.o.maxRecordBytes ? { maxRecordBytes: this.o.maxRecordBytes } : {}),
    });
  }

  async open(partition: number): Promise<OpenedTask> {
    const taskId = `${this.o.topology.applicationId}-${partition}`;
    const storage = await this.o.storage(taskId);
    try {
      return await this.load(partition, taskId, storage);
    } catch (err) {
      await storage.close().catch(() => undefined);
      throw err;
    }
  }

  private async load(partition: number, taskId: string, storage: TaskStorage): Promise<OpenedTask> {
    const { log } = this.o;
    let task = this.newTask(partition);
    let outbox = await task.load(storage.entries());
    const storedIncarnation = (await storage.get(KEYS.incarnation))?.toString();
    const fixes: StorageOp[] = [];
    if (storedIncarnation !== undefined && storedIncarnation !== this.o.incarnation) {
      log.warn({ taskId, stored: storedIncarnation, current: this.o.incarnation }, 'new Kafka cluster incarnation: dropping stored input offsets, keeping state');
      for (const topic of task.storedOffsets().keys()) fixes.push({ type: 'del', key: KEYS.offset(topic) });
      task.dropStoredOffsets();
      outbox = []; // sends meant for the previous cluster
    } else if (await this.isStale(task, partition)) {
      task.close();
      const from = task.changelogOffset;
      let discarded: string[];
      if (from !== null) {
        // Local state covers the changelog up to a known marker: apply only the tail after it (values are
        // absolute, so re-applying a commit the storage already holds is harmless).
        log.info({ taskId, from: (from + 1n).toString() }, 'local state is older than the committed offsets: restoring the changelog tail');
        discarded = await this.restore(storage, partition, taskId, from + 1n);
      } else {
        log.info({ taskId }, 'local state is older than the committed offsets: restoring from the changelog');
        await this.checkFullRestore(partition, taskId);
        await wipe(storage);
        discarded = await this.restore(storage, partition, taskId, 0n);
      }
      task = this.newTask(partition);
      task.relogAfterRestore(discarded);
      outbox = await task.load(storage.entries());
      // The restore deleted the outbox: its sends belonged to a state the changelog has moved past.
      if (outbox.length) throw new TopologyError(`Task ${taskId} still has an outbox after a restore`, 'CORRUPT_STATE');
    }
    await this.dropOffsetsBeyondEnd(task, partition, fixes);
    fixes.push({ type: 'put', key: KEYS.incarnation, value: Buffer.from(this.o.incarnation) });
    await storage.write(fixes);
    task.init();
    return { task, storage, outbox };
  }

  /** True when the group committed past what the local storage covers (the task ran elsewhere). */
  private async isStale(task: StreamTask, partition: number): Promise<boolean> {
    const stored = task.storedOffsets();
    for (const t of await this.o.cluster.committedOffsets()) {
      const p = t.partitions.find((x) => x.partition === partition);
      if (!p || p.offset === '-1') continue;
      const local = stored.get(t.topic);
      if (local === undefined || BigInt(p.offset) - 1n > local) return true;
    }
    return false;
  }

  /** A stored offset past the partition's end (topic recreated on a real cluster): drop, keep state. */
  private async dropOffsetsBeyondEnd(task: StreamTask, partition: number, fixes: StorageOp[]): Promise<void> {
    const stored = task.storedOffsets();
    for (const [topic, off] of stored) {
      const end = (await this.o.cluster.topicOffsets(topic)).find((e) => e.partition === partition);
      if (end && off >= BigInt(end.high)) {
        this.o.log.warn({ topic, partition, stored: off.toString(), high: end.high }, 'stored offset is beyond the end of the partition: dropping stored offsets, keeping state');
        for (const t of stored.keys()) fixes.push({ type: 'del', key: KEYS.offset(t) });
        task.dropStoredOffsets();
        return;
      }
    }
  }

  /** A full restore needs the changelog from offset 0: what a truncated one holds is partial state. */
  private async checkFullRestore(partition: number, taskId: string): Promise<void> {
    const topic = this.o.topology.changelogTopic;
    const o = (await this.o.cluster.topicOffsets(topic)).find((x) => x.partition === partition);
    if (o && BigInt(o.low) > 0n) {
      throw new TopologyError(
        `Changelog ${topic}/${partition} starts at offset ${o.low}, not 0 (retention deleted its beginning): the state of ${taskId} cannot be restored from it, and a partial state is not used. Restore the task's local state directory, or reset the group's offsets of this partition to reprocess the input from its start (the changelog needs cleanup.policy=compact without retention)`,
        'CHANGELOG_TRUNCATED',
      );
    }
  }

  /**
   * Reads the task's changelog partition from `from` up to its end and applies its complete commits to
   * the storage, in one batch that also deletes any outbox; returns the storage keys of the records of
   * a commit cut short (discarded).
   */
  private async restore(storage: TaskStorage, partition: number, taskId: string, from: bigint): Promise<string[]> {
    const { topology, log, clock } = this.o;
    const topic = topology.changelogTopic;
    const o = (await this.o.cluster.topicOffsets(topic)).find((x) => x.partition === partition);
    const high = o ? BigInt(o.high) : 0n;
    const outboxes: StorageOp[] = [];
    for await (const [key] of storage.entries()) if (key.startsWith('o\u0000')) outboxes.push({ type: 'del', key });
    // Called only when the group committed past the local state: its changelog must hold those commits.
    if (!o || from >= high) throw new TopologyError(`Changelog ${topic}/${partition} holds nothing from offset ${from} on, although the group committed past the local state of ${taskId}`, 'CHANGELOG_INCOMPLETE');
    if (from < BigInt(o.low)) throw new TopologyError(`Changelog ${topic}/${partition} no longer holds offset ${from} (log start ${o.low}): cannot restore the tail`, 'CHANGELOG_TRUNCATED');
    const started = clock.now();
    const restorer = await this.o.cluster.readChangelog({
      partition,
      from,
      high,
      taskId,
      onProgress: (read) => log.info({ taskId, read, total: (high - from).toString() }, 'restoring from changelog'),
    });
    restoredTotal.inc({ topology: topology.applicationId }, restorer.records);
    restoresTotal.inc({ topology: topology.applicationId, mode: from > 0n ? 'tail' : 'full' });
    if (!restorer.lastMarker) throw new TopologyError(`Changelog of ${taskId} from ${from} has no complete commit although the group committed past the local state`, 'CHANGELOG_INCOMPLETE');
    await storage.write([...outboxes, ...restorer.toStorageOps()]);
    log.info({ taskId, records: restorer.records, discarded: restorer.discarded, ms: clock.now() - started, marker: restorer.lastMarker?.seq }, 'restored from changelog');
    return restorer.discardedKeys();
  }
}

async function wipe(storage: TaskStorage): Promise<void> {
  const ops: StorageOp[] = [];
  for await (const [key] of storage.entries()) ops.push({ type: 'del', key });
  await storage.write(ops);
}
