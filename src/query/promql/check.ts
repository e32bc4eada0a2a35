/**
 * The type checks of Prometheus 2.42's parser (promql/parser/parse.go checkAST), on ast.ts
 * nodes: operand and argument types, argument counts, set-operator and bool rules, matchers that
 * could select everything. Throws PromQLSyntaxError at the offending node.
 */
import type * as A from './ast.js';
import { typeOf } from './ast.js';
import { FUNCTIONS } from './function-signatures.js';
import { PromQLSyntaxError } from './syntax-error.js';

const COMPARISON: ReadonlySet<A.BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<=']);
const SET: ReadonlySet<A.BinaryOp> = new Set(['and', 'or', 'unless']);

export const isComparison = (op: A.BinaryOp) => COMPARISON.has(op);
export const isSetOperator = (op: A.BinaryOp) => SET.has(op);

const DOCUMENTED: Record<A.ValueType, string> = { scalar: 'scalar', vector: 'instant vector', matrix: 'range vector', string: 'string' };

function fail(message: string, at: { pos: number }): never {
  throw new PromQLSyntaxError(message, at.pos);
}

function expectType(e: A.Expr, want: A.ValueType, context: string): void {
  const t = typeOf(e);
  if (t !== want) fail(`expected type ${DOCUMENTED[want]} in ${context}, got ${DOCUMENTED[t]}`, e);
}

/** Checks `e` and every node below it. */
export function checkTree(e: A.Expr): void {
  switch (e.kind) {
    case 'aggregate':
      checkTree(e.expr);
      if (e.param) checkTree(e.param);
      expectType(e.expr, 'vector', 'aggregation expression');
      if (e.op === 'topk' || e.op === 'bottomk' || e.op === 'quantile') expectType(e.param!, 'scalar', 'aggregation parameter');
      if (e.op === 'count_values') expectType(e.param!, 'string', 'aggregation parameter');
      return;
    case 'binary':
      return checkBinary(e);
    case 'call':
      return checkCall(e);
    case 'paren':
    case 'step-invariant':
      return checkTree(e.expr);
    case 'unary': {
      checkTree(e.expr);
      const t = typeOf(e.expr);
      if (t !== 'scalar' && t !== 'vector') fail(`unary expression only allowed on expressions of type scalar or instant vector, got "${DOCUMENTED[t]}"`, e);
      return;
    }
    case 'subquery':
      checkTree(e.expr);
      if (typeOf(e.expr) !== 'vector') fail(`subquery is only allowed on instant vector, got ${typeOf(e.expr)} instead`, e);
      return;
    case 'matrix':
      return checkTree(e.selector);
    case 'vector':
      return checkSelector(e);
    default:
      return;
  }
}

function checkSelector(e: A.VectorSelector): void {
  const names = e.matchers.filter((m) => m.name === '__name__' && m.type === '=');
  if (e.name !== undefined && names.length > 1) fail(`metric name must not be set twice: ${JSON.stringify(names[0]!.value)} or ${JSON.stringify(names[1]!.value)}`, e);
  if (!e.matchers.some((m) => !m.matches(''))) fail('vector selector must contain at least one non-empty matcher', e);
}

function checkBinary(e: A.BinaryExpr): void {
  checkTree(e.lhs);
  checkTree(e.rhs);
  const lt = typeOf(e.lhs);
  const rt = typeOf(e.rhs);
  const m = e.matching!;
  if (e.returnBool && !isComparison(e.op)) fail('bool modifier can only be used on comparison operators', e);
  if (isComparison(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') fail('comparisons between scalars must use BOOL modifier', e);
  if (isSetOperator(e.op) && m.card === 'one-to-one') m.card = 'many-to-many';
  for (const l of m.labels) if (m.on && m.include.includes(l)) fail(`label "${l}" must not occur in ON and GROUP clause at once`, e);
  if (lt !== 'scalar' && lt !== 'vector') fail('binary expression must contain only scalar and instant vector types', e.lhs);
  if (rt !== 'scalar' && rt !== 'vector') fail('binary expression must contain only scalar and instant vector types', e.rhs);
  if (lt !== 'vector' || rt !== 'vector') {
    if (m.labels.length > 0 || m.on || m.include.length > 0 || m.card === 'many-to-one' || m.card === 'one-to-many') {
      if (m.labels.length > 0) fail('vector matching only allowed between instant vectors', e);
    }
    e.matching = undefined;
  } else if (isSetOperator(e.op)) {
    if (m.card === 'one-to-many' || m.card === 'many-to-one') fail(`no grouping allowed for "${e.op}" operation`, e);
  }
  if ((lt === 'scalar' || rt === 'scalar') && isSetOperator(e.op)) fail(`set operator "${e.op}" not allowed in binary scalar expression`, e);
}

function checkCall(e: A.Call): void {
  for (const a of e.args) checkTree(a);
  const sig = FUNCTIONS[e.func]!;
  const fixed = sig.args.length;
  if (sig.variadic === 0) {
    if (fixed !== e.args.length) fail(`expected ${fixed} argument(s) in call to "${e.func}", got ${e.args.length}`, e);
  } else {
    const least = fixed - 1;
    if (least > e.args.length) fail(`expected at least ${least} argument(s) in call to "${e.func}", got ${e.args.length}`, e);
    if (sig.variadic > 0 && least + sig.variadic < e.args.length) fail(`expected at most ${least + sig.variadic} argument(s) in call to "${e.func}", got ${e.args.length}`, e);
  }
  e.args.forEach((a, i) => {
    const want = sig.args[Math.min(i, fixed - 1)]!;
    expectType(a, want, `call to function "${e.func}"`);
  });
}
