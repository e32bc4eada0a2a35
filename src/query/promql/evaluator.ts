/**
 * Evaluates a checked PromQL tree over evaluation timestamps start, start+interval, ..., end the
 * way Prometheus 2.42's evaluator does (promql/engine.go eval/rangeEval): every node yields a
 * matrix with one point per step at which it has a value; operators and functions of instant
 * vectors run step by step over the vectors of their arguments. Instant vector selectors take the
 * newest sample in [t - lookback, t] unless it is a stale marker; range selectors take the samples
 * in [t - range, t] without stale markers; `offset` and `@` move t; subqueries evaluate their inner
 * expression at absolute multiples of their step. An instant query is a range of one step.
 *
 * Work is bounded: a checkpoint between series and steps throws at the deadline (QueryError 503)
 * and yields to the event loop regularly so the thread keeps serving; the points every node
 * produces count against maxSamples as they are made (422).
 */
import { isStaleMarker } from '../../collect/stale-marker.js';
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { typeOf, unwrap } from './ast.js';
import { aggregate } from './aggregate.js';
import { binaryStep } from './binary.js';
import { absentLabels, callInstantFunction } from './instant-functions.js';
import { callRangeFunction, RANGE_FUNCTIONS, type RangeContext } from './range-functions.js';
import { atMs, type SelectorData } from './selector-data.js';
import { dropMetricName, labelsKey, formatLabels, type Labels, type Matrix, type Series, type Vector } from './value.js';

export interface EvalRange {
  start: number;
  end: number;
  interval: number;
}

export interface EvaluatorOptions {
  /** The query's own start and end (for `@ start()` / `@ end()`). */
  queryStart: number;
  queryEnd: number;
  lookbackMs: number;
  /** Step of a subquery written without one (Prometheus: the global evaluation_interval, 1m). */
  defaultSubqueryStepMs: number;
  /** Most points held in the matrices of one node's evaluation. */
  maxSamples: number;
  /** Absolute time (Date.now() scale) after which evaluation stops with a timeout. */
  deadline: number;
  now?: () => number;
  /** Called between chunks of work; may await to let the event loop run. */
  yieldNow?: () => Promise<void>;
}

/** A value at the top of an evaluation: a matrix, or a string literal. */
export type EvalResult = Matrix | { string: string };

/** The window data a range function sees for one series at one step. */
export interface RangePoints {
  ts: ArrayLike<number>;
  vs: ArrayLike<number>;
  from: number;
  to: number;
}

/** Series a range function reads: raw stored samples (matrix selector) or a subquery's points. */
interface RangeSource {
  series: Array<{ metric: Labels; ts: ArrayLike<number>; vs: ArrayLike<number> }>;
  rangeMs: number;
  offsetMs: number;
  at: number | undefined;
  /** Raw samples may hold stale markers; a subquery's points never do. */
  raw: boolean;
}

export class Evaluator {
  private readonly now: () => number;
  private lastYield: number;
  private ticks = 0;

  constructor(
    private readonly data: SelectorData,
    private readonly options: EvaluatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.lastYield = this.now();
  }

  /** True every 256th call: hot loops call `checkpoint()` only then. */
  due(): boolean {
    return ++this.ticks % 256 === 0;
  }

  /** Throws at the deadline; yields to the event loop when ~20 ms passed since it last did. */
  async checkpoint(): Promise<void> {
    const t = this.now();
    if (t > this.options.deadline) throw new QueryError('QUERY_TIMEOUT', 'query timed out in expression evaluation', 503);
    if (t - this.lastYield > 20 && this.options.yieldNow) {
      await this.options.yieldNow();
      this.lastYield = this.now();
    }
  }

  /** Points held by the evaluation so far, summed over its nodes (a bound on its memory). */
  private held = 0;

