/** DecodedBatch and rollup record builders for archive sink tests, and their archive directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { SeriesTable, type DecodedBatch } from '../../../src/model/decoded-batch.js';
import { seriesIdentity } from '../../../src/model/series.js';
import type { Rollup } from '../../../src/model/types.js';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';

export interface TestSample {
  name: string;
  labels: Record<string, string>;
  ts: number;
  value: number;
}

export function decodedBatch(table: SeriesTable, partition: number, offset: number, samples: readonly TestSample[]): DecodedBatch {
  const n = samples.length;
  const seriesRefs = new Uint32Array(n);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  samples.forEach((s, i) => {
    seriesRefs[i] = table.intern(seriesIdentity(s.name, s.labels)).ref;
    timestamps[i] = s.ts;
    values[i] = s.value;
  });
  return {
    origin: { topic: 'metrics', partition, offset: String(offset), key: null },
    length: n,
    seriesRefs,
    timestamps,
    values,
    kinds: new Uint8Array(n),
    series: table,
    totalSamples: n,
  };
}

/** A deterministic stream of records: `hosts` hosts, one record per host per 10 s tick. */
export function fleetRecords(records: number, hosts = 4, metrics = 5, start = Date.UTC(2026, 10, 25, 9, 50)): TestSample[][] {
  const out: TestSample[][] = [];
  for (let r = 0; r < records; r++) {
    const tick = Math.floor(r / hosts);
    const host = r % hosts;
    const ts = start + tick * 10_000;
    const samples: TestSample[] = [];
    for (let m = 0; m < metrics; m++) samples.push({ name: `m${m}`, labels: { host: `h${host}` }, ts, value: tick * 1.5 + m + host / 10 });
    out.push(samples);
  }
  return out;
}

/**
 * Rollup records as the engine emits them: per closed window, one record per host holding that
 * host's `metrics` series (1m windows from `start` unless `windowMs` says otherwise).
 */
export function rollupRecords(windows: number, hosts = 3, metrics = 4, start = Date.UTC(2026, 10, 25, 10, 50), windowMs = 60_000): Rollup[][] {
  const out: Rollup[][] = [];
  for (let w = 0; w < windows; w++) {
    for (let h = 0; h < hosts; h++) {
      out.push(
        Array.from({ length: metrics }, (_, m) => ({
          name: `m${m}`,
          labels: { host: `h${h}` },
          start: start + w * windowMs,
          count: 6,
          sum: w * 6 + m + h / 10,
          min: w,
          max: w + 5,
          first: w,
          last: w + 5,
          increase: m % 2 === 0 ? null : 5 + h,
        })),
      );
    }
  }
  return out;
}

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
