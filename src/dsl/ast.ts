/**
 * AST of the rules language, as the parser produces it: every node keeps its source span.
 * Declarations keep their settings as a list of items in source order; the checker
 * (check.ts) validates them and produces the normalized, checked model (model.ts).
 */
import type { Span } from './span.js';

export type { Span } from './span.js';

/** A word or literal with where it was written. */
export interface Ident {
  kind: 'ident';
  name: string;
  span: Span;
}

export interface StringLit {
  kind: 'string';
  value: string;
  span: Span;
}

export interface DurationLit {
  kind: 'duration';
  text: string;
  ms: number;
  span: Span;
}

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** `label op "value"` in a selector, a route's `match`, or an inhibit's `source`/`target`. */
export interface MatcherNode {
  kind: 'matcher';
  label: Ident;
  op: MatchOp;
  value: StringLit;
  span: Span;
}

/** `name = "value"` in `labels { }` and `annotations { }`. */
export interface PairNode {
  kind: 'pair';
  key: Ident;
  value: StringLit;
  span: Span;
}

// ---- expressions ----

export interface NumberExpr {
  kind: 'number';
  value: number;
  span: Span;
}

/** The rule's `value` expression, referenced from level conditions. */
export interface ValueRefExpr {
  kind: 'valueRef';
  span: Span;
}

export interface SelectorExpr {
  kind: 'selector';
  metric: Ident;
  matchers: MatcherNode[];
  span: Span;
}

export interface Grouping {
  mode: 'by' | 'without';
  labels: Ident[];
  span: Span;
}

/** `name(args) [by|without (labels)]`: aggregations, absent(), value functions. */
export interface CallExpr {
  kind: 'call';
  name: Ident;
  args: Expr[];
  grouping: Grouping | null;
  span: Span;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '>' | '>=' | '<' | '<=' | '==' | '!=' | 'and' | 'or';

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
  span: Span;
}

export interface UnaryExpr {
  kind: 'unary';
  op: '-' | 'not';
  operand: Expr;
  span: Span;
}

export interface ParenExpr {
  kind: 'paren';
  inner: Expr;
  span: Span;
}

export type Expr = NumberExpr | ValueRefExpr | SelectorExpr | CallExpr | BinaryExpr | UnaryExpr | ParenExpr;

// ---- rule items ----

export type RuleItem =
  | { kind: 'when'; expr: Expr; span: Span }
  | { kind: 'value'; expr: Expr; span: Span }
  | { kind: 'level'; level: Ident; expr: Expr; span: Span }
  | { kind: 'window'; size: DurationLit; every: DurationLit | null; span: Span }
  | { kind: 'grace'; value: DurationLit; span: Span }
  | { kind: 'for'; value: DurationLit; span: Span }
  | { kind: 'keep_firing'; value: DurationLit; span: Span }
  | { kind: 'forget'; value: DurationLit; span: Span }
  | { kind: 'severity'; value: Ident | StringLit; span: Span }
  | { kind: 'labels'; pairs: PairNode[]; span: Span }
  | { kind: 'annotations'; pairs: PairNode[]; span: Span };

/** A value in a receiver option: a literal or `env("NAME")`, read when the notifier starts. */
export type OptionValue =
  | StringLit
  | DurationLit
  | NumberExpr
  | Ident
  | { kind: 'env'; name: StringLit; span: Span };

export interface ReceiverOption {
  kind: 'option';
  key: Ident;
  values: OptionValue[];
  span: Span;
}

/** One delivery channel of a receiver: `email to "a", "b"`, `pagerduty routing_key env("K")`, `webhook url "..."`. */
export interface ChannelNode {
  kind: 'channel';
  type: Ident;
  options: ReceiverOption[];
  span: Span;
}

export type RouteItem =
  | { kind: 'match'; matchers: MatcherNode[]; span: Span }
  | { kind: 'notify'; receivers: Ident[]; span: Span }
  | { kind: 'group_by'; labels: Ident[]; span: Span }
  | { kind: 'group_wait' | 'group_interval' | 'repeat_interval'; value: DurationLit; span: Span }
  | { kind: 'continue'; span: Span };

export type InhibitItem =
  | { kind: 'source' | 'target'; matchers: MatcherNode[]; span: Span }
  | { kind: 'equal'; labels: Ident[]; span: Span };

// ---- declarations ----

export interface DefaultsDecl {
  kind: 'defaults';
  items: RuleItem[];
  span: Span;
}

export interface AlertDecl {
  kind: 'alert';
  name: Ident;
  items: RuleItem[];
  span: Span;
}

export interface RecordDecl {
  kind: 'record';
  name: Ident;
  items: RuleItem[];
  span: Span;
}

export interface ReceiverDecl {
  kind: 'receiver';
  name: Ident;
  channels: ChannelNode[];
  span: Span;
}

export interface RouteDecl {
  kind: 'route';
  items: RouteItem[];
  span: Span;
}

export interface InhibitDecl {
  kind: 'inhibit';
  items: InhibitItem[];
  span: Span;
}

export type Decl = DefaultsDecl | AlertDecl | RecordDecl | ReceiverDecl | RouteDecl | InhibitDecl;

/** One parsed `.rules` file. `source` is its full text (for printing error lines and hashing rules). */
export interface RulesFile {
  kind: 'file';
  file: string;
  source: string;
  decls: Decl[];
}
