/**
 * PromQL functions as Prometheus 2.42 defines them (promql/functions.go): range-vector functions
 * (rate/increase/delta with extrapolatedRate, irate/idelta, *_over_time, deriv, predict_linear,
 * holt_winters, changes, resets) compute one value from the samples in a window; instant-vector
 * functions map or reshape the vector of one step (math, clamp, round, label_replace/label_join,
 * histogram_quantile over classic buckets, absent, date functions, scalar/vector, sort).
 */
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { unwrap } from './ast.js';
import { matcherRegex } from '../../dsl/regex.js';
import { RE2JS } from 're2js';
import { bucketQuantile, quantile, type Bucket } from './quantile.js';
import type { RangePoints } from './evaluator.js';
import { dropMetricName, labelsKey, makeLabels, pickLabels, withLabel, type Labels, type Vector } from './value.js';
import { isValidLabelName } from '../../model/series.js';

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

export interface InstantArgs {
  vectors: Vector[];
  scalar(argIndex: number): number;
  strings: string[];
  t: number;
  argCount: number;
  absentLabels?: Labels;
}

const MATH: Record<string, (v: number) => number> = {
  abs: Math.abs, ceil: Math.ceil, floor: Math.floor, exp: Math.exp, sqrt: Math.sqrt, ln: Math.log, log2: Math.log2, log10: Math.log10,
  sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
  sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, asinh: Math.asinh, acosh: Math.acosh, atanh: Math.atanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
  sgn: (v) => (v < 0 ? -1 : v > 0 ? 1 : v),
};

const DATE: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

const mapValues = (vec: Vector, f: (v: number) => number): Vector => vec.map((s) => ({ metric: dropMetricName(s.metric), v: f(s.v), t: s.t }));

/** NaN first for sort_desc's reversed order, NaN last for sort (Prometheus' heap orders). */
const ascendingNaNLast = (a: number, b: number) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b);
const descendingNaNLast = (a: number, b: number) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : b - a);

/** The output vector of instant function `name` at one step. */
export function callInstantFunction(name: string, a: InstantArgs): Vector {
  const vec = a.vectors[0] ?? [];
  if (MATH[name]) return mapValues(vec, MATH[name]!);
  if (DATE[name]) {
    if (a.argCount === 0) return [{ metric: {}, v: DATE[name]!(new Date(Math.floor(a.t / 1000) * 1000)), t: a.t }];
    return mapValues(vec, (v) => DATE[name]!(new Date(Math.trunc(v) * 1000)));
  }
  switch (name) {
    case 'time':
      return [{ metric: {}, v: a.t / 1000, t: a.t }];
    case 'pi':
      return [{ metric: {}, v: Math.PI, t: a.t }];
    case 'vector':
      return [{ metric: {}, v: a.scalar(0), t: a.t }];
    case 'scalar':
      return [{ metric: {}, v: vec.length === 1 ? vec[0]!.v : NaN, t: a.t }];
    case 'clamp': {
      const min = a.scalar(1);
      const max = a.scalar(2);
      if (max < min) return [];
      return mapValues(vec, (v) => Math.max(min, Math.min(max, v)));
    }
    case 'clamp_max': {
      const max = a.scalar(1);
      return mapValues(vec, (v) => Math.min(max, v));
    }
    case 'clamp_min': {
      const min = a.scalar(1);
      return mapValues(vec, (v) => Math.max(min, v));
    }
    case 'round': {
      const inverse = 1 / (a.argCount >= 2 ? a.scalar(1) : 1);
      return mapValues(vec, (v) => Math.floor(v * inverse + 0.5) / inverse);
    }
    case 'timestamp':
      return vec.map((s) => ({ metric: dropMetricName(s.metric), v: s.t / 1000, t: s.t }));
    case 'sort':
      return [...vec].sort((x, y) => ascendingNaNLast(x.v, y.v));
    case 'sort_desc':
      return [...vec].sort((x, y) => descendingNaNLast(x.v, y.v));
    case 'absent':
      return vec.length > 0 ? [] : [{ metric: a.absentLabels ?? {}, v: 1, t: a.t }];
    case 'label_replace':
      return labelReplace(vec, a.strings);
    case 'label_join':
      return labelJoin(vec, a.strings);
    case 'histogram_quantile':
      return histogramQuantile(a.scalar(0), a.vectors[1] ?? []);
    case 'histogram_count':
    case 'histogram_sum':
    case 'histogram_fraction':
      // Only native histograms have these; Vigil's samples are all floats (Prometheus skips floats).
      return [];
    default:
      throw new QueryError('QUERY_UNSUPPORTED', `function "${name}" is not supported`, 422);
  }
}

