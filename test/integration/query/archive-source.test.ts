import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveSource } from '../../../src/query/archive-source.js';
import { parseQuery } from '../../../src/query/parse-query.js';
import { DEFAULT_LIMITS } from '../../../src/query/query-routes.js';
import { evaluateRange } from '../../../src/query/range-evaluator.js';
import type { RawColumns, RollupResolution, SampleSource, SeriesRef } from '../../../src/query/sample-source.js';
import { ArchiveQuery } from '../../../src/sinks/archive/archive-query.js';
import { partKey } from '../../../src/sinks/archive/layout.js';
import { openObjectStore } from '../../../src/sinks/archive/storage/open-store.js';
import { writeArchiveFixture } from '../../support/archive-fixture.js';

// The columnar reads: runs of rows per series straight from DuckDB's vectors, labels taken from
// the 1h rollups and looked up afterwards for series an hour without 1h rollups holds.
const T0 = Date.UTC(2026, 10, 20, 10);
const LABELS = [0, 1, 2, 3].map((i) => ({ pool: i < 2 ? 'a' : 'b', host: `h${i}` }));
const jobs = (s: number, t: number) => ((((t - T0) / 10_000) % 5) + 1) * (s + 1);
let root: string;
let archive: ArchiveQuery;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigil-archive-source-'));
  await writeArchiveFixture({
    root,
    t0: T0,
    hours: 2,
    labels: LABELS,
    metrics: [
      { name: 'cpu.load', value: (s, t) => s + ((t - T0) % 600_000) / 600_000 },
      { name: 'http.requests', value: (s, t) => ((t - T0) / 10_000) * (s + 1), counter: true },
      // Resets to s + 1 every 50 s.
      { name: 'jobs.done', value: jobs, counter: true },
    ],
  });
  archive = await ArchiveQuery.open(openObjectStore({ root }));
}, 60_000);

