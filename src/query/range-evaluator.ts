/**
 * Evaluates a query over a time range with the rules' own aggregators and evaluator: the range
 * is cut into epoch-aligned windows of `step` (the value at time t covers [t - step, t), as a
 * rule evaluated at the close of that window would see it); samples or archive rollups are folded
 * into the mergeable accumulators per (aggregation, window, group), then `evaluate()` combines them.
 * Rollups are partial accumulators, so a 1h step reads 1h rollups instead of 360 raw samples.
 */
import { accMerge, accAdd, accValue, newAcc, type Acc } from '../rules/aggregators.js';
import { evaluate, groupKeyOf, type Entry, type LeafSource } from '../rules/evaluate.js';
import { matchesAll, type Leaf } from '../dsl/compile.js';
import type { AggFn } from '../dsl/model.js';
import { canonicalLabels } from '../model/series.js';
import type { ParsedQuery } from './parse-query.js';
import { QueryError } from './query-error.js';
import { RESOLUTION_MS, type RollupColumns, type RollupResolution, type SampleSource, type SeriesRef } from './sample-source.js';

export type Resolution = 'raw' | RollupResolution;

export interface QueryLimits {
  /** Most series read from storage, and most series in the result. */
  maxSeries: number;
  /** Most points in the result (series x steps). */
  maxPoints: number;
}

export interface RangeResult {
  resolution: Resolution;
  /** Evaluation times (ms), each the end of its window. */
  times: number[];
  series: Array<{ metric: Record<string, string>; values: Array<[number, number]> }>;
  /** True when the query is a plain number (Prometheus "scalar"). */
  scalar: boolean;
}

/** Functions that rollups cannot answer exactly (no sketch, no sum of squares in a rollup). */
const RAW_ONLY: ReadonlySet<AggFn> = new Set(['stddev', 'quantile', 'p50', 'p90', 'p95', 'p99']);

/** The coarsest archive resolution whose windows tile `stepMs` exactly, unless a function needs raw. */
export function chooseResolution(stepMs: number, leaves: readonly Leaf[]): Resolution {
  if (leaves.some((l) => RAW_ONLY.has(l.fn))) return 'raw';
  if (stepMs % RESOLUTION_MS['1h'] === 0) return '1h';
  if (stepMs % RESOLUTION_MS['1m'] === 0) return '1m';
  return 'raw';
}

/** Evaluation times: multiples of step in [start, end]. */
export function evaluationTimes(start: number, end: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(start / stepMs) * stepMs; t <= end; t += stepMs) out.push(t);
  return out;
}

/** One group of one leaf: its labels and an accumulator per evaluation window (created on first use). */
interface GroupAccs {
  labels: Record<string, string>;
  accs: Array<Acc | undefined>;
}

function groupOf(leaf: Leaf, key: string, labels: Readonly<Record<string, string>>): [string, Record<string, string>] {
  if (leaf.grouping === 'series') return [key, { ...labels }];
  return groupKeyOf(labels as Record<string, string>, leaf.grouping);
}

/** Row j of rollup columns as a partial accumulator (the slow path: per-series counter functions). */
function rollupPartial(fn: AggFn, seriesKey: string, c: RollupColumns, j: number, resolutionMs: number): Acc {
  const a = newAcc(fn);
  const count = c.count[j]!;
  const start = c.start[j]!;
  a.n = count;
  a.sum = c.sum[j]!;
  a.sumsq = NaN;
  a.min = c.min[j]!;
  a.max = c.max[j]!;
  a.first = c.first[j]!;
  a.ft = start;
  a.last = c.last[j]!;
  a.lt = lastSampleTime(start, count, resolutionMs);
  if (a.series) {
    const first = c.first[j]!;
    const last = c.last[j]!;
    const inc = Number.isNaN(c.increase[j]!) ? (last >= first ? last - first : last) : c.increase[j]!;
    a.series.set(seriesKey, { ft: start, fv: first, lt: a.lt, lv: last, inc, n: count });
  }
  return a;
}

