/**
 * Compiler: checked rules -> the plan the rules runtime executes. The plan lists, per rule, the
 * aggregations that read samples ("leaves", the innermost aggregation of a nesting, and absent()),
 * and indexes leaves by metric name so each sample touches only the rules that can match it.
 */
import type { AggFn, CExpr, CheckedGrouping, CheckedMatcher, CheckedRule, CheckedRules, CheckedSelector } from './model.js';

/** How a leaf groups samples: a rule grouping, one group (null), or one group per series (inside a nesting). */
export type LeafGrouping = CheckedGrouping | null | 'series';

export interface Leaf {
  /** Id of the aggregation / absent() in its rule's expressions. */
  id: number;
  rule: PlanRule;
  kind: 'agg' | 'absent';
  fn: AggFn;
  q: number | null;
  sel: CheckedSelector;
  grouping: LeafGrouping;
  /** Source text of the aggregation (names its value in alert event inputs). */
  text: string;
  /**
   * Groupings from this leaf's own to its outermost aggregation: applied in order to a series'
   * labels they give the labels of the rule-level group the series feeds (the repartition key).
   */
  chain: LeafGrouping[];
}

export interface PlanRule {
  index: number;
  rule: CheckedRule;
  leaves: Leaf[];
}

export interface Plan {
  rules: PlanRule[];
  /** Leaves by selected metric name. */
  byMetric: Map<string, Leaf[]>;
}

/** `outer`: groupings of the enclosing aggregations, innermost first (empty at the top level). */
function collectLeaves(e: CExpr | null, pr: PlanRule, outer: LeafGrouping[], seen: Set<number>): void {
  if (!e) return;
  const nested = outer.length > 0;
  switch (e.t) {
    case 'agg':
      if (e.sel) {
        if (seen.has(e.id)) return;
        seen.add(e.id);
        const grouping: LeafGrouping = nested && !e.grouping ? 'series' : e.grouping;
        pr.leaves.push({ id: e.id, rule: pr, kind: 'agg', fn: e.fn, q: e.q, sel: e.sel, grouping, text: e.text, chain: [grouping, ...outer] });
      } else collectLeaves(e.inner, pr, [e.grouping, ...outer], seen);
      return;
    case 'absent':
      if (seen.has(e.id)) return;
      seen.add(e.id);
      pr.leaves.push({ id: e.id, rule: pr, kind: 'absent', fn: 'count', q: null, sel: e.sel, grouping: e.grouping, text: e.text, chain: [e.grouping] });
      return;
    case 'fn':
    case 'not':
    case 'neg':
      collectLeaves(e.arg, pr, outer, seen);
      return;
    case 'arith':
    case 'cmp':
    case 'logic':
      collectLeaves(e.left, pr, outer, seen);
      collectLeaves(e.right, pr, outer, seen);
      return;
    case 'num':
      return;
  }
}

/** Compiles checked rules into a plan (pure; no I/O). */
export function compilePlan(model: Pick<CheckedRules, 'rules'>): Plan {
  const rules: PlanRule[] = [];
  const byMetric = new Map<string, Leaf[]>();
  model.rules.forEach((rule, index) => {
    const pr: PlanRule = { index, rule, leaves: [] };
    const seen = new Set<number>();
    for (const e of [rule.value, rule.when, ...rule.levels.map((l) => l.cond), rule.clear]) collectLeaves(e, pr, [], seen);
    for (const leaf of pr.leaves) {
      let list = byMetric.get(leaf.sel.metric);
      if (!list) byMetric.set(leaf.sel.metric, (list = []));
      list.push(leaf);
    }
    rules.push(pr);
  });
  return { rules, byMetric };
}

/** True when the series' labels satisfy every matcher (a missing label is the empty string). */
export function matchesAll(matchers: CheckedMatcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) {
    const v = labels[m.label] ?? '';
    switch (m.op) {
      case '=':
        if (v !== m.value) return false;
        break;
      case '!=':
        if (v === m.value) return false;
        break;
      case '=~':
        if (!m.regex!.test(v)) return false;
        break;
      case '!~':
        if (m.regex!.test(v)) return false;
        break;
    }
  }
  return true;
}
