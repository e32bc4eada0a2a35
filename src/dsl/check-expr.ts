/**
 * Type checking of expressions: which functions exist, what they take, and that both sides of a
 * join have the same group labels. Produces the checked expression (model.ts) and its shape.
 * Private to src/dsl (check.ts is the entry).
 */
import type * as A from './ast.js';
import { errorAt, type RuleError } from './errors.js';
import {
  AGGREGATIONS,
  VALUE_FUNCTIONS,
  type AggFn,
  type CExpr,
  type CheckedGrouping,
  type CheckedMatcher,
  type CheckedSelector,
  type ValueFn,
} from './model.js';
import { compileMatcherRegex, type MatcherRegex } from './regex.js';

/** scalar: a plain number; vector: a number per group; cond: true/false per group. */
export type Shape = { kind: 'scalar' } | { kind: 'vector' | 'cond'; sig: string; labels: string[] | null };

export interface Checked {
  ce: CExpr;
  shape: Shape;
}

export interface ExprContext {
  errors: RuleError[];
  source: string;
  /** The rule's checked `value` expression, when it has one. */
  value: Checked | null;
  nextId: number;
  metrics: Set<string>;
}

const METRIC_RE = /^[a-zA-Z_:][a-zA-Z0-9_:.]*$/;
export const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PER_SERIES: ReadonlySet<string> = new Set(['rate', 'increase', 'delta']);
const QUANTILE_OF: Record<string, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

function text(ctx: ExprContext, node: { span: A.Span }): string {
  return ctx.source.slice(node.span.offset, node.span.end);
}

function describeGroups(shape: Shape): string {
  if (shape.kind === 'scalar') return 'a number';
  const [mode, labels] = shape.sig.split(':') as [string, string];
  if (mode === 'by' && labels === '') return 'one group (no by)';
  return `${mode} (${labels.split(',').join(', ')})`;
}

/** Checks label matchers (names and regexes); returns null if any is bad. */
export function checkMatchers(ms: A.MatcherNode[], errors: RuleError[]): CheckedMatcher[] | null {
  let ok = true;
  const out: CheckedMatcher[] = [];
  for (const m of ms) {
    if (!LABEL_RE.test(m.label.name)) {
      errors.push(errorAt('BAD_NAME', `invalid label name "${m.label.name}"`, m.label.span));
      ok = false;
      continue;
    }
    let regex: MatcherRegex | null = null;
    if (m.op === '=~' || m.op === '!~') {
      const r = compileMatcherRegex(m.value.value);
      if (typeof r === 'string') {
        errors.push(errorAt('BAD_REGEX', `invalid regex ${JSON.stringify(m.value.value)}: ${r}`, m.value.span));
        ok = false;
        continue;
      }
      regex = r;
    }
    out.push({ label: m.label.name, op: m.op, value: m.value.value, regex });
  }
  return ok ? out : null;
}

function checkSelector(sel: A.SelectorExpr, ctx: ExprContext): CheckedSelector | null {
  let ok = true;
  if (!METRIC_RE.test(sel.metric.name)) {
    ctx.errors.push(errorAt('BAD_NAME', `invalid metric name "${sel.metric.name}"`, sel.metric.span));
    ok = false;
  }
  const matchers = checkMatchers(sel.matchers, ctx.errors);
  if (!ok || !matchers) return null;
  ctx.metrics.add(sel.metric.name);
  return { metric: sel.metric.name, matchers, text: text(ctx, sel) };
}

function checkGrouping(g: A.Grouping | null, ctx: ExprContext): CheckedGrouping | null | false {
  if (!g) return null;
  let ok = true;
  const seen = new Set<string>();
  for (const l of g.labels) {
    if (!LABEL_RE.test(l.name)) {
      ctx.errors.push(errorAt('BAD_NAME', `invalid label name "${l.name}"`, l.span));
      ok = false;
    } else if (seen.has(l.name)) {
      ctx.errors.push(errorAt('DUPLICATE_SETTING', `label "${l.name}" is listed twice`, l.span));
      ok = false;
    }
    seen.add(l.name);
  }
  return ok ? { mode: g.mode, labels: [...seen].sort() } : false;
}

function groupShape(kind: 'vector' | 'cond', g: CheckedGrouping | null): Shape {
  if (!g) return { kind, sig: 'by:', labels: [] };
  return { kind, sig: `${g.mode}:${g.labels.join(',')}`, labels: g.mode === 'by' ? g.labels : null };
}

function unwrap(e: A.Expr): A.Expr {
  return e.kind === 'paren' ? unwrap(e.inner) : e;
}

function literalNumber(e: A.Expr): number | null {
  const u = unwrap(e);
  if (u.kind === 'number') return u.value;
  if (u.kind === 'unary' && u.op === '-') {
    const n = literalNumber(u.operand);
    return n === null ? null : -n;
  }
  return null;
}

