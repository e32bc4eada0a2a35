/**
 * Rebuilding a task's storage from its changelog partition. A commit's changelog records are followed
 * by a commit marker; records after the last marker belong to a commit whose sends were cut short (a
 * crash), and the input offsets that cover them were never recorded anywhere durable except the
 * crashed instance's LevelDB. They are therefore ignored: the state restored is exactly the state of
 * the last complete commit, and the marker's offsets say which input records it covers.
 */
import type { Kafka } from 'kafkajs';
import { CHANGELOG_MARKER_KEY, KEYS, type CommitMarker } from './stream-task.js';
import type { StorageOp } from '../../state/task-storage.js';
import { PART_PREFIX, PartAssembler } from './changelog-parts.js';

export interface ChangelogEntry {
  key: Buffer | null;
  value: Buffer | null;
  /** Offset in the changelog partition (when known: the restored state then remembers its marker's). */
  offset?: bigint;
}

export class ChangelogRestorer {
  private readonly applied = new Map<string, Buffer | null>();
  private pending: Array<[string, Buffer | null]> = [];
  private marker: CommitMarker | null = null;
  private markerOffset: bigint | null = null;
  private readonly parts = new PartAssembler();
  /** Number of changelog records read. */
  records = 0;

  /** Feeds the next changelog record of the partition (in offset order). */
  add(entry: ChangelogEntry): void {
    this.records++;
    if (!entry.key) return;
    const key = entry.key.toString();
    if (key === CHANGELOG_MARKER_KEY) {
      for (const [k, v] of this.pending) this.applied.set(k, v);
      this.pending = [];
      this.marker = JSON.parse(entry.value!.toString()) as CommitMarker;
      this.markerOffset = entry.offset ?? null;
      return;
    }
    if (key.startsWith(PART_PREFIX)) {
      const whole = this.parts.add(key.slice(PART_PREFIX.length), entry.value);
      if (whole) this.pending.push(whole);
      return;
    }
    this.pending.push([key, entry.value]);
  }

  /**
   * Storage keys written by the records after the last marker (a commit cut short). They stay in the
   * changelog before whatever the restored task writes next, so it must write them again with their
   * restored values: a later restore would otherwise apply them at the next marker.
   */
  discardedKeys(): string[] {
    return [...new Set([...this.pending.map(([k]) => k), ...this.parts.incomplete()].map(storageKey))];
  }

  /** The last complete commit seen (null = none: the task starts empty). */
  get lastMarker(): CommitMarker | null {
    return this.marker;
  }

  /** Records after the last marker (discarded). */
  get discarded(): number {
    return this.pending.length;
  }

  /** Storage ops that turn an EMPTY task storage into the restored state (stores, offsets, stream time). */
  toStorageOps(): StorageOp[] {
    const ops: StorageOp[] = [];
    for (const [k, v] of this.applied) {
      const key = storageKey(k);
      if (v === null) ops.push({ type: 'del', key });
      else ops.push({ type: 'put', key, value: v });
    }
    if (this.markerOffset !== null) ops.push({ type: 'put', key: KEYS.changelogOffset, value: Buffer.from(this.markerOffset.toString()) });
    if (this.marker) {
      for (const [topic, off] of Object.entries(this.marker.offsets)) ops.push({ type: 'put', key: KEYS.offset(topic), value: Buffer.from(off) });
      if (this.marker.streamTime !== null) ops.push({ type: 'put', key: KEYS.streamTime, value: Buffer.from(String(this.marker.streamTime)) });
      ops.push({ type: 'put', key: KEYS.seq, value: Buffer.from(String(this.marker.seq)) });
    }
    return ops;
  }
}

/** The task storage key of a changelog key (`<store>\0<key>`). */
function storageKey(changelogKey: string): string {
  const i = changelogKey.indexOf('\u0000');
  return KEYS.store(changelogKey.slice(0, i), changelogKey.slice(i + 1));
}

export interface ChangelogReadOptions {
  kafka: Kafka;
  topic: string;
  partition: number;
  /** First offset to apply (0 = the whole partition). */
  from: bigint;
  /** The partition's end: reading stops after offset high - 1. */
  high: bigint;
  /** A throwaway consumer group for this read. */
  groupId: string;
  consumer?: Record<string, unknown>;
  /** Called at most every 2 s with the number of records read so far. */
  onProgress?(read: number): void;
}

/** Reads one changelog partition from `from` up to `high` into a ChangelogRestorer. */
export async function readChangelog(o: ChangelogReadOptions): Promise<ChangelogRestorer> {
  const restorer = new ChangelogRestorer();
  const consumer = o.kafka.consumer({ groupId: o.groupId, ...(o.consumer ?? {}) } as never);
  let lastLog = Date.now();
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      consumer
        .subscribe({ topics: [o.topic], fromBeginning: true })
        .then(() => {
          const running = consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              if (batch.partition !== o.partition) return;
              for (const m of batch.messages) {
                if (BigInt(m.offset) < o.from) continue;
                restorer.add({ key: m.key, value: m.value, offset: BigInt(m.offset) });
                if (BigInt(m.offset) + 1n >= o.high) return resolve();
              }
              const now = Date.now();
              if (now - lastLog > 2000) {
                lastLog = now;
                o.onProgress?.(restorer.records);
              }
            },
          });
          try {
            if (o.from > 0n) consumer.seek({ topic: o.topic, partition: o.partition, offset: o.from.toString() });
          } catch {
            // not seekable yet: the offset filter above still restores the tail only
          }
          return running;
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return restorer;
}
