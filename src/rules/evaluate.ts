/**
 * Expression evaluation at one window close. Aggregation leaves read the window's per-group
 * accumulators (via `LeafSource`); everything above them combines per-group results:
 * arithmetic joins on equal group keys, comparisons give a truth value per group, and/or/not
 * combine conditions (a group missing on one side counts as false). Division by zero gives no
 * value for that group (counted by the caller through `onDivByZero`).
 */
import type { CExpr } from '../dsl/model.js';
import { aggregateValues } from './aggregators.js';
import { canonicalLabels } from '../model/series.js';

export interface Entry {
  labels: Record<string, string>;
  value: number | null;
  /** Set for conditions. */
  truth?: boolean;
  /** absent(): when the group was last seen (pending starts there). */
  since?: number | undefined;
  /** A named input value of this entry (aggregation text -> value), collected lazily for events. */
  name?: string | undefined;
  iv?: number | undefined;
  /** The entries this one was computed from, and a constant operand. */
  a?: Entry | undefined;
  b?: Entry | undefined;
  thr?: number | undefined;
}

/** The named values that decided an entry (aggregations and thresholds), for alert events. */
export function collectInputs(e: Entry | undefined, out: Record<string, number> = {}): Record<string, number> {
  if (!e) return out;
  if (e.a) collectInputs(e.a, out);
  if (e.b) collectInputs(e.b, out);
  if (e.name !== undefined && e.iv !== undefined && !(e.name in out)) out[e.name] = e.iv;
  if (e.thr !== undefined && !('threshold' in out)) out.threshold = e.thr;
  return out;
}

export type Result = { k: 's'; v: number } | { k: 'v'; m: Map<string, Entry> };

/** What the evaluator needs from the runtime for one window. */
export interface LeafSource {
  /** Per-group values of aggregation leaf `id` in the window being evaluated. */
  agg(id: number): Map<string, Entry>;
  /** Per-group absent() results of leaf `id`. */
  absent(id: number): Map<string, Entry>;
  onDivByZero(): void;
}

function arith(op: '+' | '-' | '*' | '/', a: number, b: number, src: LeafSource): number | null {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) {
        src.onDivByZero();
        return null;
      }
      return a / b;
  }
}

export function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
}

function valueFn(fn: string, v: number, params: number[]): number {
  switch (fn) {
    case 'abs':
      return Math.abs(v);
    case 'clamp_min':
      return Math.max(v, params[0]!);
    case 'clamp_max':
      return Math.min(v, params[0]!);
    default: {
      const to = params[0] ?? 1;
      return to === 0 ? v : Math.round(v / to) * to;
    }
  }
}

function mapEntries(m: Map<string, Entry>, f: (e: Entry) => Entry | null): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const [k, e] of m) {
    const r = f(e);
    if (r) out.set(k, r);
  }
  return out;
}

function groupKeyOf(labels: Record<string, string>, grouping: { mode: 'by' | 'without'; labels: string[] } | null): [string, Record<string, string>] {
  if (!grouping) return ['', {}];
  const out: Record<string, string> = {};
  if (grouping.mode === 'by') {
    for (const l of grouping.labels) if (labels[l]) out[l] = labels[l]!;
  } else {
    for (const [k, v] of Object.entries(labels)) if (!grouping.labels.includes(k)) out[k] = v;
  }
  return [canonicalLabels(out), out];
}

/** Evaluates `e`; `cache` holds results of shared sub-expressions (the `value` expression). */
export function evaluate(e: CExpr, src: LeafSource, cache: Map<CExpr, Result>): Result {
  const hit = cache.get(e);
  if (hit) return hit;
  const r = evalUncached(e, src, cache);
  cache.set(e, r);
  return r;
}

