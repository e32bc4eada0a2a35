/**
 * PromQL's instant-vector functions as Prometheus 2.42 defines them (promql/functions.go): they
 * map or reshape the vector of one step: math and trigonometry, clamp, round, label_replace /
 * label_join, histogram_quantile over classic buckets, absent, the date functions, scalar/vector,
 * time, sort.
 */
import { RE2JS } from 're2js';
import { matcherRegex } from '../../dsl/regex.js';
import { isValidLabelName } from '../../model/series.js';
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { unwrap } from './ast.js';
import { bucketQuantile, type Bucket } from './quantile.js';
import { dropMetricName, labelsKey, makeLabels, pickLabels, withLabel, type Labels, type Vector } from './value.js';

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
