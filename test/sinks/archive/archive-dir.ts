/** An archive directory per test and one ParquetWriter per file, for the archive sink tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';

/** What `useArchiveDir` gives a test: one writer for the file, a fresh local archive per test. */
export interface ArchiveDir {
  readonly writer: ParquetWriter;
  readonly dir: string;
  readonly store: LocalStore;
}

/** Registers hooks: a ParquetWriter for the file (small row groups) and an empty archive directory per test. */
export function useArchiveDir(prefix: string, rowGroupSize = 4096): ArchiveDir {
  const state: { writer?: ParquetWriter; dir?: string; store?: LocalStore } = {};
  beforeAll(async () => {
    state.writer = await ParquetWriter.open({ rowGroupSize });
  });
  afterAll(() => state.writer?.close());
  beforeEach(async () => {
    state.dir = await mkdtemp(join(tmpdir(), prefix));
    state.store = new LocalStore(state.dir);
  });
  afterEach(async () => {
    if (state.dir) await rm(state.dir, { recursive: true, force: true });
  });
  return {
    get writer() {
      return state.writer!;
    },
    get dir() {
      return state.dir!;
    },
    get store() {
      return state.store!;
    },
  };
}
