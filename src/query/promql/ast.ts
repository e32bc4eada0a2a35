/**
 * The PromQL syntax tree the evaluator runs: what parse.ts builds from the lezer tree of
 * @prometheus-io/lezer-promql, after Prometheus' own checks (types, argument counts, matchers).
 * Shapes follow prometheus/promql/parser/ast.go; positions are 0-based offsets into the query.
 */
import type { LabelMatcher } from './label-matcher.js';

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** `on`/`ignoring` + `group_left`/`group_right` of a binary operation between two vectors. */
export interface VectorMatching {
  card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** `on(...)` when true, `ignoring(...)` (or nothing) when false. */
  on: boolean;
  labels: string[];
  /** The labels of `group_left(...)` / `group_right(...)`. */
  include: string[];
}

/** Time modifiers of a selector or subquery: `offset` and `@` (a timestamp or start()/end()). */
export interface TimeModifiers {
  /** `offset` in ms as written (negative allowed). */
  offsetMs: number;
  /** `@ <t>` in ms, or the preprocessor to resolve at evaluation. */
  at?: { ms: number } | { edge: 'start' | 'end' };
}

export interface VectorSelector extends TimeModifiers {
  kind: 'vector';
  /** The metric name when written as an identifier or `__name__="x"`. */
  name?: string;
  matchers: LabelMatcher[];
  pos: number;
}

export interface MatrixSelector {
  kind: 'matrix';
  selector: VectorSelector;
  rangeMs: number;
  pos: number;
}

export interface SubqueryExpr extends TimeModifiers {
  kind: 'subquery';
  expr: Expr;
  rangeMs: number;
  /** 0 when not written (the default step: the query's own for Prometheus 2.x's 1m default fn). */
  stepMs: number;
  pos: number;
}

export interface NumberLiteral {
  kind: 'number';
  value: number;
  pos: number;
}

export interface StringLiteral {
  kind: 'string';
  value: string;
  pos: number;
}

export type AggregateOp = 'sum' | 'avg' | 'count' | 'min' | 'max' | 'group' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'quantile' | 'count_values';

export interface AggregateExpr {
  kind: 'aggregate';
  op: AggregateOp;
  expr: Expr;
  param?: Expr;
  grouping: string[];
  without: boolean;
  pos: number;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2' | '==' | '!=' | '>' | '<' | '>=' | '<=' | 'and' | 'or' | 'unless';

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /** Set when both sides are instant vectors. */
  matching?: VectorMatching;
  pos: number;
}

export interface Call {
  kind: 'call';
  func: string;
  args: Expr[];
  returnType: ValueType;
  pos: number;
}

export interface UnaryExpr {
  kind: 'unary';
  op: '-' | '+';
  expr: Expr;
  pos: number;
}

export interface ParenExpr {
  kind: 'paren';
  expr: Expr;
  pos: number;
}

/** A part of the query whose value is the same at every step (inserted by the preprocessor). */
export interface StepInvariantExpr {
  kind: 'step-invariant';
  expr: Expr;
  pos: number;
}

export type Expr =
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | NumberLiteral
  | StringLiteral
  | AggregateExpr
  | BinaryExpr
  | Call
  | UnaryExpr
  | ParenExpr
  | StepInvariantExpr;

/** The value type of an expression (Prometheus' Expr.Type()). */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'vector':
    case 'aggregate':
      return 'vector';
    case 'matrix':
    case 'subquery':
      return 'matrix';
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'call':
      return e.returnType;
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
    case 'unary':
    case 'paren':
    case 'step-invariant':
      return typeOf(e.expr);
  }
}

/** The expression without enclosing parentheses and step-invariant wrappers. */
export function unwrap(e: Expr): Expr {
  while (e.kind === 'paren' || e.kind === 'step-invariant') e = e.expr;
  return e;
}

/** Child expressions in evaluation order. */
export function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'matrix':
      return [e.selector];
    case 'subquery':
    case 'unary':
    case 'paren':
    case 'step-invariant':
      return [e.expr];
    case 'aggregate':
      return e.param ? [e.param, e.expr] : [e.expr];
    case 'binary':
      return [e.lhs, e.rhs];
    case 'call':
      return e.args;
    default:
      return [];
  }
}
