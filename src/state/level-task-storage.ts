/**
 * TaskStorage over classic-level: one LevelDB per task in `<stateDir>/<taskId>`. The only module
 * (with its siblings level*) that imports classic-level.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { StorageOp, TaskStorage, TaskStorageFactory } from './task-storage.js';

export class LevelTaskStorage implements TaskStorage {
  private constructor(
    private readonly db: ClassicLevel<string, Buffer>,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<LevelTaskStorage> {
    await mkdir(path, { recursive: true });
    const db = new ClassicLevel<string, Buffer>(path, {
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
      // Commits are large batches of float columns: a big write buffer avoids a memtable flush per
      // commit, and snappy gains little on doubles.
      writeBufferSize: 64 * 1024 * 1024,
      compression: false,
    });
    await db.open();
    return new LevelTaskStorage(db, path);
  }

  async *entries(): AsyncIterable<[string, Buffer]> {
    for await (const [k, v] of this.db.iterator()) yield [k, v];
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.db.get(key);
  }

  async write(ops: StorageOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.db.batch(ops as any);
  }

  async approximateBytes(): Promise<number> {
    try {
      return await this.db.approximateSize('', '\uffff');
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
  }
}

/** Task storages under `stateDir` (VIGIL_STATE_DIR), one directory per task id. */
export function levelStorageFactory(stateDir: string): TaskStorageFactory {
  return (taskId: string) => LevelTaskStorage.open(join(stateDir, taskId));
}

/** Deletes a task's local state (e.g. after it was restored elsewhere). */
export async function destroyLevelTaskStorage(stateDir: string, taskId: string): Promise<void> {
  await rm(join(stateDir, taskId), { recursive: true, force: true });
}