/**
 * A rollup keeps no sample times: assume samples evenly spaced from the window start (exact for a
 * regular scrape interval aligned to the window), so rates span first to last sample.
 */
function lastSampleTime(start: number, count: number, resolutionMs: number): number {
  return start + (count > 1 ? (resolutionMs * (count - 1)) / count : 0);
}

/** Merges rollup row j into `a`: accMerge(a, rollupPartial(...)) without the partial object. */
function mergeRollupRow(a: Acc, fn: AggFn, seriesKey: string, c: RollupColumns, j: number, resolutionMs: number): void {
  if (a.series || a.sk) {
    accMerge(a, rollupPartial(fn, seriesKey, c, j, resolutionMs));
    return;
  }
  const start = c.start[j]!;
  const count = c.count[j]!;
  a.n += count;
  a.sum += c.sum[j]!;
  a.sumsq = NaN;
  a.min = Math.min(a.min, c.min[j]!);
  a.max = Math.max(a.max, c.max[j]!);
  if (start < a.ft) {
    a.ft = start;
    a.first = c.first[j]!;
  }
  const lt = lastSampleTime(start, count, resolutionMs);
  if (lt >= a.lt) {
    a.lt = lt;
    a.last = c.last[j]!;
  }
}

/** Reads one leaf's data and folds it into per-group, per-window accumulators. */
async function accumulateLeaf(
  leaf: Leaf,
  source: SampleSource,
  resolution: Resolution,
  times: number[],
  stepMs: number,
  seriesSeen: Set<string>,
  limits: QueryLimits,
): Promise<Map<string, GroupAccs>> {
  const groups = new Map<string, GroupAccs>();
  const from = times[0]! - stepMs;
  const to = times[times.length - 1]!;
  const windows = times.length;
  const groupFor = (key: string, labels: Readonly<Record<string, string>>): GroupAccs => {
    const [gk, gl] = groupOf(leaf, key, labels);
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { labels: gl, accs: new Array<Acc | undefined>(windows) }));
    return g;
  };
  // A series may come in several runs: its matchers and group are decided once.
  const bySeries = new Map<string, GroupAccs | null>();
  const groupOfSeries = (series: SeriesRef): GroupAccs | null => {
    let g = bySeries.get(series.key);
    if (g !== undefined) return g;
    g = matchesAll(leaf.sel.matchers, series.labels) ? groupFor(series.key, series.labels) : null;
    bySeries.set(series.key, g);
    if (g) {
      seriesSeen.add(series.key);
      if (seriesSeen.size > limits.maxSeries) {
        throw new QueryError('QUERY_TOO_LARGE', `query reads more than ${limits.maxSeries} series; narrow the selectors`, 422);
      }
    }
    return g;
  };
  if (resolution === 'raw') {
    // Per-series functions (rate, increase, ...) fold a series' samples in time order; runs may come
    // in any order, so theirs are gathered per series first. Other functions fold in any order.
    const ordered = newAcc(leaf.fn).series !== undefined;
    const gathered = new Map<string, { accs: Array<Acc | undefined>; times: number[]; values: number[] }>();
    await source.raw(leaf.sel.metric, from, to, (series, c, begin, end) => {
      const g = groupOfSeries(series);
      if (!g) return;
      if (ordered) {
        let run = gathered.get(series.key);
        if (!run) gathered.set(series.key, (run = { accs: g.accs, times: [], values: [] }));
        for (let j = begin; j < end; j++) {
          run.times.push(c.times[j]!);
          run.values.push(c.values[j]!);
        }
        return;
      }
      const accs = g.accs;
      for (let j = begin; j < end; j++) {
        const t = c.times[j]!;
        const i = Math.floor((t - from) / stepMs);
        if (i >= 0 && i < windows) accAdd((accs[i] ??= newAcc(leaf.fn)), leaf.fn, series.key, t, c.values[j]!);
      }
    });
    for (const [key, run] of gathered) {
      const order = run.times.map((_, j) => j);
      if (run.times.some((t, j) => j > 0 && t < run.times[j - 1]!)) order.sort((a, b) => run.times[a]! - run.times[b]!);
      for (const j of order) {
        const t = run.times[j]!;
        const i = Math.floor((t - from) / stepMs);
        if (i >= 0 && i < windows) accAdd((run.accs[i] ??= newAcc(leaf.fn)), leaf.fn, key, t, run.values[j]!);
      }
    }
  } else {
    const resMs = RESOLUTION_MS[resolution];
    await source.rollups(resolution, leaf.sel.metric, from, to, (series, c, begin, end) => {
      const g = groupOfSeries(series);
      if (!g) return;
      const accs = g.accs;
      for (let j = begin; j < end; j++) {
        const i = Math.floor((c.start[j]! - from) / stepMs);
        if (i >= 0 && i < windows) mergeRollupRow((accs[i] ??= newAcc(leaf.fn)), leaf.fn, series.key, c, j, resMs);
      }
    });
  }
  return groups;
}