  /** Counts `n` more points held; throws QueryError(422) past maxSamples. */
  private hold(n: number): void {
    this.held += n;
    if (this.held > this.options.maxSamples) {
      throw new QueryError('QUERY_TOO_LARGE', `query processing would load too many samples into memory in query execution (more than ${this.options.maxSamples}, query.maxSamples)`, 422);
    }
  }

  async eval(e: A.Expr, r: EvalRange): Promise<EvalResult> {
    await this.checkpoint();
    switch (e.kind) {
      case 'string':
        return { string: e.value };
      case 'paren':
      case 'step-invariant':
        return this.eval(e.expr, r);
      default:
        return this.evalMatrix(e, r);
    }
  }

  /** Evaluates a node that is not a string. */
  async evalMatrix(e: A.Expr, r: EvalRange): Promise<Matrix> {
    switch (e.kind) {
      case 'number':
        this.hold((r.end - r.start) / r.interval + 1);
        return [constantSeries({}, e.value, r)];
      case 'paren':
      case 'step-invariant':
        return this.evalMatrix(e.expr, r);
      case 'unary': {
        const m = await this.evalMatrix(e.expr, r);
        if (e.op === '+') return m;
        const out = m.map((s) => ({ metric: dropMetricName(s.metric), ts: s.ts, vs: s.vs.map((v) => -v) }));
        assertUniqueLabels(out);
        return out;
      }
      case 'vector':
        return this.vectorSelector(e, r);
      case 'matrix':
        return this.matrixAtInstant(e, r);
      case 'subquery':
        return this.subquery(e, r);
      case 'aggregate':
        return this.aggregateExpr(e, r);
      case 'binary':
        return this.binary(e, r);
      case 'call':
        return this.call(e, r);
      case 'string':
        throw new Error('a string is not a matrix');
    }
  }