function checkAggregation(call: A.CallExpr, fn: AggFn, ctx: ExprContext): Checked | null {
  const name = call.name.name;
  let q: number | null = QUANTILE_OF[fn] ?? null;
  let args = call.args;
  if (fn === 'quantile') {
    if (args.length !== 2) {
      ctx.errors.push(errorAt('BAD_ARGUMENTS', `quantile() takes 2 arguments (a number between 0 and 1, then a selector), got ${args.length}`, call.name.span));
      return null;
    }
    q = literalNumber(args[0]!);
    if (q === null || !(q >= 0 && q <= 1)) {
      ctx.errors.push(errorAt('BAD_ARGUMENTS', 'quantile() needs a number between 0 and 1 as its first argument', args[0]!.span));
      return null;
    }
    args = args.slice(1);
  }
  if (args.length !== 1) {
    ctx.errors.push(errorAt('BAD_ARGUMENTS', `${name}() takes 1 argument (a selector or an aggregation), got ${args.length}`, call.name.span));
    return null;
  }
  const grouping = checkGrouping(call.grouping, ctx);
  const arg = unwrap(args[0]!);
  if (arg.kind === 'selector') {
    const sel = checkSelector(arg, ctx);
    if (!sel || grouping === false) return null;
    const ce: CExpr = { t: 'agg', id: ctx.nextId++, fn, q, sel, inner: null, grouping, text: text(ctx, call) };
    return { ce, shape: groupShape('vector', grouping) };
  }
  const innerIsAgg = arg.kind === 'call' && (AGGREGATIONS as readonly string[]).includes(arg.name.name);
  if (!innerIsAgg || PER_SERIES.has(fn)) {
    const want = PER_SERIES.has(fn) ? 'a selector' : 'a selector or an aggregation';
    ctx.errors.push(errorAt('BAD_ARGUMENTS', `${name}() needs ${want}, got ${JSON.stringify(text(ctx, arg))}`, arg.span));
    return null;
  }
  const inner = checkAggregation(arg as A.CallExpr, arg.name.name as AggFn, ctx);
  if (!inner || grouping === false) return null;
  const innerG = (inner.ce as Extract<CExpr, { t: 'agg' }>).grouping;
  if (grouping && grouping.mode === 'by' && innerG && innerG.mode === 'by') {
    const missing = grouping.labels.filter((l) => !innerG.labels.includes(l));
    if (missing.length) {
      ctx.errors.push(
        errorAt('JOIN_MISMATCH', `cannot group by (${missing.join(', ')}): the inner aggregation only keeps (${innerG.labels.join(', ')})`, call.grouping!.span),
      );
      return null;
    }
  }
  const ce: CExpr = { t: 'agg', id: ctx.nextId++, fn, q, sel: null, inner: inner.ce, grouping, text: text(ctx, call) };
  return { ce, shape: groupShape('vector', grouping) };
}

function checkCall(call: A.CallExpr, ctx: ExprContext): Checked | null {
  const name = call.name.name;
  if ((AGGREGATIONS as readonly string[]).includes(name)) return checkAggregation(call, name as AggFn, ctx);
  if (name === 'absent') {
    const arg = call.args.length === 1 ? unwrap(call.args[0]!) : null;
    if (!arg || arg.kind !== 'selector') {
      ctx.errors.push(errorAt('BAD_ARGUMENTS', 'absent() takes one selector', call.name.span));
      return null;
    }
    const sel = checkSelector(arg, ctx);
    const grouping = checkGrouping(call.grouping, ctx);
    if (!sel || grouping === false) return null;
    return { ce: { t: 'absent', id: ctx.nextId++, sel, grouping, text: text(ctx, call) }, shape: groupShape('cond', grouping) };
  }
  if ((VALUE_FUNCTIONS as readonly string[]).includes(name)) {
    const fn = name as ValueFn;
    if (call.grouping) {
      ctx.errors.push(errorAt('BAD_ARGUMENTS', `${name}() is not an aggregation: it takes no ${call.grouping.mode} (...)`, call.grouping.span));
      return null;
    }
    const [min, max] = fn === 'abs' ? [1, 1] : fn === 'round' ? [1, 2] : [2, 2];
    if (call.args.length < min || call.args.length > max) {
      const usage = fn === 'abs' ? 'abs(x)' : fn === 'round' ? 'round(x) or round(x, to_nearest)' : `${fn}(x, number)`;
      ctx.errors.push(errorAt('BAD_ARGUMENTS', `${name}() takes ${min === max ? min : `${min} or ${max}`} argument${max > 1 ? 's' : ''}: ${usage}`, call.name.span));
      return null;
    }
    const arg = checkExpr(call.args[0]!, ctx);
    const params: number[] = [];
    for (const p of call.args.slice(1)) {
      const n = literalNumber(p);
      if (n === null) {
        ctx.errors.push(errorAt('BAD_ARGUMENTS', `${name}() needs a number here`, p.span));
        return null;
      }
      params.push(n);
    }
    if (!arg) return null;
    if (arg.shape.kind === 'cond') {
      ctx.errors.push(errorAt('TYPE', `${name}() needs a number, got a condition`, call.args[0]!.span));
      return null;
    }
    return { ce: { t: 'fn', fn, arg: arg.ce, params }, shape: arg.shape };
  }
  ctx.errors.push(errorAt('UNKNOWN_FUNCTION', `unknown function "${name}"`, call.name.span));
  for (const a of call.args) if (unwrap(a).kind !== 'selector') checkExpr(a, ctx);
  return null;
}

