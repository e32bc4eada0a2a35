/**
 * PromQL queries over a SampleSource: parse and check, load the selectors' samples, evaluate, and
 * shape the result as Prometheus' HTTP API does (instant: vector / scalar / string / matrix;
 * range: matrix sorted by labels). Semantics are Prometheus 2.42's (the Debian package the
 * comparison tests run): closed ranges [t - range, t], 5 m lookback, stale markers end a series.
 */
import type { SampleSource } from '../sample-source.js';
import { QueryError } from '../query-error.js';
import { typeOf, type Expr } from './ast.js';
import { Evaluator } from './evaluator.js';
import { parsePromQL } from './parse.js';
import { loadSelectors } from './selector-data.js';
import { compareLabels, type Labels, type Matrix } from './value.js';

export interface PromQLOptions {
  /** Default 5 m (Prometheus' --query.lookback-delta). */
  lookbackMs?: number;
  /** Step of subqueries written without one; default 1 m (Prometheus' global evaluation_interval). */
  defaultSubqueryStepMs?: number;
  /** Most series read (422 past it). */
  maxSeries: number;
  /** Most samples read, and most points held by one node's result (422 past it). */
  maxSamples: number;
  /** Absolute time after which the query fails with a timeout (503). */
  deadline: number;
  now?: () => number;
  /** Lets the event loop run during long evaluations. */
  yieldNow?: () => Promise<void>;
}

export type PromQLResult =
  | { resultType: 'matrix'; result: Array<{ metric: Labels; values: Array<[number, number]> }> }
  | { resultType: 'vector'; result: Array<{ metric: Labels; value: [number, number] }> }
  | { resultType: 'scalar'; result: [number, number] }
  | { resultType: 'string'; result: [number, string] };

/** Prometheus' limit of points per series of a range query. */
export const MAX_RANGE_POINTS = 11_000;

const DEFAULT_LOOKBACK_MS = 5 * 60_000;
const DEFAULT_SUBQUERY_STEP_MS = 60_000;

function evaluator(expr: Expr, data: Awaited<ReturnType<typeof loadSelectors>>, start: number, end: number, o: PromQLOptions): Evaluator {
  return new Evaluator(data, {
    queryStart: start,
    queryEnd: end,
    lookbackMs: o.lookbackMs ?? DEFAULT_LOOKBACK_MS,
    defaultSubqueryStepMs: o.defaultSubqueryStepMs ?? DEFAULT_SUBQUERY_STEP_MS,
    maxSamples: o.maxSamples,
    deadline: o.deadline,
    now: o.now,
    yieldNow: o.yieldNow,
  });
}

async function load(expr: Expr, start: number, end: number, source: SampleSource, o: PromQLOptions) {
  const ev = evaluator(expr, new Map(), start, end, o);
  return loadSelectors(expr, { start, end, lookbackMs: o.lookbackMs ?? DEFAULT_LOOKBACK_MS }, source, o, () => ev.checkpoint());
}

const matrixResult = (m: Matrix) => ({
  resultType: 'matrix' as const,
  result: [...m].sort((a, b) => compareLabels(a.metric, b.metric)).map((s) => ({ metric: s.metric, values: s.ts.map((t, i): [number, number] => [t, s.vs[i]!]) })),
});

/** Evaluates `query` at time `t` (ms). */
export async function instantQuery(query: string, t: number, source: SampleSource, o: PromQLOptions): Promise<PromQLResult> {
  return instantQueryOf(parsePromQL(query), t, source, o);
}

/** Evaluates a parsed and checked expression at time `t` (ms). */
export async function instantQueryOf(expr: Expr, t: number, source: SampleSource, o: PromQLOptions): Promise<PromQLResult> {
  const data = await load(expr, t, t, source, o);
  const value = await evaluator(expr, data, t, t, o).eval(expr, { start: t, end: t, interval: 1 });
  if ('string' in value) return { resultType: 'string', result: [t, value.string] };
  switch (typeOf(expr)) {
    case 'scalar':
      return { resultType: 'scalar', result: [t, value[0]?.vs[0] ?? NaN] };
    case 'vector':
      return { resultType: 'vector', result: value.map((s) => ({ metric: s.metric, value: [t, s.vs[0]!] })) };
    default:
      return matrixResult(value);
  }
}

/** Evaluates `query` at start, start + step, ..., end (ms). */
export async function rangeQuery(query: string, start: number, end: number, stepMs: number, source: SampleSource, o: PromQLOptions): Promise<PromQLResult> {
  if (end < start) throw new QueryError('QUERY_PARAM', 'end timestamp must not be before start time', 400);
  if (stepMs <= 0) throw new QueryError('QUERY_PARAM', 'zero or negative query resolution step widths are not accepted. Try a positive integer', 400);
  if ((end - start) / stepMs > MAX_RANGE_POINTS) {
    throw new QueryError('QUERY_PARAM', `exceeded maximum resolution of ${MAX_RANGE_POINTS} points per timeseries. Try decreasing the query resolution (?step=XX)`, 400);
  }
  const expr = parsePromQL(query);
  const type = typeOf(expr);
  if (type !== 'scalar' && type !== 'vector') {
    const documented = type === 'matrix' ? 'range vector' : type;
    throw new QueryError('QUERY_PARAM', `invalid expression type "${documented}" for range query, must be Scalar or instant Vector`, 400);
  }
  const data = await load(expr, start, end, source, o);
  const value = await evaluator(expr, data, start, end, o).evalMatrix(expr, { start, end, interval: stepMs });
  return matrixResult(value);
}
