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
import { RESOLUTION_MS, type RollupPoint, type RollupResolution, type SampleSource } from './sample-source.js';

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

interface GroupAcc {
  labels: Record<string, string>;
  acc: Acc;
}

function groupOf(leaf: Leaf, key: string, labels: Readonly<Record<string, string>>): [string, Record<string, string>] {
  if (leaf.grouping === 'series') return [key, { ...labels }];
  return groupKeyOf(labels as Record<string, string>, leaf.grouping);
}

function rollupPartial(fn: AggFn, seriesKey: string, p: RollupPoint, resolutionMs: number): Acc {
  const a = newAcc(fn);
  a.n = p.count;
  a.sum = p.sum;
  a.sumsq = NaN;
  a.min = p.min;
  a.max = p.max;
  a.first = p.first;
  a.ft = p.start;
  a.last = p.last;
  // A rollup keeps no sample times: assume samples evenly spaced from the window start (exact
  // for a regular scrape interval aligned to the window), so rates span first to last sample.
  a.lt = p.start + (p.count > 1 ? (resolutionMs * (p.count - 1)) / p.count : 0);
  if (a.series) {
    const inc = p.increase ?? (p.last >= p.first ? p.last - p.first : p.last);
    a.series[seriesKey] = { ft: p.start, fv: p.first, lt: a.lt, lv: p.last, inc, n: p.count };
  }
  return a;
}

/** Reads one leaf's data and folds it into per-window group accumulators. */
async function accumulateLeaf(
  leaf: Leaf,
  source: SampleSource,
  resolution: Resolution,
  times: number[],
  stepMs: number,
  seriesSeen: Set<string>,
  limits: QueryLimits,
): Promise<Map<string, GroupAcc>[]> {
  const windows = times.map(() => new Map<string, GroupAcc>());
  const from = times[0]! - stepMs;
  const to = times[times.length - 1]!;
  const slot = (ts: number) => Math.floor((ts - from) / stepMs);
  const accFor = (i: number, key: string, labels: Record<string, string>): Acc => {
    let g = windows[i]!.get(key);
    if (!g) windows[i]!.set(key, (g = { labels, acc: newAcc(leaf.fn) }));
    return g.acc;
  };
  const admit = (key: string) => {
    seriesSeen.add(key);
    if (seriesSeen.size > limits.maxSeries) {
      throw new QueryError('QUERY_TOO_LARGE', `query reads more than ${limits.maxSeries} series; narrow the selectors`, 422);
    }
  };
  if (resolution === 'raw') {
    for (const s of await source.raw(leaf.sel.metric, from, to)) {
      if (!matchesAll(leaf.sel.matchers, s.labels)) continue;
      admit(s.key);
      const [gk, gl] = groupOf(leaf, s.key, s.labels);
      for (let j = 0; j < s.times.length; j++) {
        const i = slot(s.times[j]!);
        if (i >= 0 && i < times.length) accAdd(accFor(i, gk, gl), leaf.fn, s.key, s.times[j]!, s.values[j]!);
      }
    }
  } else {
    const resMs = RESOLUTION_MS[resolution];
    for (const s of await source.rollups(resolution, leaf.sel.metric, from, to)) {
      if (!matchesAll(leaf.sel.matchers, s.labels)) continue;
      admit(s.key);
      const [gk, gl] = groupOf(leaf, s.key, s.labels);
      for (const p of s.points) {
        const i = slot(p.start);
        if (i >= 0 && i < times.length) accMerge(accFor(i, gk, gl), rollupPartial(leaf.fn, s.key, p, resMs));
      }
    }
  }
  return windows;
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
  const perLeaf = new Map<number, Map<string, GroupAcc>[]>();
  for (const leaf of query.leaves) perLeaf.set(leaf.id, await accumulateLeaf(leaf, source, resolution, times, stepMs, seriesSeen, limits));

  const out = new Map<string, { metric: Record<string, string>; values: Array<[number, number]> }>();
  let points = 0;
  let scalar = false;
  times.forEach((t, i) => {
    const src: LeafSource = {
      agg(id) {
        const m = new Map<string, Entry>();
        const leaf = query.leaves.find((l) => l.id === id)!;
        for (const [key, g] of perLeaf.get(id)![i]!) {
          const value = accValue(g.acc, leaf.fn, leaf.q, stepMs);
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
