/**
 * Writes a small archive of known data in the archive's hive layout (raw, 1m and 1h parts per hour,
 * as the archive sink would), for tests that query it: every series sampled every `intervalMs`
 * from `t0` for `hours` hours, values from `value(seriesIndex, t)`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { seriesId } from '../../src/model/series.js';
import type { ArchiveSeries } from '../../src/sinks/archive/archive-rows.js';
import { HOUR_MS, partKey, type Resolution } from '../../src/sinks/archive/layout.js';
import { ParquetWriter } from '../../src/sinks/archive/parquet-writer.js';

export interface FixtureMetric {
  name: string;
  /** Value of series `s` (index into `labels`) at time `t`. */
  value: (s: number, t: number) => number;
  counter?: boolean;
}

export interface ArchiveFixture {
  /** Archive root directory. */
  root: string;
  /** UTC ms of the first sample; a multiple of one hour. */
  t0: number;
  hours: number;
  /** One label set per series of each metric. */
  labels: ReadonlyArray<Readonly<Record<string, string>>>;
  metrics: readonly FixtureMetric[];
  /** Default 10 s. */
  intervalMs?: number;
}

/** Writes the fixture under `root`; returns the number of raw samples written. */
export async function writeArchiveFixture(f: ArchiveFixture): Promise<number> {
  if (f.t0 % HOUR_MS !== 0) throw new Error('writeArchiveFixture: t0 must start an hour');
  const interval = f.intervalMs ?? 10_000;
  const series: ArchiveSeries[] = [];
  const of: Array<{ metric: FixtureMetric; index: number }> = [];
  for (const metric of f.metrics) {
    f.labels.forEach((labels, index) => {
      series.push({ id: seriesId(metric.name, labels), name: metric.name, labels });
      of.push({ metric, index });
    });
  }
  const writer = await ParquetWriter.open();
  const place = (resolution: Resolution, hourStart: number) => {
    const path = join(f.root, partKey({ resolution, hourStart, partition: 0, firstOffset: 0, lastOffset: 0 }));
    mkdirSync(dirname(path), { recursive: true });
    return path;
  };
  let written = 0;
  try {
    for (let h = 0; h < f.hours; h++) {
      const hourStart = f.t0 + h * HOUR_MS;
      const s: number[] = [];
      const t: number[] = [];
      const v: number[] = [];
      series.forEach((_, i) => {
        for (let ts = hourStart; ts < hourStart + HOUR_MS; ts += interval) {
          s.push(i);
          t.push(ts);
          v.push(of[i]!.metric.value(of[i]!.index, ts));
        }
      });
      await writer.writeRaw({ series, length: s.length, seriesIndex: Uint32Array.from(s), timestamps: Float64Array.from(t), values: Float64Array.from(v) }, place('raw', hourStart));
      written += s.length;
      for (const [resolution, size] of [['1m', 60_000], ['1h', HOUR_MS]] as const) {
        const windows = new Map<string, { s: number; start: number; vs: number[] }>();
        for (let j = 0; j < s.length; j++) {
          const start = Math.floor(t[j]! / size) * size;
          const k = `${s[j]}|${start}`;
          let w = windows.get(k);
          if (!w) windows.set(k, (w = { s: s[j]!, start, vs: [] }));
          w.vs.push(v[j]!);
        }
        const w = [...windows.values()];
        const counter = (i: number) => of[i]!.metric.counter === true;
        await writer.writeRollups(
          {
            series,
            length: w.length,
            seriesIndex: Uint32Array.from(w.map((x) => x.s)),
            starts: Float64Array.from(w.map((x) => x.start)),
            counts: Float64Array.from(w.map((x) => x.vs.length)),
            sums: Float64Array.from(w.map((x) => x.vs.reduce((a, b) => a + b, 0))),
            mins: Float64Array.from(w.map((x) => Math.min(...x.vs))),
            maxs: Float64Array.from(w.map((x) => Math.max(...x.vs))),
            firsts: Float64Array.from(w.map((x) => x.vs[0]!)),
            lasts: Float64Array.from(w.map((x) => x.vs.at(-1)!)),
            increases: Float64Array.from(w.map((x) => (counter(x.s) ? x.vs.at(-1)! - x.vs[0]! : 0))),
            hasIncrease: Uint8Array.from(w.map((x) => (counter(x.s) ? 1 : 0))),
          },
          place(resolution, hourStart),
        );
      }
    }
  } finally {
    writer.close();
  }
  return written;
}
