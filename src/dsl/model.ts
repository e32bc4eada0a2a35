/**
 * The checked model of a set of rules files: what the checker returns when there are no errors and
 * what the compiler, the rules runtime and the notifier consume. All durations are milliseconds.
 */
import type { Span } from './span.js';
import type { TemplatePart } from './template.js';
import type { MatchOp } from './ast.js';
import type { MatcherRegex } from './regex.js';

export interface CheckedMatcher {
  label: string;
  op: MatchOp;
  value: string;
  /** Anchored regex for `=~` / `!~`. */
  regex: MatcherRegex | null;
}

export interface CheckedSelector {
  metric: string;
  matchers: CheckedMatcher[];
  text: string;
}

export interface CheckedGrouping {
  mode: 'by' | 'without';
  labels: string[];
}

export const AGGREGATIONS = [
  'avg', 'sum', 'min', 'max', 'count', 'last', 'first', 'stddev',
  'quantile', 'p50', 'p90', 'p95', 'p99',
  'rate', 'increase', 'delta', 'count_series',
] as const;
export type AggFn = (typeof AGGREGATIONS)[number];

export const VALUE_FUNCTIONS = ['abs', 'clamp_min', 'clamp_max', 'round'] as const;
export type ValueFn = (typeof VALUE_FUNCTIONS)[number];

/**
 * Checked expressions. `agg` over a selector aggregates samples of the window; `agg` over an inner
 * `agg` re-aggregates the inner groups' values in the same window (an inner aggregation without
 * grouping keeps one group per series). `id` numbers aggregations and absent() within a rule.
 */
export type CExpr =
  | { t: 'num'; value: number }
  | { t: 'agg'; id: number; fn: AggFn; q: number | null; sel: CheckedSelector | null; inner: CExpr | null; grouping: CheckedGrouping | null; text: string }
  | { t: 'absent'; id: number; sel: CheckedSelector; grouping: CheckedGrouping | null; text: string }
  | { t: 'fn'; fn: ValueFn; arg: CExpr; params: number[] }
  | { t: 'arith'; op: '+' | '-' | '*' | '/'; left: CExpr; right: CExpr }
  | { t: 'cmp'; op: '>' | '>=' | '<' | '<=' | '==' | '!='; left: CExpr; right: CExpr }
  | { t: 'logic'; op: 'and' | 'or'; left: CExpr; right: CExpr }
  | { t: 'not'; arg: CExpr }
  | { t: 'neg'; arg: CExpr };

export interface CheckedLevel {
  name: string;
  cond: CExpr;
}

/** An alert or recording rule, normalized (defaults applied). */
export interface CheckedRule {
  kind: 'alert' | 'record';
  name: string;
  file: string;
  span: Span;
  nameSpan: Span;
  /** Hash of the rule's source text plus the defaults it uses: changes iff its meaning may change. */
  hash: string;
  windowMs: number;
  /** Evaluation step: `every` for hopping windows, else the window size. */
  stepMs: number;
  graceMs: number;
  forMs: number;
  keepFiringMs: number;
  forgetMs: number;
  /** Defaults labels, then rule labels, then severity (alerts). */
  labels: Record<string, string>;
  severity: string | null;
  annotations: Record<string, TemplatePart[]>;
  /** `value` expression (records; multi-level alerts); null otherwise. */
  value: CExpr | null;
  /** `when` condition (single-level alerts), with `value` references resolved. */
  when: CExpr | null;
  /** Levels in source order; a later level is higher. */
  levels: CheckedLevel[];
  clear: CExpr | null;
  /** Group labels of the rule's result when known (`by`), else null. */
  groupLabels: string[] | null;
  /** Metrics the rule selects. */
  metrics: string[];
}

export interface ValueSource {
  literal?: string;
  env?: string;
}

export type CheckedChannel =
  | { type: 'email'; to: string[]; from: string | null; subject: string | null; sendResolved: boolean }
  | { type: 'pagerduty'; routingKey: ValueSource; url: ValueSource | null; sendResolved: boolean }
  | { type: 'webhook'; url: ValueSource; sendResolved: boolean };

export interface CheckedReceiver {
  name: string;
  file: string;
  span: Span;
  channels: CheckedChannel[];
}

/** A route; routes are tried in the order of the files given, then source order. */
export interface CheckedRoute {
  file: string;
  span: Span;
  matchers: CheckedMatcher[];
  receivers: string[];
  /** null = no `group by` (Alertmanager: group by all labels is `...`; here: by alertname). */
  groupBy: string[] | null;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  continue: boolean;
}

export interface CheckedInhibit {
  file: string;
  span: Span;
  source: CheckedMatcher[];
  target: CheckedMatcher[];
  equal: string[];
}

export interface CheckedRules {
  rules: CheckedRule[];
  receivers: CheckedReceiver[];
  routes: CheckedRoute[];
  inhibits: CheckedInhibit[];
}

/** Alertmanager's defaults for routes without explicit timers. */
export const ROUTE_DEFAULTS = { groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 4 * 3_600_000 };
export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_FORGET_MS = 24 * 3_600_000;