  /** Index of the newest sample at or before `t` in a sorted array (-1 when none). */
  private static lastAtOrBefore(ts: ArrayLike<number>, t: number, hint = 0): number {
    let lo = hint;
    let hi = ts.length - 1;
    if (hi < 0 || ts[0]! > t) return -1;
    if (lo > hi || ts[lo]! > t) lo = 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The value of `sel` for one stored series at reference time `ref` (lookback, staleness), and its time. */
  private lookback(ts: ArrayLike<number>, vs: ArrayLike<number>, ref: number, hint: number): { i: number; ok: boolean } {
    const i = Evaluator.lastAtOrBefore(ts, ref, hint);
    if (i < 0 || ts[i]! < ref - this.options.lookbackMs || isStaleMarker(vs[i]!)) return { i: Math.max(i, 0), ok: false };
    return { i, ok: true };
  }

  private series(sel: A.VectorSelector) {
    const s = this.data.get(sel);
    if (!s) throw new Error('selector data not loaded');
    return s;
  }

  /** Instant vector selector over the steps; `sampleTime` yields the samples' own timestamps (timestamp()). */
  async vectorSelector(sel: A.VectorSelector, r: EvalRange, sampleTime = false): Promise<Matrix> {
    const at = atMs(sel, { start: this.options.queryStart, end: this.options.queryEnd });
    const out: Matrix = [];
    for (const s of this.series(sel)) {
      if (this.due()) await this.checkpoint();
      const ts: number[] = [];
      const vs: number[] = [];
      let hint = 0;
      for (let t = r.start; t <= r.end; t += r.interval) {
        const ref = (at ?? t) - sel.offsetMs;
        const found = this.lookback(s.ts, s.vs, ref, hint);
        hint = found.i;
        if (!found.ok) continue;
        ts.push(t);
        vs.push(sampleTime ? s.ts[found.i]! / 1000 : s.vs[found.i]!);
      }
      this.hold(ts.length);
      if (ts.length > 0) out.push({ metric: s.metric, ts, vs });
    }
    return out;
  }

  /** A range selector as the result of an instant query: the raw samples in range. */
  private async matrixAtInstant(e: A.MatrixSelector, r: EvalRange): Promise<Matrix> {
    if (r.start !== r.end) throw new QueryError('QUERY_PARAM', 'cannot do range evaluation of matrix selector', 400);
    const src = this.rangeSource(e);
    const out: Matrix = [];
    for (const s of src.series) {
      const w = this.window(src, s, r.start, 0);
      const ts: number[] = [];
      const vs: number[] = [];
      for (let j = w.from; j < w.to; j++) {
        if (isStaleMarker(s.vs[j]!)) continue;
        ts.push(s.ts[j]!);
        vs.push(s.vs[j]!);
      }
      if (ts.length > 0) out.push({ metric: s.metric, ts, vs });
    }
    return out;
  }

  private rangeSource(e: A.MatrixSelector): RangeSource {
    return {
      series: this.series(e.selector),
      rangeMs: e.rangeMs,
      offsetMs: e.selector.offsetMs,
      at: atMs(e.selector, { start: this.options.queryStart, end: this.options.queryEnd }),
      raw: true,
    };
  }

  /** Indices [from, to) of the samples of `s` in [maxt - range, maxt] for step `t`. */
  private window(src: RangeSource, s: { ts: ArrayLike<number> }, t: number, hint: number): { from: number; to: number } {
    const maxt = (src.at ?? t) - src.offsetMs;
    const mint = maxt - src.rangeMs;
    const last = Evaluator.lastAtOrBefore(s.ts, maxt, hint);
    if (last < 0) return { from: 0, to: 0 };
    let from = last;
    while (from > 0 && s.ts[from - 1]! >= mint) from--;
    if (s.ts[from]! < mint) from++;
    return { from, to: last + 1 };
  }

  /** The evaluation steps of a subquery: multiples of its step in [start - offset - range, end - offset]. */
  private async subquery(e: A.SubqueryExpr, r: EvalRange): Promise<Matrix> {
    const step = e.stepMs || this.options.defaultSubqueryStepMs;
    const at = atMs(e, { start: this.options.queryStart, end: this.options.queryEnd });
    const refStart = (at ?? r.start) - e.offsetMs;
    const refEnd = (at ?? r.end) - e.offsetMs;
    const lowest = refStart - e.rangeMs;
    const start = Math.ceil(lowest / step) * step;
    return this.evalMatrix(e.expr, { start, end: refEnd, interval: step });
  }

  /**
   * Runs `fn` at every step over the instant vectors of `args` at that step (Prometheus' rangeEval),
   * and assembles the output series. One step keeps the order `fn` produced (sort, topk).
   */
  async stepwise(args: Matrix[], r: EvalRange, fn: (vectors: Vector[], t: number) => Vector): Promise<Matrix> {
    const cursors = args.map((m) => new Array<number>(m.length).fill(0));
    const out = new Map<string, Series>();
    for (let t = r.start; t <= r.end; t += r.interval) {
      if (this.due()) await this.checkpoint();
      const vectors: Vector[] = [];
      for (let i = 0; i < args.length; i++) {
        const m = args[i]!;
        const vec: Vector = [];
        const cur = cursors[i]!;
        for (let si = 0; si < m.length; si++) {
          const s = m[si]!;
          let c = cur[si]!;
          while (c < s.ts.length && s.ts[c]! < t) c++;
          cur[si] = c;
          if (c < s.ts.length && s.ts[c] === t) vec.push({ metric: s.metric, v: s.vs[c]!, t });
        }
        vectors.push(vec);
      }
      const result = fn(vectors, t);
      this.hold(result.length);
      const seen = new Set<string>();
      for (const sample of result) {
        const key = labelsKey(sample.metric);
        if (seen.has(key)) throw new QueryError('QUERY_EXEC', 'vector cannot contain metrics with the same labelset', 422);
        seen.add(key);
        let s = out.get(key);
        if (!s) out.set(key, (s = { metric: sample.metric, ts: [], vs: [] }));
        s.ts.push(t);
        s.vs.push(sample.v);
      }
    }
    return [...out.values()];
  }

  /** Scalar (one value per step) of a scalar-typed expression; NaN where it has none. */
  async scalarSteps(e: A.Expr, r: EvalRange): Promise<Map<number, number>> {
    const m = await this.evalMatrix(e, r);
    const out = new Map<number, number>();
    const s = m[0];
    if (s) s.ts.forEach((t, i) => out.set(t, s.vs[i]!));
    return out;
  }

  private async aggregateExpr(e: A.AggregateExpr, r: EvalRange): Promise<Matrix> {
    const inner = await this.evalMatrix(e.expr, r);
    const param = e.param ? unwrap(e.param) : undefined;
    if (param?.kind === 'string') return this.stepwise([inner], r, ([v]) => aggregate(e, param.value, v!));
    const params = e.param ? await this.scalarSteps(e.param, r) : undefined;
    return this.stepwise([inner], r, ([v], t) => aggregate(e, params?.get(t) ?? NaN, v!));
  }

  private async binary(e: A.BinaryExpr, r: EvalRange): Promise<Matrix> {
    const lhs = await this.evalMatrix(e.lhs, r);
    const rhs = await this.evalMatrix(e.rhs, r);
    const lt = typeOf(e.lhs);
    const rt = typeOf(e.rhs);
    // A scalar side has a value at every step (constant series with no labels).
    const lhsScalar = lt === 'scalar' ? scalarOf(lhs, r) : undefined;
    const rhsScalar = rt === 'scalar' ? scalarOf(rhs, r) : undefined;
    return this.stepwise([lt === 'scalar' ? [] : lhs, rt === 'scalar' ? [] : rhs], r, ([lv, rv], t) =>
      binaryStep(e, { vector: lv!, scalar: lhsScalar?.get(t) }, { vector: rv!, scalar: rhsScalar?.get(t) }),
    );
  }

  private async call(e: A.Call, r: EvalRange): Promise<Matrix> {
    const arg0 = e.args[0] ? unwrap(e.args[0]) : undefined;
    if (e.func === 'timestamp' && arg0?.kind === 'vector') {
      const m = await this.vectorSelector(arg0, r, true);
      return m.map((s) => ({ metric: dropMetricName(s.metric), ts: s.ts, vs: s.vs }));
    }
    const matrixIndex = e.args.findIndex((a) => typeOf(a) === 'matrix');
    if (matrixIndex >= 0 && RANGE_FUNCTIONS.has(e.func)) return this.rangeCall(e, matrixIndex, r);
    const args: Matrix[] = [];
    const strings: string[] = [];
    const scalars: Array<Map<number, number> | undefined> = [];
    for (const a of e.args) {
      const t = typeOf(a);
      if (t === 'string') {
        strings.push((unwrap(a) as A.StringLiteral).value);
        args.push([]);
        scalars.push(undefined);
      } else if (t === 'scalar') {
        scalars.push(await this.scalarSteps(a, r));
        args.push([]);
      } else {
        args.push(await this.evalMatrix(a, r));
        scalars.push(undefined);
      }
    }
    const absent = e.func === 'absent' ? absentLabels(e.args[0]!) : undefined;
    return this.stepwise(args, r, (vectors, t) =>
      callInstantFunction(e.func, {
        vectors,
        scalar: (i) => scalars[i]?.get(t) ?? NaN,
        strings,
        t,
        argCount: e.args.length,
        absentLabels: absent,
      }),
    );
  }

  /** A function of a range vector: per series, per step, over the samples in its window. */
  private async rangeCall(e: A.Call, matrixIndex: number, r: EvalRange): Promise<Matrix> {
    const arg = unwrap(e.args[matrixIndex]!);
    let src: RangeSource;
    if (arg.kind === 'subquery') {
      const points = await this.subquery(arg, r);
      src = { series: points, rangeMs: arg.rangeMs, offsetMs: arg.offsetMs, at: atMs(arg, { start: this.options.queryStart, end: this.options.queryEnd }), raw: false };
    } else if (arg.kind === 'matrix') src = this.rangeSource(arg);
    else throw new Error(`unexpected range argument ${arg.kind}`);
    const scalars = new Map<number, Map<number, number>>();
    for (let i = 0; i < e.args.length; i++) if (i !== matrixIndex) scalars.set(i, await this.scalarSteps(e.args[i]!, r));
    const out: Matrix = [];
    const steps = Math.floor((r.end - r.start) / r.interval) + 1;
    const covered = new Set<number>();
    const absentOverTime = e.func === 'absent_over_time';
    for (const s of src.series) {
      const ts: number[] = [];
      const vs: number[] = [];
      let hint = 0;
      // Only raw series with a stale marker need their windows filtered (stale markers are not samples of a range).
      let hasStale = false;
      if (src.raw) for (let j = 0; j < s.vs.length && !hasStale; j++) hasStale = isStaleMarker(s.vs[j]!);
      // One window object and one context per series, moved step by step.
      const points: RangePoints = { ts: s.ts, vs: s.vs, from: 0, to: 0 };
      const ctx: RangeContext = { t: 0, rangeMs: src.rangeMs, offsetMs: src.offsetMs, at: src.at, scalar: (i) => scalars.get(i)?.get(ctx.t) ?? NaN };
      for (let t = r.start; t <= r.end; t += r.interval) {
        if (this.due()) await this.checkpoint();
        const w = this.window(src, s, t, hint);
        hint = Math.max(0, w.to - 1);
        points.ts = s.ts;
        points.vs = s.vs;
        points.from = w.from;
        points.to = w.to;
        if (hasStale) {
          const bts: number[] = [];
          const bvs: number[] = [];
          for (let j = w.from; j < w.to; j++) {
            if (isStaleMarker(s.vs[j]!)) continue;
            bts.push(s.ts[j]!);
            bvs.push(s.vs[j]!);
          }
          points.ts = bts;
          points.vs = bvs;
          points.from = 0;
          points.to = bts.length;
        }
        if (points.to <= points.from) continue;
        ctx.t = t;
        const v = callRangeFunction(e.func, points, ctx);
        if (v === undefined) continue;
        ts.push(t);
        vs.push(v);
        if (absentOverTime) covered.add(t);
      }
      this.hold(ts.length);
      if (ts.length > 0) out.push({ metric: e.func === 'last_over_time' ? s.metric : dropMetricName(s.metric), ts, vs });
    }
    if (e.func === 'absent_over_time') {
      if (covered.size === steps) return [];
      const ts: number[] = [];
      for (let t = r.start; t <= r.end; t += r.interval) if (!covered.has(t)) ts.push(t);
      return [{ metric: absentLabels(e.args[0]!), ts, vs: ts.map(() => 1) }];
    }
    assertUniqueLabels(out);
    return out;
  }
}

function constantSeries(metric: Labels, value: number, r: EvalRange): Series {
  const ts: number[] = [];
  for (let t = r.start; t <= r.end; t += r.interval) ts.push(t);
  return { metric, ts, vs: ts.map(() => value) };
}

function scalarOf(m: Matrix, r: EvalRange): Map<number, number> {
  const out = new Map<number, number>();
  for (let t = r.start; t <= r.end; t += r.interval) out.set(t, NaN);
  const s = m[0];
  if (s) s.ts.forEach((t, i) => out.set(t, s.vs[i]!));
  return out;
}

function assertUniqueLabels(m: Matrix): void {
  const seen = new Set<string>();
  for (const s of m) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw new QueryError('QUERY_EXEC', `vector cannot contain metrics with the same labelset ${formatLabels(s.metric)}`, 422);
    seen.add(k);
  }
}
