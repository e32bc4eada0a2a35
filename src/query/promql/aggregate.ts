/**
 * PromQL aggregation of one step's vector (prometheus/promql/engine.go aggregation()): groups by
 * `by`/`without` labels, then sum, avg (incremental mean), count, min/max (NaN loses to any
 * number), group, stddev/stdvar (Welford), topk/bottomk (heap order), quantile (shared exact
 * quantile) and count_values. Groups come out in the order they were first seen.
 */
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { isValidLabelName } from '../../model/series.js';
import { quantile } from './quantile.js';
import { formatValue, labelsKey, pickLabels, withLabel, type Labels, type Sample, type Vector } from './value.js';

interface Accumulator {
  labels: Labels;
  value: number;
  mean: number;
  count: number;
  samples: Sample[];
}

const NO_LABELS: Labels = {};

type Group = { labels: Labels; key: string };

/** Per aggregation expression: the result labels of each series label set (the same objects every step). */
const groupCaches = new WeakMap<A.AggregateExpr, WeakMap<Labels, Group>>();

/** The result labels of `metric` under `by`/`without` `grouping`, and their identity. */
function groupOf(cache: WeakMap<Labels, Group>, metric: Labels, grouping: readonly string[], without: boolean): Group {
  let g = cache.get(metric);
  if (!g) {
    const labels = without ? pickLabels(metric, [...grouping, '__name__'], false) : grouping.length > 0 ? pickLabels(metric, grouping, true) : NO_LABELS;
    cache.set(metric, (g = { labels, key: labelsKey(labels) }));
  }
  return g;
}

/** Aggregates one step's vector; `param` is the scalar (topk, bottomk, quantile) or label (count_values). */
export function aggregate(e: A.AggregateExpr, param: number | string, vec: Vector): Vector {
  const op = e.op;
  let k = 0;
  if (op === 'topk' || op === 'bottomk') {
    const f = param as number;
    if (!(f >= -9.2e18 && f <= 9.2e18)) throw new QueryError('QUERY_EXEC', `Scalar value ${f} overflows int64`, 422);
    k = Math.trunc(f);
    if (k < 1) return [];
  }
  let grouping = [...e.grouping].sort();
  if (op === 'count_values') {
    const label = param as string;
    if (!isValidLabelName(label)) throw new QueryError('QUERY_EXEC', `invalid label name ${JSON.stringify(label)}`, 422);
    if (!e.without) grouping = [...grouping, label].sort();
  }
  const groups = new Map<string, Accumulator>();
  let cache = groupCaches.get(e);
  if (!cache) groupCaches.set(e, (cache = new WeakMap()));
  for (const s of vec) {
    const metric = op === 'count_values' ? withLabel(s.metric, param as string, formatValue(s.v)) : s.metric;
    const { labels, key } = groupOf(cache, metric, grouping, e.without);
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { labels, value: op === 'group' ? 1 : op === 'stddev' || op === 'stdvar' ? 0 : s.v, mean: s.v, count: 1, samples: [s] });
      continue;
    }
    switch (op) {
      case 'sum':
        g.value += s.v;
        break;
      case 'avg':
        g.count++;
        if (!Number.isFinite(g.mean) && !Number.isNaN(g.mean)) {
          // An infinite mean stays as it is unless an opposite infinity or a NaN comes.
          if (!Number.isFinite(s.v) && !Number.isNaN(s.v) && g.mean > 0 === s.v > 0) break;
          if (Number.isFinite(s.v)) break;
        }
        g.mean += s.v / g.count - g.mean / g.count;
        break;
      case 'max':
        if (g.value < s.v || Number.isNaN(g.value)) g.value = s.v;
        break;
      case 'min':
        if (g.value > s.v || Number.isNaN(g.value)) g.value = s.v;
        break;
      case 'count':
      case 'count_values':
        g.count++;
        break;
      case 'stddev':
      case 'stdvar': {
        g.count++;
        const delta = s.v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (s.v - g.mean);
        break;
      }
      case 'topk':
      case 'bottomk':
      case 'quantile':
        g.samples.push(s);
        break;
      case 'group':
        break;
    }
  }
  const out: Vector = [];
  for (const g of groups.values()) {
    switch (op) {
      case 'avg':
        out.push({ metric: g.labels, v: g.mean, t: 0 });
        break;
      case 'count':
      case 'count_values':
        out.push({ metric: g.labels, v: g.count, t: 0 });
        break;
      case 'stdvar':
        out.push({ metric: g.labels, v: g.value / g.count, t: 0 });
        break;
      case 'stddev':
        out.push({ metric: g.labels, v: Math.sqrt(g.value / g.count), t: 0 });
        break;
      case 'topk':
      case 'bottomk':
        for (const s of selectK(g.samples, k, op === 'topk')) out.push({ metric: s.metric, v: s.v, t: 0 });
        break;
      case 'quantile':
        out.push({ metric: g.labels, v: quantile(param as number, g.samples.map((s) => s.v)), t: 0 });
        break;
      default:
        out.push({ metric: g.labels, v: g.value, t: 0 });
    }
  }
  return out;
}

/**
 * The k largest (topk) or smallest (bottomk) samples, best first, with Prometheus' replacement
 * rule: a NaN is replaced by any later sample, and a sample replaces the worst kept one only when
 * strictly better.
 */
function selectK(samples: Sample[], k: number, top: boolean): Sample[] {
  const better = (a: number, b: number) => (top ? a > b : a < b);
  const kept: Sample[] = [];
  for (const s of samples) {
    if (kept.length < k) {
      kept.push(s);
      continue;
    }
    // The worst kept sample (NaN is the worst).
    let worst = 0;
    for (let i = 1; i < kept.length; i++) {
      const w = kept[worst]!.v;
      const c = kept[i]!.v;
      if (Number.isNaN(c) || (!Number.isNaN(w) && better(w, c))) worst = i;
    }
    const w = kept[worst]!.v;
    if (Number.isNaN(w) || better(s.v, w)) kept[worst] = s;
  }
  return kept.sort((a, b) => (Number.isNaN(a.v) ? 1 : Number.isNaN(b.v) ? -1 : top ? b.v - a.v : a.v - b.v));
}
