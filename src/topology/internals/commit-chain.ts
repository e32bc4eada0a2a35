/**
 * The effectively-once commit of a runtime's tasks, without Kafka transactions. For each task:
 *
 *   1. ONE storage batch: store changes + processed input offsets + stream time + outbox
 *   2. send the changelog records (ending with a commit marker) and the outputs (deterministic ids),
 *      then confirm them in storage at once (the outbox entry goes: a later crash re-sends nothing)
 *   3. commit the input offsets to Kafka
 *
 * Commits are prepared synchronously (a consistent cut: no record runs in between) and their IO is
 * chained behind the previous commit's, so processing goes on while LevelDB and Kafka work; writes,
 * sends and offset commits stay in commit order. A task whose step 1 or 2 fails is handed to
 * `onFailure` (which fences it): every later commit of it already prepared is skipped, since it holds
 * only the changes since the failed one and must never be written on top of a commit that is missing.
 */
import type { Topology } from '../topology.js';
import { TopologyError } from '../api.js';
import type { Logger } from '../../obs/logger.js';
import { gauge, histogram } from '../../obs/metrics.js';
import type { TaskCommit } from './stream-task.js';
import type { RecordSender } from './record-sender.js';
import type { TaskEntry } from './task-manager.js';

const commitSeconds = histogram('vigil_commit_duration_seconds', 'Duration of a task commit (storage batch + sends + offset commit)', ['topology'], [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
const stateBytes = gauge('vigil_state_bytes', 'Approximate bytes of a task\'s LevelDB', ['task']);

/** Commits input offsets to Kafka (step 3). */
export type OffsetCommitter = (offsets: Array<{ topic: string; partition: number; offset: string }>) => Promise<void>;

export interface CommitChainOptions {
  topology: Topology;
  sender: RecordSender;
  /** The current offset committer (null while the consumer is not running). */
  commitOffsets(): OffsetCommitter | null;
  /** A task whose commit failed in step 1 or 2. */
  onFailure(entry: TaskEntry, err: Error): void;
  log: Logger;
  onCommit?: (taskId: string, commit: TaskCommit) => void;
  /**
   * The consumer's group generation as the runtime counts it (it moves when a rebalance starts and when
   * one ends). A commit prepared in an older generation is not sent: its partition may be another
   * instance's by now, and a changelog written after the new owner restored would interleave with its own.
   */
  generation?: () => number;
}

/** What one `commitAll` did. */
export interface CommitSummary {
  committed: number;
  failed: number;
  /** Commits skipped because their task had been fenced by an earlier failure. */
  skipped: number;
}

export class CommitChain {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: CommitChainOptions) {}

  /** Resolves when every commit started so far has finished (or failed). */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Prepares a commit of every dirty, unfenced task now and chains its IO. */
  commitAll(entries: Iterable<TaskEntry>): Promise<CommitSummary> {
    const prepared: Array<[TaskEntry, TaskCommit]> = [];
    const generation = this.o.generation?.() ?? 0;
    for (const entry of entries) if (!entry.fenced && entry.task.dirty) prepared.push([entry, entry.task.prepareCommit()]);
    const run = this.chain.then(async () => {
      const summary: CommitSummary = { committed: 0, failed: 0, skipped: 0 };
      for (const [entry, c] of prepared) {
        if (entry.fenced) {
          summary.skipped++;
          continue;
        }
        try {
          await this.finish(entry, c, generation);
          summary.committed++;
        } catch (err) {
          summary.failed++;
          this.o.onFailure(entry, err as Error);
        }
      }
      return summary;
    });
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async finish(entry: TaskEntry, c: TaskCommit, generation: number): Promise<void> {
    const endTimer = commitSeconds.startTimer({ topology: this.o.topology.applicationId });
    this.o.log.debug({ taskId: entry.task.taskId, seq: c.seq, records: c.records, messages: c.messages.length }, 'commit');
    await entry.storage.write(c.ops); // 1. one atomic batch
    // A rebalance began since the commit was prepared: it stays in storage (outbox included) and is sent
    // by whoever reopens this task here, once the assignment is known (the task is recovered).
    if ((this.o.generation?.() ?? 0) !== generation) throw new TopologyError('A rebalance began after the commit was prepared: not sending it', 'REBALANCED');
    const written = await this.o.sender.send(c.messages); // 2. changelog + outputs
    // Confirmed at once (the outbox goes), so a crash from here on re-sends nothing. The marker is the
    // task's last changelog record of this commit.
    await entry.storage.write(entry.task.commitSent(c, written.get(`${this.o.topology.changelogTopic}/${entry.partition}`)));
    const offsets = [...c.offsets].filter(([topic, off]) => entry.committed.get(topic) !== off);
    const commitOffsets = this.o.commitOffsets();
    if (offsets.length && commitOffsets) {
      // 3. Kafka offsets (may fail after a rebalance: the stored offsets still prevent double counting)
      try {
        await commitOffsets(offsets.map(([topic, offset]) => ({ topic, partition: entry.partition, offset })));
        for (const [topic, off] of offsets) entry.committed.set(topic, off);
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message, taskId: entry.task.taskId }, 'offset commit failed (rebalance?); stored offsets cover it');
      }
    }
    endTimer();
    this.o.onCommit?.(entry.task.taskId, c);
    entry.storage.approximateBytes().then(
      (b) => stateBytes.set({ task: entry.task.taskId }, b),
      () => undefined,
    );
  }
}