/** Runs `query` over [start, end] at `stepMs`; throws QueryError(422) past the limits. */
export async function evaluateRange(
  query: ParsedQuery,
  range: { start: number; end: number; stepMs: number },
  source: SampleSource,
  limits: QueryLimits,
): Promise<RangeResult> {
  const { stepMs } = range;
  const times = evaluationTimes(range.start, range.end, stepMs);
  const resolution = chooseResolution(stepMs, query.leaves);
  if (times.length === 0) return { resolution, times, series: [], scalar: false };
  if (times.length > limits.maxPoints) {
    throw new QueryError('QUERY_TOO_LARGE', `query needs ${times.length} steps, more than ${limits.maxPoints} points; use a larger step`, 422);
  }
  const seriesSeen = new Set<string>();
  const perLeaf = new Map<number, Map<string, GroupAccs>>();
  for (const leaf of query.leaves) perLeaf.set(leaf.id, await accumulateLeaf(leaf, source, resolution, times, stepMs, seriesSeen, limits));

  const out = new Map<string, { metric: Record<string, string>; values: Array<[number, number]> }>();
  let points = 0;
  let scalar = false;
  times.forEach((t, i) => {
    const src: LeafSource = {
      agg(id) {
        const m = new Map<string, Entry>();
        const leaf = query.leaves.find((l) => l.id === id)!;
        for (const [key, g] of perLeaf.get(id)!) {
          const acc = g.accs[i];
          if (acc === undefined) continue;
          const value = accValue(acc, leaf.fn, leaf.q, stepMs);
          if (value !== null) m.set(key, { labels: g.labels, value });
        }
        return m;
      },
      absent: () => new Map(),
      onDivByZero: () => undefined,
    };
    const result = evaluate(query.expr, src, new Map());
    const entries: Array<[string, Record<string, string>, number]> = [];
    if (result.k === 's') {
      scalar = true;
      if (!Number.isNaN(result.v)) entries.push(['', {}, result.v]);
    } else {
      for (const [key, e] of result.m) {
        if (e.value === null || e.truth === false) continue;
        entries.push([key, e.labels, e.value]);
      }
    }
    for (const [key, labels, value] of entries) {
      let s = out.get(key);
      if (!s) {
        if (out.size >= limits.maxSeries) throw new QueryError('QUERY_TOO_LARGE', `result has more than ${limits.maxSeries} series`, 422);
        out.set(key, (s = { metric: labels, values: [] }));
      }
      s.values.push([t, value]);
      if (++points > limits.maxPoints) {
        throw new QueryError('QUERY_TOO_LARGE', `result has more than ${limits.maxPoints} points; use a larger step or a shorter range`, 422);
      }
    }
  });
  const series = [...out.values()].sort((a, b) => canonicalLabels(a.metric).localeCompare(canonicalLabels(b.metric)));
  return { resolution, times, series, scalar };
}
