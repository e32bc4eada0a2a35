/**
 * Mergeable per-group accumulators of the rules engine, as plain JSON objects (so stores can persist
 * them). One `Acc` per (rule aggregation, window, group); which fields matter depends on the function.
 *
 * - count/sum/min/max/avg/first/last/stddev: running totals (stddev via the sum of squares, population).
 * - quantile/pNN: a DDSketch (sketch.ts, 1% relative error).
 * - rate/increase/delta and count_series: per-series state inside the window, summed over the group.
 */
import type { AggFn } from '../dsl/model.js';
import { sortedQuantile } from '../model/quantile.js';
import { newSketch, sketchAdd, sketchMerge, sketchQuantile, type SketchState } from './sketch.js';

/** Per-series state of counter functions inside one window. */
export interface SeriesAcc {
  ft: number;
  fv: number;
  lt: number;
  lv: number;
  /** Increase between consecutive samples, counter resets counted as a restart from 0. */
  inc: number;
  n: number;
}

export interface Acc {
  n: number;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  first: number;
  ft: number;
  last: number;
  lt: number;
  sk?: SketchState;
  /** Per-series state (a Map: many dynamic keys; persisted as an object, see `accToJSON`). */
  series?: Map<string, SeriesAcc>;
}

const PER_SERIES: ReadonlySet<AggFn> = new Set(['rate', 'increase', 'delta', 'count_series']);
const SKETCH: ReadonlySet<AggFn> = new Set(['quantile', 'p50', 'p90', 'p95', 'p99']);

export function newAcc(fn: AggFn): Acc {
  const a: Acc = { n: 0, sum: 0, sumsq: 0, min: Infinity, max: -Infinity, first: NaN, ft: Infinity, last: NaN, lt: -Infinity };
  if (SKETCH.has(fn)) a.sk = newSketch();
  if (PER_SERIES.has(fn)) a.series = new Map();
  return a;
}

/** Adds one sample of series `seriesKey` at time `t`. */
export function accAdd(a: Acc, fn: AggFn, seriesKey: string, t: number, v: number): void {
  a.n++;
  if (a.series) {
    const s = a.series.get(seriesKey);
    if (!s) a.series.set(seriesKey, { ft: t, fv: v, lt: t, lv: v, inc: 0, n: 1 });
    else if (t > s.lt) {
      s.inc += v >= s.lv ? v - s.lv : v;
      s.lt = t;
      s.lv = v;
      s.n++;
    } else if (t < s.ft) {
      s.inc += s.fv >= v ? s.fv - v : s.fv;
      s.ft = t;
      s.fv = v;
      s.n++;
    }
    return;
  }
  a.sum += v;
  a.sumsq += v * v;
  if (v < a.min) a.min = v;
  if (v > a.max) a.max = v;
  if (t < a.ft) {
    a.ft = t;
    a.first = v;
  }
  if (t >= a.lt) {
    a.lt = t;
    a.last = v;
  }
  if (a.sk) sketchAdd(a.sk, v);
  void fn;
}

/** Merges `b` into `a` (partial results of the same group and window). */
export function accMerge(a: Acc, b: Acc): void {
  a.n += b.n;
  a.sum += b.sum;
  a.sumsq += b.sumsq;
  a.min = Math.min(a.min, b.min);
  a.max = Math.max(a.max, b.max);
  if (b.ft < a.ft) {
    a.ft = b.ft;
    a.first = b.first;
  }
  if (b.lt >= a.lt) {
    a.lt = b.lt;
    a.last = b.last;
  }
  if (a.sk && b.sk) sketchMerge(a.sk, b.sk);
  if (a.series && b.series) {
    for (const [k, s] of b.series) {
      const mine = a.series.get(k);
      if (!mine) a.series.set(k, { ...s });
      else {
        // Same series split across partial results: join the two runs in time order.
        const [early, late] = mine.ft <= s.ft ? [mine, s] : [s, mine];
        const gap = late.fv >= early.lv ? late.fv - early.lv : late.fv;
        a.series.set(k, { ft: early.ft, fv: early.fv, lt: late.lt, lv: late.lv, inc: early.inc + gap + late.inc, n: early.n + late.n });
      }
    }
  }
}

/** Value of a per-series counter function; null with fewer than two samples. */
function seriesValue(fn: AggFn, s: SeriesAcc, windowMs: number): number | null {
  if (s.n < 2 || s.lt === s.ft) return null;
  const spanS = (s.lt - s.ft) / 1000;
  if (fn === 'rate') return s.inc / spanS;
  if (fn === 'increase') return (s.inc / spanS) * (windowMs / 1000);
  return ((s.lv - s.fv) / spanS) * (windowMs / 1000);
}

/** The group's value for `fn`; null when there is none (e.g. rate of a single sample). */
export function accValue(a: Acc, fn: AggFn, q: number | null, windowMs: number): number | null {
  if (a.n === 0) return null;
  switch (fn) {
    case 'count':
      return a.n;
    case 'sum':
      return a.sum;
    case 'avg':
      return a.sum / a.n;
    case 'min':
      return a.min;
    case 'max':
      return a.max;
    case 'first':
      return a.first;
    case 'last':
      return a.last;
    case 'stddev': {
      const mean = a.sum / a.n;
      return Math.sqrt(Math.max(0, a.sumsq / a.n - mean * mean));
    }
    case 'count_series':
      return a.series!.size;
    case 'rate':
    case 'increase':
    case 'delta': {
      let total: number | null = null;
      for (const s of a.series!.values()) {
        const v = seriesValue(fn, s, windowMs);
        if (v !== null) total = (total ?? 0) + v;
      }
      return total;
    }
    default:
      return sketchQuantile(a.sk!, q!);
  }
}

/** Re-aggregates inner group values (nesting) with `fn`; exact (no sketch) over the values. */
export function aggregateValues(fn: AggFn, q: number | null, values: number[]): number | null {
  if (values.length === 0) return null;
  switch (fn) {
    case 'count':
    case 'count_series':
      return values.length;
    case 'sum':
    case 'rate':
    case 'increase':
    case 'delta':
      return values.reduce((s, v) => s + v, 0);
    case 'avg':
      return values.reduce((s, v) => s + v, 0) / values.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'first':
      return values[0]!;
    case 'last':
      return values[values.length - 1]!;
    case 'stddev': {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      return Math.sqrt(values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / values.length);
    }
    default: {
      return sortedQuantile([...values].sort((x, y) => x - y), q!);
    }
  }
}

/** The persisted form of an accumulator (plain JSON). */
export function accToJSON(a: Acc): unknown {
  return a.series ? { ...a, series: Object.fromEntries(a.series) } : a;
}

/** Rebuilds an accumulator from its persisted form. */
export function accFromJSON(raw: unknown): Acc {
  const a = raw as Acc & { series?: unknown };
  if (a.series && !(a.series instanceof Map)) a.series = new Map(Object.entries(a.series as Record<string, SeriesAcc>));
  return a as Acc;
}