afterAll(() => {
  archive?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Row { key: string; labels: Record<string, string>; start: number; count: number; sum: number; min: number; max: number; first: number; last: number; increase: number }

async function read(source: ArchiveSource, resolution: RollupResolution, metric: string, start: number, end: number): Promise<Row[]> {
  const rows: Row[] = [];
  await source.rollups(resolution, metric, start, end, (series, c, from, to) => {
    for (let j = from; j < to; j++) {
      rows.push({ key: series.key, labels: { ...series.labels }, start: c.start[j]!, count: c.count[j]!, sum: c.sum[j]!, min: c.min[j]!, max: c.max[j]!, first: c.first[j]!, last: c.last[j]!, increase: c.increase[j]! });
    }
  });
  return rows.sort((x, y) => x.key.localeCompare(y.key) || x.start - y.start);
}

async function duck(view: string, metric: string, start: number, end: number): Promise<Row[]> {
  const res = await archive.run(
    `SELECT series_id::VARCHAR AS key, labels, epoch_ms("start") AS start, "count", "sum", "min", "max", "first", "last", "increase"
     FROM ${view} WHERE name = '${metric}' AND epoch_ms("start") >= ${start} AND epoch_ms("start") < ${end}`,
  );
  return res.rows
    .map((r) => ({
      key: String(r.key),
      labels: Object.fromEntries((r.labels as Array<{ key: string; value: string }>).map((e) => [e.key, e.value])),
      start: Number(r.start),
      count: Number(r.count),
      sum: Number(r.sum),
      min: Number(r.min),
      max: Number(r.max),
      first: Number(r.first),
      last: Number(r.last),
      increase: r.increase === null ? NaN : Number(r.increase),
    }))
    .sort((x, y) => x.key.localeCompare(y.key) || x.start - y.start);
}

describe('ArchiveSource.rollups', () => {
  it('streams every 1m and 1h row of the range with its series labels, increase NaN where there is none', async () => {
    const source = new ArchiveSource(archive);
    for (const [resolution, view] of [['1m', 'rollup_1m'], ['1h', 'rollup_1h']] as const) {
      for (const metric of ['cpu.load', 'http.requests']) {
        const [start, end] = [T0 + 30 * 60_000, T0 + 2 * 3_600_000];
        const ours = await read(source, resolution, metric, start, end);
        expect(ours.length, `${resolution} ${metric}`).toBe(resolution === '1m' ? 4 * 90 : 4);
        expect(ours).toEqual(await duck(view, metric, start, end));
      }
    }
    const gauges = await read(source, '1m', 'cpu.load', T0, T0 + 60_000);
    expect(gauges.every((r) => Number.isNaN(r.increase))).toBe(true);
  });

  it('finds the labels of series whose hour has no 1h rollups yet', async () => {
    const before = await read(new ArchiveSource(archive), '1m', 'cpu.load', T0, T0 + 2 * 3_600_000);
    // The second hour's 1h part is gone (not written yet): its series must still come with labels.
    rmSync(join(root, partKey({ resolution: '1h', hourStart: T0 + 3_600_000, partition: 0, firstOffset: 0, lastOffset: 0 })));
    const fresh = await ArchiveQuery.open(openObjectStore({ root }));
    try {
      const secondHour = await read(new ArchiveSource(fresh), '1m', 'cpu.load', T0 + 3_600_000, T0 + 2 * 3_600_000);
      expect(secondHour).toEqual(before.filter((r) => r.start >= T0 + 3_600_000));
      expect(new Set(secondHour.map((r) => r.labels.host))).toEqual(new Set(['h0', 'h1', 'h2', 'h3']));
    } finally {
      fresh.close();
    }
  });
});

describe('ArchiveSource.raw', () => {
  it('streams every raw sample of the range with its series labels, in time order per run', async () => {
    const [start, end] = [T0 + 50 * 60_000, T0 + 70 * 60_000];
    const ours: Array<[string, string, number, number]> = [];
    await new ArchiveSource(archive).raw('http.requests', start, end, (series, c, from, to) => {
      for (let j = from; j < to; j++) {
        if (j > from) expect(c.times[j]!).toBeGreaterThan(c.times[j - 1]!);
        ours.push([series.key, series.labels.host!, c.times[j]!, c.values[j]!]);
      }
    });
    const duck = await archive.run(
      `SELECT series_id::VARCHAR AS key, labels['host'] AS host, epoch_ms("timestamp") AS t, value FROM raw
       WHERE name = 'http.requests' AND epoch_ms("timestamp") >= ${start} AND epoch_ms("timestamp") < ${end}`,
    );
    const sort = (rows: Array<[string, string, number, number]>) => rows.sort((x, y) => x[0].localeCompare(y[0]) || x[2] - y[2]);
    expect(ours).toHaveLength(4 * 20 * 6);
    expect(sort(ours)).toEqual(sort(duck.rows.map((r) => [String(r.key), String(r.host), Number(r.t), Number(r.value)])));
  });

  it('gives counter functions each series in time order even when its runs come out of order', async () => {
    // The archive's runs, handed over latest first.
    const archiveSource = new ArchiveSource(archive);
    const runs: Array<[SeriesRef, RawColumns]> = [];
    await archiveSource.raw('jobs.done', T0, T0 + 2 * 3_600_000, (series, c, from, to) => {
      for (let cut = from; cut < to; cut += 100) {
        const stop = Math.min(to, cut + 100);
        runs.push([series, { times: c.times.slice(cut, stop), values: c.values.slice(cut, stop) }]);
      }
    });
    const reversed: SampleSource = {
      raw: async (_metric, start, end, visit) => {
        for (const [series, c] of [...runs].reverse()) {
          const keep = [...c.times.keys()].filter((j) => c.times[j]! >= start && c.times[j]! < end);
          if (keep.length) visit(series, { times: Float64Array.from(keep, (j) => c.times[j]!), values: Float64Array.from(keep, (j) => c.values[j]!) }, 0, keep.length);
        }
      },
      rollups: () => Promise.reject(new Error('not used')),
      series: () => Promise.resolve([]),
    };
    const query = parseQuery('sum(increase(jobs.done)) by (pool)');
    const range = { start: T0 + 30_000, end: T0 + 2 * 3_600_000, stepMs: 30_000 };
    // The rules' increase, by hand: resets count as a restart from 0, extrapolated from the 20 s the
    // window's 3 samples span to its 30 s.
    const expected = (pool: string, t: number) => {
      let total = 0;
      LABELS.forEach((l, s) => {
        if (l.pool !== pool) return;
        const v = [30_000, 20_000, 10_000].map((back) => jobs(s, t - back));
        let inc = 0;
        for (let j = 1; j < v.length; j++) inc += v[j]! >= v[j - 1]! ? v[j]! - v[j - 1]! : v[j]!;
        total += (inc / 20) * 30;
      });
      return total;
    };
    for (const source of [archiveSource, reversed]) {
      const result = await evaluateRange(query, range, source, DEFAULT_LIMITS);
      expect(result.resolution).toBe('raw');
      expect(result.series.map((s) => s.metric.pool)).toEqual(['a', 'b']);
      for (const s of result.series) {
        expect(s.values).toHaveLength(240);
        for (const [t, v] of s.values) expect(v, `${s.metric.pool} at ${t}`).toBeCloseTo(expected(s.metric.pool!, t), 9);
      }
    }
  });
});
