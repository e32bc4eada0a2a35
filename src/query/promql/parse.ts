/**
 * PromQL text -> checked syntax tree. The Prometheus project's grammar
 * (@prometheus-io/lezer-promql) parses; this module turns its lezer tree into ast.ts nodes and
 * applies the checks of Prometheus 2.42's parser (promql/parser/parse.go checkAST): value types,
 * argument counts, matchers, offset/@ placement. A syntax or type error is a QueryError(400) with
 * the position (`line:col: parse error: ...` as Prometheus prints it); grammar that Vigil does not
 * evaluate (Prometheus 3 experiments: fill modifiers, limitk, anchored/smoothed, duration functions,
 * the functions of UNSUPPORTED_FUNCTIONS) is a QueryError(422) naming it.
 */
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { QueryError } from '../query-error.js';
import type * as A from './ast.js';
import { typeOf, unwrap } from './ast.js';
import { FUNCTIONS, UNSUPPORTED_FUNCTIONS } from './function-signatures.js';
import { newMatcher, type LabelMatcher, type MatchType } from './label-matcher.js';
import { parseDurationMs, parseNumber, unquote } from './literals.js';
import { checkTree } from './check.js';
import { PromQLSyntaxError, toQueryError } from './syntax-error.js';

const AGGREGATE_OPS: ReadonlySet<string> = new Set(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values']);
const BINARY_OPS: Readonly<Record<string, A.BinaryOp>> = {
  Pow: '^', Mul: '*', Div: '/', Mod: '%', Atan2: 'atan2', Add: '+', Sub: '-', Eql: '==', Neq: '!=', Gtr: '>', Lss: '<', Gte: '>=', Lte: '<=', And: 'and', Or: 'or', Unless: 'unless',
};
const MATCH_OPS: Readonly<Record<string, MatchType>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

class Builder {
  constructor(private readonly text: string) {}

  src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  fail(message: string, at: SyntaxNode | number, unsupported = false): never {
    throw new PromQLSyntaxError(message, typeof at === 'number' ? at : at.from, unsupported);
  }

  /** The expression children of `n` (nodes that are not keywords, operators or punctuation). */
  kids(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  expr(n: SyntaxNode): A.Expr {
    const pos = n.from;
    switch (n.name) {
      case 'ParenExpr':
        return { kind: 'paren', expr: this.expr(this.only(n)), pos };
      case 'NumberDurationLiteral':
        return { kind: 'number', value: this.number(n), pos };
      case 'StringLiteral':
        return { kind: 'string', value: this.string(n), pos };
      case 'UnaryExpr': {
        const [op, inner] = this.kids(n);
        const e = this.expr(inner!);
        const sign = this.src(op!) as '-' | '+';
        // Prometheus folds a sign into a number literal.
        if (e.kind === 'number') return { kind: 'number', value: sign === '-' ? -e.value : e.value, pos };
        return { kind: 'unary', op: sign, expr: e, pos };
      }
      case 'VectorSelector':
        return this.vectorSelector(n);
      case 'MatrixSelector':
        return this.matrixSelector(n);
      case 'SubqueryExpr':
        return this.subquery(n);
      case 'OffsetExpr':
        return this.offset(n);
      case 'StepInvariantExpr':
        return this.at(n);
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'AnchoredExpr':
        return this.fail('the "anchored" modifier (a Prometheus 3 experiment)', n.lastChild ?? n, true);
      case 'SmoothedExpr':
        return this.fail('the "smoothed" modifier (a Prometheus 3 experiment)', n.lastChild ?? n, true);
      default:
        return this.fail(`unexpected ${JSON.stringify(this.src(n))}`, n);
    }
  }

  only(n: SyntaxNode): SyntaxNode {
    const k = this.kids(n);
    if (k.length !== 1) this.fail(`unexpected ${JSON.stringify(this.src(n))}`, n);
    return k[0]!;
  }

  number(n: SyntaxNode): number {
    const v = parseNumber(this.src(n));
    if (v === null) this.fail(`bad number or duration syntax: ${JSON.stringify(this.src(n))}`, n);
    return v;
  }

  string(n: SyntaxNode): string {
    try {
      return unquote(this.src(n));
    } catch (err) {
      return this.fail(`error unquoting string ${JSON.stringify(this.src(n))}: ${(err as Error).message}`, n);
    }
  }

  /** A duration expression ([5m], offset 1h, [1h:30s]) in ms; literals and arithmetic on them. */
  duration(n: SyntaxNode): number {
    const k = this.kids(n);
    if (n.name === 'NumberDurationLiteralInDurationContext') {
      const text = this.src(n);
      const ms = parseDurationMs(text);
      if (ms !== null) return ms;
      const seconds = parseNumber(text);
      if (seconds === null || !Number.isFinite(seconds)) this.fail(`bad duration syntax: ${JSON.stringify(text)}`, n);
      return Math.round(seconds * 1000);
    }
    if (n.name === 'DurationExpr' || n.name === 'OffsetDurationExpr') {
      if (k.length === 1) return this.duration(k[0]!);
      if (k.length === 2 && k[0]!.name === 'UnaryOp') return this.src(k[0]!) === '-' ? -this.duration(k[1]!) : this.duration(k[1]!);
      if (k.length === 3 && BINARY_OPS[k[1]!.name]) {
        const a = this.duration(k[0]!);
        const b = this.duration(k[2]!);
        const op = BINARY_OPS[k[1]!.name];
        // Durations are seconds in arithmetic (Prometheus 3 duration expressions).
        const [x, y] = [a / 1000, b / 1000];
        const r = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : op === '%' ? x % y : x ** y;
        return Math.round(r * 1000);
      }
    }
    return this.fail(`duration ${JSON.stringify(this.src(n))} (step(), range(), min_of() and max_of() are Prometheus 3 experiments)`, n, true);
  }

  vectorSelector(n: SyntaxNode): A.VectorSelector {
    let name: string | undefined;
    const matchers: LabelMatcher[] = [];
    for (const c of this.kids(n)) {
      if (c.name === 'Identifier') name = this.src(c);
      else if (c.name === 'LabelMatchers') for (const m of this.kids(c)) matchers.push(this.matcher(m));
      else this.fail(`unexpected ${JSON.stringify(this.src(c))} in a vector selector`, c);
    }
    if (name !== undefined) matchers.push(newMatcher('=', '__name__', name) as LabelMatcher);
    else {
      const eq = matchers.find((m) => m.name === '__name__' && m.type === '=');
      if (eq) name = eq.value;
    }
    return { kind: 'vector', name, matchers, offsetMs: 0, pos: n.from };
  }

  matcher(n: SyntaxNode): LabelMatcher {
    const k = this.kids(n);
    if (n.name === 'QuotedLabelName') {
      // A bare quoted name in braces is the metric name (Prometheus 3 UTF-8 names).
      return newMatcher('=', '__name__', this.string(k[0]!)) as LabelMatcher;
    }
    if ((n.name !== 'UnquotedLabelMatcher' && n.name !== 'QuotedLabelMatcher') || k.length !== 3) this.fail(`unexpected ${JSON.stringify(this.src(n))} in label matching`, n);
    const [labelNode, opNode, valueNode] = k as [SyntaxNode, SyntaxNode, SyntaxNode];
    const label = labelNode.name === 'QuotedLabelName' ? this.string(labelNode.firstChild!) : this.src(labelNode);
    const op = MATCH_OPS[opNode.firstChild?.name ?? ''];
    if (!op) this.fail(`unexpected ${JSON.stringify(this.src(opNode))} in label matching, expected one of "=", "!=", "=~" or "!~"`, opNode);
    const m = newMatcher(op, label, this.string(valueNode));
    if (typeof m === 'string') this.fail(m, n);
    return m;
  }

  /**
   * Applies a postfix modifier (range, subquery, offset, @) to its operand. The lezer grammar gives
   * them the lowest precedence (`a + b[5m:]` parses as `(a + b)[5m:]`); Prometheus' grammar the
   * highest, so the modifier moves down to the rightmost operand of binary and unary expressions.
   */
  postfix(e: A.Expr, apply: (operand: A.Expr) => A.Expr): A.Expr {
    if (e.kind === 'binary') return { ...e, rhs: this.postfix(e.rhs, apply) };
    if (e.kind === 'unary') {
      const inner = this.postfix(e.expr, apply);
      return inner.kind === 'number' ? { ...inner, value: e.op === '-' ? -inner.value : inner.value } : { ...e, expr: inner };
    }
    return apply(e);
  }

  matrixSelector(n: SyntaxNode): A.Expr {
    const [inner, range] = this.kids(n) as [SyntaxNode, SyntaxNode];
    const rangeMs = this.positiveDuration(range);
    return this.postfix(this.expr(inner), (e) => {
      if (e.kind !== 'vector') this.fail('ranges only allowed for vector selectors', n);
      if (e.offsetMs !== 0) this.fail('no offset modifiers allowed before range', n);
      if (e.at) this.fail('no @ modifiers allowed before range', n);
      return { kind: 'matrix', selector: e, rangeMs, pos: e.pos };
    });
  }

  positiveDuration(n: SyntaxNode): number {
    const ms = this.duration(n);
    if (ms <= 0) this.fail(`duration must be greater than 0`, n);
    return ms;
  }

  subquery(n: SyntaxNode): A.Expr {
    const [inner, range, step] = this.kids(n) as [SyntaxNode, SyntaxNode, SyntaxNode | undefined];
    const rangeMs = this.positiveDuration(range);
    const stepMs = step ? this.positiveDuration(step) : 0;
    return this.postfix(this.expr(inner), (expr) => ({ kind: 'subquery', expr, rangeMs, stepMs, offsetMs: 0, pos: expr.pos }));
  }

  /** The selector or subquery an offset/@ applies to (parentheses are not looked through). */
  modifiable(e: A.Expr, what: string, at: SyntaxNode): A.VectorSelector | A.SubqueryExpr {
    if (e.kind === 'vector' || e.kind === 'subquery') return e;
    if (e.kind === 'matrix') return e.selector;
    return this.fail(`${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`, at);
  }

  offset(n: SyntaxNode): A.Expr {
    const [inner, , dur] = this.kids(n) as [SyntaxNode, SyntaxNode, SyntaxNode];
    const offsetMs = this.duration(dur);
    return this.postfix(this.expr(inner), (e) => {
      const target = this.modifiable(e, 'offset', n);
      if (target.offsetMs !== 0) this.fail('offset may not be set multiple times', n);
      target.offsetMs = offsetMs;
      return e;
    });
  }

  at(n: SyntaxNode): A.Expr {
    const k = this.kids(n);
    const value = k[2]!;
    let at: A.TimeModifiers['at'];
    if (value.name === 'AtModifierPreprocessors') at = { edge: this.src(value).startsWith('start') ? 'start' : 'end' };
    else {
      const seconds = this.number(value);
      if (!Number.isFinite(seconds) || Math.abs(seconds) >= 9.2e15) this.fail(`timestamp out of bounds for @ modifier: ${seconds}`, value);
      at = { ms: Math.round(seconds * 1000) };
    }
    return this.postfix(this.expr(k[0]!), (e) => {
      const target = this.modifiable(e, '@', n);
      if (target.at) this.fail('@ <timestamp> may not be set multiple times', n);
      target.at = at;
      return e;
    });
  }

  args(body: SyntaxNode): A.Expr[] {
    return this.kids(body).map((c) => this.expr(c));
  }

  call(n: SyntaxNode): A.Call {
    const [id, body] = this.kids(n) as [SyntaxNode, SyntaxNode];
    const name = this.src(id);
    if (UNSUPPORTED_FUNCTIONS[name]) this.fail(`function "${name}" is ${UNSUPPORTED_FUNCTIONS[name]}`, id, true);
    const sig = FUNCTIONS[name];
    if (!sig) this.fail(`unknown function with name ${JSON.stringify(name)}`, id);
    return { kind: 'call', func: name, args: this.args(body), returnType: sig.returns, pos: n.from };
  }

  grouping(n: SyntaxNode): string[] {
    return this.kids(n).map((c) => (c.name === 'QuotedLabelName' ? this.string(c.firstChild!) : this.src(c)));
  }

  aggregate(n: SyntaxNode): A.AggregateExpr {
    let op: string | undefined;
    let grouping: string[] = [];
    let without = false;
    let args: A.Expr[] = [];
    for (const c of this.kids(n)) {
      if (c.name === 'AggregateOp') op = this.src(c).toLowerCase();
      else if (c.name === 'AggregateModifier') {
        without = c.firstChild?.name === 'Without';
        grouping = this.grouping(c.lastChild!);
      } else if (c.name === 'FunctionCallBody') args = this.args(c);
    }
    if (!op || !AGGREGATE_OPS.has(op)) return this.fail(`aggregation "${op}" (a Prometheus 3 experiment)`, n, true);
    const takesParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const want = takesParam ? 2 : 1;
    if (args.length !== want) this.fail(`wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`, n);
    const expr = args[want - 1]!;
    return { kind: 'aggregate', op: op as A.AggregateOp, expr, param: takesParam ? args[0] : undefined, grouping, without, pos: n.from };
  }

  binary(n: SyntaxNode): A.BinaryExpr {
    const k = this.kids(n);
    const lhs = this.expr(k[0]!);
    const rhs = this.expr(k[k.length - 1]!);
    const op = BINARY_OPS[k[1]!.name];
    if (!op) this.fail(`operator ${JSON.stringify(this.src(k[1]!))} (a Prometheus 3 experiment)`, k[1]!, true);
    let returnBool = false;
    let matching: A.VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };
    for (const c of k.slice(2, -1)) {
      if (c.name === 'BoolModifier') returnBool = true;
      else if (c.name === 'MatchingModifierClause') matching = this.matching(c);
      else if (c.name === 'FillModifier') this.fail('fill modifiers (a Prometheus 3 experiment)', c, true);
    }
    return { kind: 'binary', op, lhs, rhs, returnBool, matching, pos: k[1]!.from };
  }

  matching(n: SyntaxNode): A.VectorMatching {
    const m: A.VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };
    for (const c of this.kids(n)) {
      if (c.name === 'On') m.on = true;
      else if (c.name === 'GroupLeft') m.card = 'many-to-one';
      else if (c.name === 'GroupRight') m.card = 'one-to-many';
      else if (c.name === 'GroupingLabels') {
        if (m.card === 'one-to-one') m.labels = this.grouping(c);
        else m.include = this.grouping(c);
      }
    }
    return m;
  }
}

