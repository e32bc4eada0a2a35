/**
 * Durable storage of one task: all of its stores, its input offsets and its outbox, written in ONE
 * atomic batch per commit (the heart of the effectively-once protocol). Implemented over LevelDB
 * (level-task-storage.ts, one database per task under VIGIL_STATE_DIR) and in memory (tests).
 */

/** One write of a commit batch. */
export type StorageOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

export interface TaskStorage {
  /** Every stored entry, in key order. */
  entries(): AsyncIterable<[string, Buffer]>;
  /** Reads one entry. */
  get(key: string): Promise<Buffer | undefined>;
  /** Writes all ops atomically (all or nothing, also across a crash). */
  write(ops: StorageOp[]): Promise<void>;
  /** Approximate bytes on disk (for /metrics); 0 when unknown. */
  approximateBytes(): Promise<number>;
  close(): Promise<void>;
}

/** Opens (creating when missing) the storage of a task. */
export type TaskStorageFactory = (taskId: string) => Promise<TaskStorage>;

/** Storage in memory: the same contract, gone with the process. Shared maps survive close/reopen. */
export class MemoryTaskStorage implements TaskStorage {
  constructor(private readonly data: Map<string, Buffer> = new Map()) {}

  async *entries(): AsyncIterable<[string, Buffer]> {
    const keys = [...this.data.keys()].sort();
    for (const k of keys) yield [k, this.data.get(k)!];
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.data.get(key);
  }

  async write(ops: StorageOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.data.set(op.key, op.value);
      else this.data.delete(op.key);
    }
  }

  async approximateBytes(): Promise<number> {
    let n = 0;
    for (const [k, v] of this.data) n += k.length + v.length;
    return n;
  }

  async close(): Promise<void> {}
}

/** A factory whose storages live in memory, one map per task id, reused when a task is reopened. */
export function memoryStorageFactory(): TaskStorageFactory & { maps: Map<string, Map<string, Buffer>> } {
  const maps = new Map<string, Map<string, Buffer>>();
  const factory = async (taskId: string) => {
    let m = maps.get(taskId);
    if (!m) maps.set(taskId, (m = new Map()));
    return new MemoryTaskStorage(m);
  };
  return Object.assign(factory, { maps });
}
