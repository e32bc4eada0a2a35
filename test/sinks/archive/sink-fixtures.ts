/**
 * DecodedBatch and rollup record builders for archive sink tests (also used by the crash test's child
 * process: no vitest import here).
 */
import { SeriesTable, type DecodedBatch } from '../../../src/model/decoded-batch.js';
import { seriesIdentity } from '../../../src/model/series.js';
import type { Rollup } from '../../../src/model/types.js';

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