/** Go's Regexp.Expand template: $1, ${1}, $name, ${name}, $$. A missing group expands to "". */
export function expandTemplate(template: string, groups: (n: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$' || i === template.length - 1) {
      out += c;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      name = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^\w+$/.test(name)) {
        out += c;
        continue;
      }
      end = close;
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (!m) {
        out += c;
        continue;
      }
      name = m[0];
      end = i + m[0].length;
    }
    out += groups(name) ?? '';
    i = end;
  }
  return out;
}

function labelReplace(vec: Vector, [dst, replacement, src, pattern]: string[]): Vector {
  let re: RE2JS;
  try {
    matcherRegex(pattern!);
    re = RE2JS.compile(`^(?:${pattern})$`);
  } catch {
    throw new QueryError('QUERY_EXEC', `invalid regular expression in label_replace(): ${pattern}`, 422);
  }
  if (!isValidLabelName(dst!)) throw new QueryError('QUERY_EXEC', `invalid destination label name in label_replace(): ${dst}`, 422);
  const cache = new Map<string, Labels>();
  return vec.map((s) => {
    const key = labelsKey(s.metric);
    let metric = cache.get(key);
    if (!metric) {
      const value = s.metric[src!] ?? '';
      const m = re.matcher(value);
      if (!m.matches()) metric = s.metric;
      else {
        const named = m.getNamedGroups();
        const result = expandTemplate(replacement!, (g) => {
          if (/^\d+$/.test(g)) {
            const i = Number(g);
            return i <= m.groupCount() ? (m.group(i) ?? '') : undefined;
          }
          return named[g] ?? undefined;
        });
        metric = withLabel(s.metric, dst!, result);
      }
      cache.set(key, metric);
    }
    return { metric, v: s.v, t: s.t };
  });
}

function labelJoin(vec: Vector, [dst, sep, ...srcs]: string[]): Vector {
  for (const s of srcs) if (!isValidLabelName(s)) throw new QueryError('QUERY_EXEC', `invalid source label name in label_join(): ${s}`, 422);
  if (!isValidLabelName(dst!)) throw new QueryError('QUERY_EXEC', `invalid destination label name in label_join(): ${dst}`, 422);
  return vec.map((s) => ({ metric: withLabel(s.metric, dst!, srcs.map((l) => s.metric[l] ?? '').join(sep!)), v: s.v, t: s.t }));
}

function histogramQuantile(q: number, vec: Vector): Vector {
  const groups = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  for (const s of vec) {
    const le = s.metric.le;
    const upperBound = le === undefined ? NaN : parseGoFloat(le);
    if (Number.isNaN(upperBound)) continue;
    const withoutLe = pickLabels(s.metric, ['le'], false);
    const key = labelsKey(withoutLe);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric: dropMetricName(withoutLe), buckets: [] }));
    g.buckets.push({ upperBound, count: s.v });
  }
  return [...groups.values()].map((g) => ({ metric: g.metric, v: bucketQuantile(q, g.buckets), t: 0 }));
}

/** strconv.ParseFloat for `le` values: decimal, exponent, +Inf/-Inf/NaN (case-insensitive), hex. */
function parseGoFloat(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^[+]?(inf|infinity)$/.test(t)) return Infinity;
  if (/^-(inf|infinity)$/.test(t)) return -Infinity;
  if (t === 'nan') return NaN;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?0x[0-9a-f]+$/.test(t)) return Number(t.replace(/^\+/, ''));
  return NaN;
}

/** The labels absent() gives its result: the equality matchers of a selector argument. */
export function absentLabels(arg: A.Expr): Labels {
  const e = unwrap(arg);
  const sel = e.kind === 'vector' ? e : e.kind === 'matrix' ? e.selector : undefined;
  if (!sel) return {};
  const out = new Map<string, string>();
  const has = new Set<string>();
  for (const m of sel.matchers) {
    if (m.name === '__name__') continue;
    if (m.type === '=' && !has.has(m.name)) {
      out.set(m.name, m.value);
      has.add(m.name);
    } else out.delete(m.name);
  }
  return makeLabels(out);
}
