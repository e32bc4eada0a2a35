/**
 * The tasks of one runtime, by input partition: opening them (once, also when several batches ask),
 * closing those whose partition moved away, and recovering a task whose commit failed.
 *
 * Recovery is the reason this class exists. A commit that fails half-way leaves a task whose memory
 * is ahead of its storage, and a consumer whose position is past what the storage covers (every
 * processed record was resolved). The task is therefore fenced (nothing processes or commits through
 * it any more), its partition paused, and it is reopened from its storage (re-sending the outbox of a
 * commit that was written but not sent); the consumer is then moved back to the first offset the
 * storage does not cover and resumed. So a failed commit costs reprocessing, never input.
 */
import { TopologyError } from '../api.js';
import type { Topology } from '../topology.js';
import type { TaskStorage } from '../../state/task-storage.js';
import type { Logger } from '../../obs/logger.js';
import type { StreamTask } from './stream-task.js';
import type { TaskOpener } from './task-opener.js';
import type { RecordSender } from './record-sender.js';
import { counter } from '../../obs/metrics.js';

const refusedTotal = counter('vigil_task_open_refused_total', 'Task opens refused because its state cannot be restored exactly (the partition stays paused)', ['topology', 'code']);

/** Errors that opening again will not fix: the partition is paused until the next assignment. */
const REFUSALS = new Set(['CHANGELOG_TRUNCATED', 'CHANGELOG_INCOMPLETE', 'CORRUPT_STATE']);

/** A task and what the runtime keeps beside it. */
export interface TaskEntry {
  readonly partition: number;
  readonly task: StreamTask;
  readonly storage: TaskStorage;
  /** Topic -> next offset committed to Kafka by this runtime. */
  readonly committed: Map<string, string>;
  /** Set when a commit of this task failed or the task was closed: it must not process or commit again. */
  fenced: boolean;
}

/** The consumer operations recovery needs (the runtime binds them to the current kafkajs consumer). */
export interface ConsumerControl {
  pause(partition: number): void;
  resume(partition: number): void;
  seek(topic: string, partition: number, offset: string): void;
}

export interface TaskManagerOptions {
  topology: Topology;
  opener: TaskOpener;
  sender: RecordSender;
  consumer(): ConsumerControl | null;
  /** Where to read `topic` of `partition` when the storage holds no offset for it. */
  startOffset(topic: string, partition: number): Promise<string>;
  /** Resolves when no commit IO is in flight (a task is closed only then). */
  idle(): Promise<void>;
  log: Logger;
  /** Backoff between recovery attempts (ms, doubled up to 5 s). Default 200. */
  retryDelayMs?: number;
}

export class TaskManager {
  private readonly tasks = new Map<number, TaskEntry>();
  private readonly opening = new Map<number, Promise<TaskEntry>>();
  /** Partitions whose task cannot be opened exactly (REFUSALS), with why; retried at the next assignment. */
  private readonly refused = new Map<number, Error>();
  /** Partitions of the current assignment (null until the first one). */
  private assigned: Set<number> | null = null;
  private stopped = false;
  /** Set while a rebalance is under way: resolved by the assignment that ends it. */
  private settled: Promise<void> | null = null;
  private settle: (() => void) | null = null;

  constructor(private readonly o: TaskManagerOptions) {}

  get(partition: number): TaskEntry | undefined {
    return this.tasks.get(partition);
  }

  entries(): TaskEntry[] {
    return [...this.tasks.values()];
  }

  partitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  isAssigned(partition: number): boolean {
    return !this.stopped && (this.assigned === null || this.assigned.has(partition));
  }

  /** Why the task of `partition` was refused (its partition is paused), or undefined. */
  refusal(partition: number): Error | undefined {
    return this.refused.get(partition);
  }

  /** The open task of `partition`, opening it (once) or waiting for its recovery. */
  ensure(partition: number): Promise<TaskEntry> {
    const open = this.tasks.get(partition);
    if (open) return Promise.resolve(open);
    const refused = this.refused.get(partition);
    if (refused) return Promise.reject(refused);
    let p = this.opening.get(partition);
    if (!p) {
      p = this.open(partition)
        .catch((err: Error) => {
          if (err instanceof TopologyError && REFUSALS.has(err.code)) this.refuse(partition, err);
          throw err;
        })
        .finally(() => this.opening.delete(partition));
      this.opening.set(partition, p);
    }
    return p;
  }

  /** Never a partial state: the partition is paused (the other tasks go on) and the refusal is loud. */
  private refuse(partition: number, err: TopologyError): void {
    this.refused.set(partition, err);
    this.o.consumer()?.pause(partition);
    refusedTotal.inc({ topology: this.o.topology.applicationId, code: err.code });
    this.o.log.error({ err: err.message, code: err.code, partition }, 'task refused: its state cannot be restored exactly; the partition stays paused until the next assignment');
  }

  /** A rebalance began: recoveries wait for the assignment that ends it (their partition may move). */
  rebalancing(): void {
    if (this.settled) return;
    this.settled = new Promise((r) => (this.settle = r));
  }