function joinShapes(left: Checked, right: Checked, node: A.BinaryExpr, kind: 'vector' | 'cond', ctx: ExprContext): Shape | null {
  const l = left.shape;
  const r = right.shape;
  if (l.kind !== 'scalar' && r.kind !== 'scalar') {
    if (l.sig !== r.sig) {
      ctx.errors.push(
        errorAt('JOIN_MISMATCH', `"${node.op}" joins groups on equal labels, but the left side has ${describeGroups(l)} and the right side ${describeGroups(r)}`, node.right.span),
      );
      return null;
    }
    return { kind, sig: l.sig, labels: l.labels };
  }
  const v = l.kind !== 'scalar' ? l : r.kind !== 'scalar' ? r : null;
  if (!v) return { kind: 'scalar' };
  return { kind, sig: v.sig, labels: v.labels };
}

function checkBinary(e: A.BinaryExpr, ctx: ExprContext): Checked | null {
  const left = checkExpr(e.left, ctx);
  const right = checkExpr(e.right, ctx);
  if (!left || !right) return null;
  if (e.op === 'and' || e.op === 'or') {
    for (const [side, c] of [[e.left, left], [e.right, right]] as const) {
      if (c.shape.kind !== 'cond') {
        ctx.errors.push(errorAt('TYPE', `"${e.op}" needs conditions on both sides, got a number (add a comparison such as > 0)`, side.span));
        return null;
      }
    }
    const shape = joinShapes(left, right, e, 'cond', ctx);
    return shape ? { ce: { t: 'logic', op: e.op, left: left.ce, right: right.ce }, shape } : null;
  }
  for (const [side, c] of [[e.left, left], [e.right, right]] as const) {
    if (c.shape.kind === 'cond') {
      ctx.errors.push(errorAt('TYPE', `"${e.op}" needs numbers on both sides, got a condition`, side.span));
      return null;
    }
  }
  const isCmp = e.op !== '+' && e.op !== '-' && e.op !== '*' && e.op !== '/';
  const shape = joinShapes(left, right, e, isCmp ? 'cond' : 'vector', ctx);
  if (!shape) return null;
  if (isCmp) {
    if (shape.kind === 'scalar') {
      ctx.errors.push(errorAt('TYPE', 'a comparison needs an aggregation on at least one side, not only numbers', e.span));
      return null;
    }
    return { ce: { t: 'cmp', op: e.op as Extract<CExpr, { t: 'cmp' }>['op'], left: left.ce, right: right.ce }, shape };
  }
  return { ce: { t: 'arith', op: e.op as '+' | '-' | '*' | '/', left: left.ce, right: right.ce }, shape };
}

/** Checks an expression; pushes errors to ctx and returns null when it is not valid. */
export function checkExpr(e: A.Expr, ctx: ExprContext): Checked | null {
  switch (e.kind) {
    case 'number':
      return { ce: { t: 'num', value: e.value }, shape: { kind: 'scalar' } };
    case 'paren':
      return checkExpr(e.inner, ctx);
    case 'valueRef':
      if (!ctx.value) {
        ctx.errors.push(errorAt('TYPE', '"value" can only be used in a rule that has a value expression', e.span));
        return null;
      }
      return ctx.value;
    case 'selector':
      ctx.errors.push(
        errorAt('TYPE', `a selector must be inside an aggregation, e.g. avg(${text(ctx, e)}) or last(${text(ctx, e)})`, e.span),
      );
      return null;
    case 'call':
      return checkCall(e, ctx);
    case 'binary':
      return checkBinary(e, ctx);
    case 'unary': {
      const arg = checkExpr(e.operand, ctx);
      if (!arg) return null;
      if (e.op === 'not') {
        if (arg.shape.kind !== 'cond') {
          ctx.errors.push(errorAt('TYPE', '"not" needs a condition, got a number', e.operand.span));
          return null;
        }
        return { ce: { t: 'not', arg: arg.ce }, shape: arg.shape };
      }
      if (arg.shape.kind === 'cond') {
        ctx.errors.push(errorAt('TYPE', '"-" needs a number, got a condition', e.operand.span));
        return null;
      }
      if (arg.ce.t === 'num') return { ce: { t: 'num', value: -arg.ce.value }, shape: arg.shape };
      return { ce: { t: 'neg', arg: arg.ce }, shape: arg.shape };
    }
  }
}
