/**
 * The runtime state of one rule on one engine: its leaves (groups, series and open windows), the
 * absent() bookkeeping, the alert states per group and where its evaluation stands. Kept across a
 * hot reload when the rule's name and hash do not change.
 */
import type { PlanRule } from '../dsl/compile.js';
import type { AlertState } from './alert-state.js';
import { LeafState } from './leaf-state.js';

/** Separator of the parts of a store key (rule name and hash, leaf, window start, group). */
export const SEP = '\u0000';

/** absent(): a group that was seen, and when last. */
export interface Known {
  labels: Record<string, string>;
  lastSeen: number;
}

/** Runtime state of one rule. */
export interface RuleRuntime {
  pr: PlanRule;
  /** leaf id -> groups, series and open windows of that leaf. */
  leaves: Map<number, LeafState>;
  /** absent() leaf id -> group key -> last seen. */
  known: Map<number, Map<string, Known>>;
  alerts: Map<string, AlertState>;
  nextEnd: number | null;
  lastEvaluatedEnd: number;
  /** Store key prefix: rule name and hash. */
  prefix: string;
}

/** A fresh runtime (no windows, no alert state). */
export function newRuntime(pr: PlanRule): RuleRuntime {
  const prefix = `${pr.rule.name}${SEP}${pr.rule.hash}${SEP}`;
  return { pr, leaves: new Map(pr.leaves.map((l) => [l.id, new LeafState(l)])), known: new Map(), alerts: new Map(), nextEnd: null, lastEvaluatedEnd: -Infinity, prefix };
}

/** Whether the next window end must be evaluated even if no sample arrives (data, live alerts, known absent keys). */
export function needsEvaluation(rt: RuleRuntime): boolean {
  for (const ls of rt.leaves.values()) if (ls.windows.size > 0) return true;
  for (const m of rt.known.values()) if (m.size > 0) return true;
  for (const a of rt.alerts.values()) if (a.phase === 'pending' || a.phase === 'firing') return true;
  return false;
}
