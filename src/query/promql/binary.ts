/**
 * PromQL binary operators at one step (prometheus/promql/engine.go VectorBinop, VectorAnd/Or/
 * Unless, VectorscalarBinop, scalarBinop): arithmetic and comparison (filter, or 0/1 with `bool`)
 * between scalars and vectors, one-to-one and many-to-one/one-to-many matching with
 * on/ignoring/group_left/group_right, and the set operators.
 */
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { isComparison } from './check.js';
import { dropMetricName, formatLabels, labelsKey, pickLabels, withLabel, type Labels, type Sample, type Vector } from './value.js';

export interface Operand {
  vector: Vector;
  /** Set when the side is a scalar. */
  scalar: number | undefined;
}

/** Go's math.Mod: the result has the sign of the dividend. */
const goMod = (a: number, b: number) => a % b;

function arithmetic(op: A.BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '^':
      return goPow(l, r);
    case '%':
      return goMod(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      throw new Error(`not arithmetic: ${op}`);
  }
}

/** Go's math.Pow differs from JavaScript's ** for 1 ** ±Inf/NaN and (-1) ** ±Inf (both give 1). */
function goPow(l: number, r: number): number {
  if (l === 1 || r === 0) return 1;
  if (l === -1 && !Number.isFinite(r) && !Number.isNaN(r)) return 1;
  return l ** r;
}

function compare(op: A.BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      throw new Error(`not a comparison: ${op}`);
  }
}

/** [value, keep] of vectorElemBinop. */
function elem(op: A.BinaryOp, l: number, r: number): [number, boolean] {
  if (isComparison(op)) return [l, compare(op, l, r)];
  return [arithmetic(op, l, r), true];
}

const dropsName = (op: A.BinaryOp) => op === '+' || op === '-' || op === '*' || op === '/' || op === '^' || op === '%';

/** The result vector of `e` at one step. */
export function binaryStep(e: A.BinaryExpr, lhs: Operand, rhs: Operand): Vector {
  if (lhs.scalar !== undefined && rhs.scalar !== undefined) {
    const v = isComparison(e.op) ? (compare(e.op, lhs.scalar, rhs.scalar) ? 1 : 0) : arithmetic(e.op, lhs.scalar, rhs.scalar);
    return [{ metric: {}, v, t: 0 }];
  }
  if (rhs.scalar !== undefined) return vectorScalar(e, lhs.vector, rhs.scalar, false);
  if (lhs.scalar !== undefined) return vectorScalar(e, rhs.vector, lhs.scalar, true);
  const m = e.matching!;
  const sig = signature(m);
  switch (e.op) {
    case 'and': {
      if (lhs.vector.length === 0 || rhs.vector.length === 0) return [];
      const right = new Set(rhs.vector.map((s) => sig(s.metric)));
      return lhs.vector.filter((s) => right.has(sig(s.metric)));
    }
    case 'or': {
      if (lhs.vector.length === 0) return [...rhs.vector];
      if (rhs.vector.length === 0) return [...lhs.vector];
      const left = new Set(lhs.vector.map((s) => sig(s.metric)));
      return [...lhs.vector, ...rhs.vector.filter((s) => !left.has(sig(s.metric)))];
    }
    case 'unless': {
      if (lhs.vector.length === 0 || rhs.vector.length === 0) return [...lhs.vector];
      const right = new Set(rhs.vector.map((s) => sig(s.metric)));
      return lhs.vector.filter((s) => !right.has(sig(s.metric)));
    }
    default:
      return vectorVector(e, lhs.vector, rhs.vector, sig);
  }
}

function vectorScalar(e: A.BinaryExpr, vec: Vector, scalar: number, swap: boolean): Vector {
  const out: Vector = [];
  for (const s of vec) {
    const [l, r] = swap ? [scalar, s.v] : [s.v, scalar];
    let [value, keep] = elem(e.op, l, r);
    // A comparison keeps the vector's value even when the vector is on the right.
    if (isComparison(e.op) && swap) value = r;
    if (e.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ metric: dropsName(e.op) || e.returnBool ? dropMetricName(s.metric) : s.metric, v: value, t: s.t });
  }
  return out;
}

const signatures = new WeakMap<A.VectorMatching, (l: Labels) => string>();

/** The matching signature of a label set under on(...)/ignoring(...) (ignoring always drops __name__), cached per expression. */
function signature(m: A.VectorMatching): (l: Labels) => string {
  let f = signatures.get(m);
  if (f) return f;
  const cache = new WeakMap<Labels, string>();
  const names = m.on ? m.labels : [...m.labels, '__name__'];
  f = (l) => {
    let s = cache.get(l);
    if (s === undefined) cache.set(l, (s = labelsKey(pickLabels(l, names, m.on))));
    return s;
  };
  signatures.set(m, f);
  return f;
}

function resultMetric(op: A.BinaryOp, m: A.VectorMatching, l: Labels, r: Labels): Labels {
  let out = dropsName(op) ? dropMetricName(l) : l;
  if (m.card === 'one-to-one') out = m.on ? pickLabels(out, m.labels, true) : pickLabels(out, m.labels, false);
  for (const name of m.include) out = withLabel(out, name, r[name] ?? '');
  return out;
}

function vectorVector(e: A.BinaryExpr, lhsIn: Vector, rhsIn: Vector, sig: (l: Labels) => string): Vector {
  const m = e.matching!;
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  // One-to-many is many-to-one with the sides swapped (values are swapped back below).
  const swapped = m.card === 'one-to-many';
  const [lhs, rhs] = swapped ? [rhsIn, lhsIn] : [lhsIn, rhsIn];
  const right = new Map<string, Sample>();
  for (const rs of rhs) {
    const key = sig(rs.metric);
    const dup = right.get(key);
    if (dup) {
      const side = swapped ? 'left' : 'right';
      const matched = formatLabels(pickLabels(rs.metric, m.on ? m.labels : [...m.labels, '__name__'], m.on));
      throw new QueryError(
        'QUERY_EXEC',
        `found duplicate series for the match group ${matched} on the ${side} hand-side of the operation: [${formatLabels(rs.metric)}, ${formatLabels(dup.metric)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        422,
      );
    }
    right.set(key, rs);
  }
  const matched = new Map<string, Set<string> | null>();
  const out: Vector = [];
  for (const ls of lhs) {
    const key = sig(ls.metric);
    const rs = right.get(key);
    if (!rs) continue;
    const [vl, vr] = swapped ? [rs.v, ls.v] : [ls.v, rs.v];
    let [value, keep] = elem(e.op, vl, vr);
    if (e.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    let metric = resultMetric(e.op, m, ls.metric, rs.metric);
    if (e.returnBool) metric = dropMetricName(metric);
    const inserted = matched.get(key);
    if (m.card === 'one-to-one') {
      if (inserted !== undefined) throw new QueryError('QUERY_EXEC', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)', 422);
      matched.set(key, null);
    } else {
      const k = labelsKey(metric);
      if (!inserted) matched.set(key, new Set([k]));
      else if (inserted.has(k)) throw new QueryError('QUERY_EXEC', 'multiple matches for labels: grouping labels must ensure unique matches', 422);
      else inserted.add(k);
    }
    out.push({ metric, v: value, t: 0 });
  }
  return out;
}
