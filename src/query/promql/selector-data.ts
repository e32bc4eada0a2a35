/**
 * Loads what a query's selectors need before evaluation (Prometheus' populateSeries): for each
 * vector selector the time range its evaluation reads (lookback, ranges, offsets, @ and the
 * subqueries around it: getTimeRangesForSelector), then the matching series' raw samples from the
 * SampleSource, stale markers included. Counts series and samples against the query's limits.
 */
import type { SampleSource } from '../sample-source.js';
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { matchesAll, type Labels } from './label-matcher.js';
import { makeLabels } from './value.js';

/** The raw samples of one series, in time order (stale markers included). */
export interface StoredSeries {
  metric: Labels;
  ts: Float64Array;
  vs: Float64Array;
}

export interface LoadLimits {
  /** Most series read for one query. */
  maxSeries: number;
  /** Most samples read for one query. */
  maxSamples: number;
}

export interface QueryTimes {
  start: number;
  end: number;
  lookbackMs: number;
}

/** The series of each vector selector of a query (by node). */
export type SelectorData = Map<A.VectorSelector, StoredSeries[]>;

interface Subq {
  offsetMs: number;
  rangeMs: number;
  at?: number;
}

/** Resolves `@ start()` / `@ end()` to the query's times. */
export function atMs(m: A.TimeModifiers, q: { start: number; end: number }): number | undefined {
  if (!m.at) return undefined;
  if ('ms' in m.at) return m.at.ms;
  return m.at.edge === 'start' ? q.start : q.end;
}

/** [mint, maxt] (inclusive, ms) that `sel` reads, given the subqueries around it and its range. */
export function selectorRange(q: QueryTimes, sel: A.VectorSelector, path: readonly Subq[], rangeMs: number): [number, number] {
  let start = q.start;
  let end = q.end;
  let subOffset = 0;
  let subRange = 0;
  let subAt: number | undefined;
  for (const s of path) {
    subOffset += s.offsetMs;
    subRange += s.rangeMs;
    if (s.at !== undefined) {
      // An @ on a subquery resets what the subqueries outside it added.
      subOffset = s.offsetMs;
      subRange = s.rangeMs;
      subAt = s.at;
    }
  }
  if (subAt !== undefined) start = end = subAt;
  const at = atMs(sel, q);
  if (at !== undefined) start = end = at;
  else {
    start -= subOffset + subRange;
    end -= subOffset;
  }
  start -= rangeMs === 0 ? q.lookbackMs : rangeMs;
  return [start - sel.offsetMs, end - sel.offsetMs];
}

/** Every vector selector of `e` with the range it reads. */
export function selectorRanges(e: A.Expr, q: QueryTimes): Array<{ sel: A.VectorSelector; range: [number, number] }> {
  const out: Array<{ sel: A.VectorSelector; range: [number, number] }> = [];
  const walk = (n: A.Expr, path: Subq[], rangeMs: number) => {
    switch (n.kind) {
      case 'vector':
        out.push({ sel: n, range: selectorRange(q, n, path, rangeMs) });
        return;
      case 'matrix':
        return walk(n.selector, path, n.rangeMs);
      case 'subquery':
        return walk(n.expr, [...path, { offsetMs: n.offsetMs, rangeMs: n.rangeMs, at: atMs(n, q) }], 0);
      case 'aggregate':
        if (n.param) walk(n.param, path, 0);
        return walk(n.expr, path, 0);
      case 'binary':
        walk(n.lhs, path, 0);
        return walk(n.rhs, path, 0);
      case 'call':
        for (const a of n.args) walk(a, path, 0);
        return;
      case 'unary':
      case 'paren':
      case 'step-invariant':
        return walk(n.expr, path, 0);
      default:
        return;
    }
  };
  walk(e, [], 0);
  return out;
}

/** Loads the series of every selector of `e` from `source`; throws QueryError(422) past the limits. */
export async function loadSelectors(e: A.Expr, q: QueryTimes, source: SampleSource, limits: LoadLimits, checkpoint: () => Promise<void>): Promise<SelectorData> {
  const data: SelectorData = new Map();
  const seriesSeen = new Set<string>();
  let samples = 0;
  for (const { sel, range } of selectorRanges(e, q)) {
    const [mint, maxt] = range;
    const names = sel.name !== undefined ? [sel.name] : await metricNames(source, sel, mint, maxt);
    const bySeries = new Map<string, { metric: Labels; ts: number[]; vs: number[]; sorted: boolean }>();
    for (const name of names) {
      await source.raw(name, mint, maxt + 1, (series, c, from, to) => {
        let s = bySeries.get(series.key);
        if (!s) {
          const metric = makeLabels([['__name__', series.name], ...Object.entries(series.labels)]);
          if (!matchesAll(sel.matchers, metric)) return;
          bySeries.set(series.key, (s = { metric, ts: [], vs: [], sorted: true }));
          seriesSeen.add(series.key);
          if (seriesSeen.size > limits.maxSeries) {
            throw new QueryError('QUERY_TOO_LARGE', `query reads more than ${limits.maxSeries} series (query.maxSeries); narrow the selectors`, 422);
          }
        }
        samples += to - from;
        if (samples > limits.maxSamples) {
          throw new QueryError('QUERY_TOO_LARGE', `query loads more than ${limits.maxSamples} samples (query.maxSamples); use a shorter range or narrow the selectors`, 422);
        }
        if (s.ts.length > 0 && c.times[from]! < s.ts[s.ts.length - 1]!) s.sorted = false;
        for (let j = from; j < to; j++) {
          s.ts.push(c.times[j]!);
          s.vs.push(c.values[j]!);
        }
      });
      await checkpoint();
    }
    data.set(sel, [...bySeries.values()].map(toStored));
  }
  return data;
}

/** Names of the metrics with series matching `sel` in [mint, maxt] (a selector without a name). */
async function metricNames(source: SampleSource, sel: A.VectorSelector, mint: number, maxt: number): Promise<string[]> {
  const names = new Set<string>();
  for (const s of await source.series(mint, maxt + 1)) {
    if (names.has(s.name)) continue;
    if (matchesAll(sel.matchers, makeLabels([['__name__', s.name], ...Object.entries(s.labels)]))) names.add(s.name);
  }
  return [...names];
}

/** Time-ordered typed arrays, one sample per timestamp (the last one given wins). */
function toStored(s: { metric: Labels; ts: number[]; vs: number[]; sorted: boolean }): StoredSeries {
  let order = s.ts.map((_, i) => i);
  if (!s.sorted) order = order.sort((a, b) => s.ts[a]! - s.ts[b]! || a - b);
  const ts: number[] = [];
  const vs: number[] = [];
  for (const i of order) {
    if (ts.length > 0 && ts[ts.length - 1] === s.ts[i]) vs[vs.length - 1] = s.vs[i]!;
    else {
      ts.push(s.ts[i]!);
      vs.push(s.vs[i]!);
    }
  }
  return { metric: s.metric, ts: Float64Array.from(ts), vs: Float64Array.from(vs) };
}
