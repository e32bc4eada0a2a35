/**
 * Helpers the grammar's postprocessors call to build AST nodes with spans. Private to src/dsl.
 * `currentFile` is set by the parser glue before each (synchronous) parse.
 */
import type * as A from './ast.js';
import type { Span } from './span.js';
import type { Token } from './lexer.js';
import { parseDurationMs } from './duration.js';

let currentFile = '<input>';

export function setCurrentFile(file: string): void {
  currentFile = file;
}

type Spanned = Token | { span: Span };

function isToken(x: Spanned): x is Token {
  return (x as Token).text !== undefined && (x as { span?: Span }).span === undefined;
}

/** The span of a token or node. */
export function sp(x: Spanned): Span {
  if (isToken(x)) return { file: currentFile, offset: x.offset, line: x.line, col: x.col, end: x.offset + x.text.length };
  return x.span;
}

/** The span from the start of `a` to the end of `b`. */
export function over(a: Spanned, b: Spanned): Span {
  const s = sp(a);
  const e = sp(b);
  return { file: s.file, offset: s.offset, line: s.line, col: s.col, end: Math.max(s.end, e.end) };
}

export function ident(t: Token): A.Ident {
  return { kind: 'ident', name: t.value, span: sp(t) };
}

export function str(t: Token): A.StringLit {
  return { kind: 'string', value: (t as Token & { decoded: string }).decoded, span: sp(t) };
}

export function dur(t: Token): A.DurationLit {
  return { kind: 'duration', text: t.text, ms: parseDurationMs(t.text), span: sp(t) };
}

export function num(t: Token): A.NumberExpr {
  const v = t.value === 'NaN' ? NaN : t.value === 'Inf' ? Infinity : Number(t.value);
  return { kind: 'number', value: v, span: sp(t) };
}

/** Words that cannot name a metric in an expression or a function (keeps the grammar unambiguous). */
export const RESERVED = new Set(['value', 'not', 'and', 'or', 'by', 'without', 'NaN', 'Inf', 'when']);

/** Channel kinds of a receiver: a receiver option may not use these names. */
export const CHANNELS = new Set(['email', 'pagerduty', 'webhook']);

/** Flattens `x ("," x)*` as nearley hands it over: [first, [[",", x], ...]]. */
export function list<T>(first: T, rest: unknown[][]): T[] {
  return [first, ...rest.map((r) => r[r.length - 1] as T)];
}

export function binary(left: A.Expr, op: Token, right: A.Expr): A.BinaryExpr {
  return { kind: 'binary', op: op.value as A.BinaryOp, left, right, span: over(left, right) };
}
