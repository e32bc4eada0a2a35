/**
 * PromQL's range-vector functions as Prometheus 2.42 defines them (promql/functions.go): rate,
 * increase and delta with extrapolatedRate, irate/idelta, the *_over_time functions (Kahan sums),
 * deriv, predict_linear, holt_winters (double_exponential_smoothing), changes, resets. Each computes
 * one value from the samples of one series in one window.
 */
import { QueryError } from '../query-error.js';
import { quantile } from './quantile.js';
import type { RangePoints } from './evaluator.js';

export interface RangeContext {
  t: number;
  rangeMs: number;
  offsetMs: number;
  at: number | undefined;
  scalar(argIndex: number): number;
}

/** Kahan summation step (Prometheus' kahanSumInc): returns [sum, compensation]. */
function kahanInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** rate, increase, delta: the increase in the window, extrapolated towards its edges. */
function extrapolatedRate(p: RangePoints, ctx: RangeContext, isCounter: boolean, isRate: boolean): number | undefined {
  const n = p.to - p.from;
  if (n < 2) return undefined;
  const rangeEnd = (ctx.at ?? ctx.t) - ctx.offsetMs;
  const rangeStart = rangeEnd - ctx.rangeMs;
  const first = p.vs[p.from]!;
  const last = p.vs[p.to - 1]!;
  let result = last - first;
  if (isCounter) {
    let prev = first;
    for (let j = p.from + 1; j < p.to; j++) {
      const v = p.vs[j]!;
      if (v < prev) result += prev;
      prev = v;
    }
  }
  const firstT = p.ts[p.from]!;
  const lastT = p.ts[p.to - 1]!;
  let durationToStart = (firstT - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - lastT) / 1000;
  const sampled = (lastT - firstT) / 1000;
  const averageBetween = sampled / (n - 1);
  if (isCounter && result > 0 && first >= 0) {
    // A counter cannot go below zero: do not extrapolate further back than its zero point.
    const durationToZero = sampled * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageBetween * 1.1;
  let extrapolateTo = sampled;
  extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2;
  let factor = extrapolateTo / sampled;
  if (isRate) factor /= ctx.rangeMs / 1000;
  return result * factor;
}

/** irate, idelta: from the last two samples. */
function instantValue(p: RangePoints, isRate: boolean): number | undefined {
  if (p.to - p.from < 2) return undefined;
  const last = p.vs[p.to - 1]!;
  const prev = p.vs[p.to - 2]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = p.ts[p.to - 1]! - p.ts[p.to - 2]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

function linearRegression(p: RangePoints, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  const initY = p.vs[p.from]!;
  let constY = true;
  for (let j = p.from; j < p.to; j++) {
    const v = p.vs[j]!;
    if (constY && j > p.from && v !== initY) constY = false;
    n++;
    const x = (p.ts[j]! - interceptTime) / 1e3;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(v, sumY, cY);
    [sumXY, cXY] = kahanInc(x * v, sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) return Number.isFinite(initY) ? [0, initY] : [NaN, NaN];
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return [slope, sumY / n - (slope * sumX) / n];
}

function holtWinters(p: RangePoints, sf: number, tf: number): number | undefined {
  if (!(sf > 0 && sf < 1)) throw new QueryError('QUERY_EXEC', `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf}`, 422);
  if (!(tf > 0 && tf < 1)) throw new QueryError('QUERY_EXEC', `invalid trend factor. Expected: 0 < tf < 1, got: ${tf}`, 422);
  const l = p.to - p.from;
  if (l < 2) return undefined;
  let s0 = 0;
  let s1 = p.vs[p.from]!;
  let b = p.vs[p.from + 1]! - p.vs[p.from]!;
  for (let i = 1; i < l; i++) {
    const x = sf * p.vs[p.from + i]!;
    // calcTrendValue(i-1, ...): the first trend is the initial difference.
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

function values(p: RangePoints): number[] {
  const out: number[] = [];
  for (let j = p.from; j < p.to; j++) out.push(p.vs[j]!);
  return out;
}

type RangeFn = (p: RangePoints, ctx: RangeContext) => number | undefined;

const RANGE: Record<string, RangeFn> = {
  rate: (p, c) => extrapolatedRate(p, c, true, true),
  increase: (p, c) => extrapolatedRate(p, c, true, false),
  delta: (p, c) => extrapolatedRate(p, c, false, false),
  irate: (p) => instantValue(p, true),
  idelta: (p) => instantValue(p, false),
  avg_over_time: (p) => {
    let mean = 0, count = 0, c = 0;
    for (let j = p.from; j < p.to; j++) {
      const v = p.vs[j]!;
      count++;
      if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
        if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue;
        if (Number.isFinite(v)) continue;
      }
      [mean, c] = kahanInc(v / count - mean / count, mean, c);
    }
    return !Number.isFinite(mean) && !Number.isNaN(mean) ? mean : mean + c;
  },
  count_over_time: (p) => p.to - p.from,
  last_over_time: (p) => p.vs[p.to - 1]!,
  max_over_time: (p) => {
    let max = p.vs[p.from]!;
    for (let j = p.from; j < p.to; j++) if (p.vs[j]! > max || Number.isNaN(max)) max = p.vs[j]!;
    return max;
  },
  min_over_time: (p) => {
    let min = p.vs[p.from]!;
    for (let j = p.from; j < p.to; j++) if (p.vs[j]! < min || Number.isNaN(min)) min = p.vs[j]!;
    return min;
  },
  sum_over_time: (p) => {
    let sum = 0, c = 0;
    for (let j = p.from; j < p.to; j++) [sum, c] = kahanInc(p.vs[j]!, sum, c);
    return !Number.isFinite(sum) && !Number.isNaN(sum) ? sum : sum + c;
  },
  quantile_over_time: (p, c) => quantile(c.scalar(0), values(p)),
  stddev_over_time: (p) => Math.sqrt(variance(p)),
  stdvar_over_time: (p) => variance(p),
  present_over_time: () => 1,
  absent_over_time: () => 1,
  changes: (p) => {
    let changes = 0;
    let prev = p.vs[p.from]!;
    for (let j = p.from + 1; j < p.to; j++) {
      const v = p.vs[j]!;
      if (v !== prev && !(Number.isNaN(v) && Number.isNaN(prev))) changes++;
      prev = v;
    }
    return changes;
  },
  resets: (p) => {
    let resets = 0;
    let prev = p.vs[p.from]!;
    for (let j = p.from + 1; j < p.to; j++) {
      if (p.vs[j]! < prev) resets++;
      prev = p.vs[j]!;
    }
    return resets;
  },
  deriv: (p) => (p.to - p.from < 2 ? undefined : linearRegression(p, p.ts[p.from]!)[0]),
  predict_linear: (p, c) => {
    if (p.to - p.from < 2) return undefined;
    const [slope, intercept] = linearRegression(p, c.t);
    return slope * c.scalar(1) + intercept;
  },
  holt_winters: (p, c) => holtWinters(p, c.scalar(1), c.scalar(2)),
  double_exponential_smoothing: (p, c) => holtWinters(p, c.scalar(1), c.scalar(2)),
};

function variance(p: RangePoints): number {
  let count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let j = p.from; j < p.to; j++) {
    const v = p.vs[j]!;
    count++;
    const delta = v - (mean + cMean);
    [mean, cMean] = kahanInc(delta / count, mean, cMean);
    [aux, cAux] = kahanInc(delta * (v - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

export const RANGE_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(RANGE));

/** The value of range function `name` over one window; undefined drops the point. */
export function callRangeFunction(name: string, p: RangePoints, ctx: RangeContext): number | undefined {
  return RANGE[name]!(p, ctx);
}