/** The first syntax error of the lezer tree, as Prometheus would word it. */
function syntaxError(text: string): PromQLSyntaxError | null {
  const tree = parser.parse(text);
  let found: PromQLSyntaxError | null = null;
  tree.iterate({
    enter(node) {
      if (found) return false;
      if (!node.type.isError) return undefined;
      const at = node.from;
      const rest = text.slice(at).trimStart();
      const where = text.length - rest.length;
      const fn = /([a-zA-Z_][a-zA-Z0-9_]*)\s*$/.exec(text.slice(0, where));
      if (rest === '') found = new PromQLSyntaxError('unexpected end of input', text.length, false, true);
      else if (rest[0] === '(' && fn && (fn[1] === 'holt_winters' || !FUNCTIONS[fn[1]!])) {
        const hint = fn[1] === 'holt_winters' ? ' (the grammar Vigil parses with is Prometheus 3\'s: use double_exponential_smoothing, the same function)' : '';
        found = new PromQLSyntaxError(`unknown function with name ${JSON.stringify(fn[1])}${hint}`, fn.index, false, true);
      } else found = new PromQLSyntaxError(`unexpected character: ${JSON.stringify(rest[0])}`, where, false, true);
      return false;
    },
  });
  return found;
}

/** Parses and checks a PromQL expression; throws QueryError (400 syntax/type, 422 unsupported). */
export function parsePromQL(text: string): A.Expr {
  if (text.trim() === '') throw new QueryError('QUERY_PARAM', '1:1: parse error: no expression found in input', 400, 0);
  try {
    const bad = syntaxError(text);
    if (bad) throw bad;
    const top = parser.parse(text).topNode.firstChild;
    if (!top) throw new PromQLSyntaxError('no expression found in input', 0);
    const expr = new Builder(text).expr(top);
    checkTree(expr);
    return expr;
  } catch (err) {
    if (err instanceof PromQLSyntaxError) throw toQueryError(err, text);
    throw err;
  }
}

export { typeOf, unwrap };