  /** A new assignment: tasks of partitions that moved away are closed, the new ones opened. */
  assign(partitions: Set<number>): void {
    this.assigned = partitions;
    this.settle?.();
    this.settled = null;
    this.settle = null;
    for (const p of this.refused.keys()) this.o.consumer()?.resume(p);
    this.refused.clear();
    // Closed without committing: the new owner continues from the last committed state (changelog +
    // offsets), so nothing is lost or counted twice.
    for (const p of [...this.tasks.keys()]) if (!partitions.has(p)) void this.close(p, 'partition revoked');
    // Opened now, in parallel, rather than one by one as their first batches arrive.
    for (const p of partitions) {
      if (!this.tasks.has(p)) this.ensure(p).catch((err: Error) => this.o.log.warn({ err: err.message, partition: p }, 'task open failed; retried with its next batch'));
    }
  }

  private async open(partition: number): Promise<TaskEntry> {
    const { task, storage, outbox } = await this.o.opener.open(partition);
    try {
      if (outbox.length) {
        this.o.log.info({ taskId: task.taskId, messages: outbox.length }, 're-sending the outbox of an unconfirmed commit');
        await this.o.sender.send(outbox);
        await storage.write(task.confirmLoadedOutbox());
      }
      if (!this.isAssigned(partition)) throw new TopologyError(`Partition ${partition} was revoked while its task opened`, 'REVOKED');
    } catch (err) {
      task.close();
      await storage.close().catch(() => undefined);
      throw err;
    }
    const entry: TaskEntry = { partition, task, storage, committed: new Map(), fenced: false };
    this.tasks.set(partition, entry);
    this.o.log.info({ taskId: task.taskId, streamTime: task.streamTime, offsets: Object.fromEntries([...task.storedOffsets()].map(([t, o]) => [t, o.toString()])) }, 'task opened');
    return entry;
  }

  /**
   * A commit of `entry` failed: fence it, pause its partition, reopen the task from its storage, move
   * the consumer back to the first offset the storage does not cover, resume. Retried with backoff
   * until it succeeds, the partition is revoked or the runtime stops.
   */
  fail(entry: TaskEntry, err: Error): void {
    if (entry.fenced) return;
    entry.fenced = true;
    const p = entry.partition;
    if (this.tasks.get(p) === entry) this.tasks.delete(p);
    const msg = 'commit not completed; reopening the task from its storage and consuming again from what it covers';
    // A rebalance is normal operation; a failed write or send is not.
    if (err instanceof TopologyError && err.code === 'REBALANCED') this.o.log.info({ taskId: entry.task.taskId }, `${msg} (a rebalance began)`);
    else this.o.log.error({ err, taskId: entry.task.taskId }, msg);
    this.o.consumer()?.pause(p);
    const recovery = this.recover(entry).finally(() => {
      this.opening.delete(p);
      this.o.consumer()?.resume(p);
    });
    recovery.catch((e: Error) => this.o.log.warn({ err: e.message, partition: p }, 'task not recovered'));
    this.opening.set(p, recovery);
  }

  private async recover(entry: TaskEntry): Promise<TaskEntry> {
    const p = entry.partition;
    entry.task.close();
    await entry.storage.close().catch((err: Error) => this.o.log.warn({ err: err.message, partition: p }, 'closing a failed task storage failed'));
    let delay = this.o.retryDelayMs ?? 200;
    for (;;) {
      if (this.settled) await this.settled;
      if (!this.isAssigned(p)) throw new TopologyError(`Task of partition ${p} not recovered: the runtime stopped or the partition was revoked`, 'NOT_RECOVERED');
      try {
        const fresh = await this.open(p);
        await this.seekToStored(fresh);
        return fresh;
      } catch (err) {
        if (err instanceof TopologyError && REFUSALS.has(err.code)) {
          this.refuse(p, err);
          throw err;
        }
        this.o.log.warn({ err: (err as Error).message, partition: p, retryInMs: delay }, 'reopening a failed task failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(5000, delay * 2);
      }
    }
  }

  private async seekToStored(entry: TaskEntry): Promise<void> {
    const stored = entry.task.storedOffsets();
    const consumer = this.o.consumer();
    for (const topic of this.o.topology.sourceTopics()) {
      const off = stored.get(topic);
      const next = off !== undefined ? (off + 1n).toString() : await this.o.startOffset(topic, entry.partition);
      this.o.log.info({ taskId: entry.task.taskId, topic, offset: next }, 'consuming again from the first offset the storage does not cover');
      consumer?.seek(topic, entry.partition, next);
    }
  }

  /** Closes the task of `partition` once no commit IO is in flight. */
  async close(partition: number, why: string): Promise<void> {
    const entry = this.tasks.get(partition);
    if (!entry) return;
    this.tasks.delete(partition);
    entry.fenced = true;
    await this.o.idle();
    entry.task.close();
    await entry.storage.close();
    this.o.log.info({ taskId: entry.task.taskId }, `task closed (${why})`);
  }

  /** Closes every task (after the final commit); no task opens or recovers after this. */
  async closeAll(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.opening.values()]);
    for (const p of [...this.tasks.keys()]) await this.close(p, 'runtime stopped');
  }
}