function evalUncached(e: CExpr, src: LeafSource, cache: Map<CExpr, Result>): Result {
  switch (e.t) {
    case 'num':
      return { k: 's', v: e.value };
    case 'agg': {
      if (e.sel) return { k: 'v', m: src.agg(e.id) };
      const inner = evaluate(e.inner!, src, cache);
      if (inner.k !== 'v') return { k: 'v', m: new Map() };
      const groups = new Map<string, { labels: Record<string, string>; values: number[] }>();
      for (const en of inner.m.values()) {
        if (en.value === null) continue;
        const [key, labels] = groupKeyOf(en.labels, e.grouping);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { labels, values: [] }));
        g.values.push(en.value);
      }
      const out = new Map<string, Entry>();
      for (const [key, g] of groups) {
        const v = aggregateValues(e.fn, e.q, g.values);
        if (v !== null) out.set(key, { labels: g.labels, value: v, name: e.text, iv: v });
      }
      return { k: 'v', m: out };
    }
    case 'absent':
      return { k: 'v', m: src.absent(e.id) };
    case 'fn': {
      const a = evaluate(e.arg, src, cache);
      if (a.k === 's') return { k: 's', v: valueFn(e.fn, a.v, e.params) };
      return { k: 'v', m: mapEntries(a.m, (en) => (en.value === null ? null : { labels: en.labels, value: valueFn(e.fn, en.value, e.params), a: en })) };
    }
    case 'neg': {
      const a = evaluate(e.arg, src, cache);
      if (a.k === 's') return { k: 's', v: -a.v };
      return { k: 'v', m: mapEntries(a.m, (en) => (en.value === null ? null : { labels: en.labels, value: -en.value, a: en })) };
    }
    case 'arith':
    case 'cmp':
      return binary(e, evaluate(e.left, src, cache), evaluate(e.right, src, cache), src);
    case 'logic':
      return logic(e.op, evaluate(e.left, src, cache), evaluate(e.right, src, cache));
    case 'not': {
      const a = evaluate(e.arg, src, cache);
      if (a.k === 's') return a;
      return { k: 'v', m: mapEntries(a.m, (en) => ({ labels: en.labels, value: en.value, truth: !en.truth, since: en.since, a: en })) };
    }
  }
}

function binary(e: Extract<CExpr, { t: 'arith' | 'cmp' }>, l: Result, r: Result, src: LeafSource): Result {
  const isCmp = e.t === 'cmp';
  if (l.k === 's' && r.k === 's') {
    const v = e.t === 'arith' ? arith(e.op, l.v, r.v, src) : Number(compare(e.op, l.v, r.v));
    return { k: 's', v: v ?? NaN };
  }
  const out = new Map<string, Entry>();
  if (l.k === 'v' && r.k === 's') {
    const c = r.v;
    for (const [k, en] of l.m) {
      if (en.value === null) continue;
      if (isCmp) out.set(k, { labels: en.labels, value: en.value, truth: compare(e.op, en.value, c), a: en, thr: c });
      else {
        const v = arith(e.op as '+', en.value, c, src);
        if (v !== null) out.set(k, { labels: en.labels, value: v, a: en });
      }
    }
    return { k: 'v', m: out };
  }
  if (l.k === 's' && r.k === 'v') {
    const c = l.v;
    for (const [k, en] of r.m) {
      if (en.value === null) continue;
      // The value of a `number < aggregation` condition is the aggregation's.
      if (isCmp) out.set(k, { labels: en.labels, value: en.value, truth: compare(e.op, c, en.value), a: en, thr: c });
      else {
        const v = arith(e.op as '+', c, en.value, src);
        if (v !== null) out.set(k, { labels: en.labels, value: v, a: en });
      }
    }
    return { k: 'v', m: out };
  }
  const lm = (l as { m: Map<string, Entry> }).m;
  const rm = (r as { m: Map<string, Entry> }).m;
  for (const [k, le] of lm) {
    const re = rm.get(k);
    if (!re || le.value === null || re.value === null) continue;
    if (isCmp) out.set(k, { labels: le.labels, value: le.value, truth: compare(e.op, le.value, re.value), a: le, b: re });
    else {
      const v = arith(e.op as '+', le.value, re.value, src);
      if (v !== null) out.set(k, { labels: le.labels, value: v, a: le, b: re });
    }
  }
  return { k: 'v', m: out };
}

function logic(op: 'and' | 'or', l: Result, r: Result): Result {
  if (l.k !== 'v' || r.k !== 'v') return { k: 'v', m: new Map() };
  const out = new Map<string, Entry>();
  for (const [k, le] of l.m) {
    const re = r.m.get(k);
    const truth = op === 'and' ? !!le.truth && !!re?.truth : !!le.truth || !!re?.truth;
    out.set(k, { labels: le.labels, value: le.value ?? re?.value ?? null, truth, since: le.since ?? re?.since, a: le, b: re });
  }
  for (const [k, re] of r.m) {
    if (out.has(k)) continue;
    out.set(k, { labels: re.labels, value: re.value, truth: op === 'or' ? !!re.truth : false, since: re.since, a: re });
  }
  return { k: 'v', m: out };
}

export { groupKeyOf };
