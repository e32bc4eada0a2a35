/**
 * One rule at one window close: its expressions over the window's columns (`evaluate` with the
 * leaves read from the rule's LeafStates), then, for alert rules, the state machine per group and
 * the events of the transitions; recording rules give one sample per group. Time is the window's
 * end, passed in.
 */
import type { CExpr } from '../dsl/model.js';
import type { AlertEvent, Sample } from '../model/types.js';
import { alertEvent } from './alert-event.js';
import { initialState, stepAlert, type AlertPhase } from './alert-state.js';
import { collectInputs, compare, evaluate, type Entry, type LeafSource, type Result } from './evaluate.js';
import { SEP, type RuleRuntime } from './rule-runtime.js';

export interface EngineOutput {
  events: AlertEvent[];
  /** Recording rule samples (timestamp = window end). */
  recorded: Sample[];
}

/** What `alertStates` reports for one group of an alert rule. */
export interface AlertView {
  phase: AlertPhase;
  level: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  activeSince: number;
}

export interface EngineCounters {
  samples: number;
  late: number;
  divByZero: number;
  evaluations: number;
}

/** What an evaluation reads from and writes to its engine. */
export interface EvaluationContext {
  /** Store entries changed (alert states, forgotten absent() keys). */
  readonly dirty: Map<string, unknown>;
  readonly counters: EngineCounters;
  /** The task's watermark (in events). */
  readonly watermark: number;
}

/** Evaluates rule `rt` over the window [start, end) into `out`. */
export function evaluateWindow(rt: RuleRuntime, start: number, end: number, ctx: EvaluationContext, out: EngineOutput): void {
  const rule = rt.pr.rule;
  const src = leafSource(rt, start, end, ctx);
  const cache = new Map<unknown, Result>() as Map<never, Result>;
  if (rule.kind === 'record') {
    const r = evaluate(rule.value!, src, cache);
    if (r.k !== 'v') return;
    for (const en of r.m.values()) {
      if (en.value === null) continue;
      out.recorded.push({ name: rule.name, labels: { ...en.labels, ...rule.labels }, timestamp: end, value: en.value, kind: 'GAUGE' });
    }
  } else evaluateAlert(rt, start, end, ctx, src, cache, out);
}

/**
 * Fast path for the common `aggregation <op> number` condition: reads the window's slots directly
 * and keeps only groups where the condition holds or that have alert state (the others cannot
 * change anything), so a close over a million groups allocates little.
 */
function sparseWhen(rt: RuleRuntime, start: number, e: CExpr): Map<string, Entry> | null {
  if (e.t !== 'cmp') return null;
  const leftAgg = e.left.t === 'agg' && e.left.sel !== null && e.right.t === 'num';
  const rightAgg = e.right.t === 'agg' && e.right.sel !== null && e.left.t === 'num';
  if (!leftAgg && !rightAgg) return null;
  const agg = (leftAgg ? e.left : e.right) as Extract<CExpr, { t: 'agg' }>;
  const c = ((leftAgg ? e.right : e.left) as Extract<CExpr, { t: 'num' }>).value;
  const out = new Map<string, Entry>();
  const ls = rt.leaves.get(agg.id)!;
  const w = ls.windows.get(start);
  if (!w) return out;
  const windowMs = rt.pr.rule.windowMs;
  const alerts = rt.alerts;
  for (const g of w.groups()) {
    const v = w.value(g, agg.q, windowMs);
    if (v === null) continue;
    const truth = leftAgg ? compare(e.op, v, c) : compare(e.op, c, v);
    const key = ls.groupKeys[g]!;
    if (!truth && (alerts.size === 0 || !alerts.has(key))) continue;
    const labels = ls.groupLabels[g]!;
    out.set(key, { labels, value: v, truth, thr: c, a: { labels, value: v, name: agg.text, iv: v } });
  }
  return out;
}

function leafSource(rt: RuleRuntime, start: number, end: number, ctx: EvaluationContext): LeafSource {
  const rule = rt.pr.rule;
  return {
    agg: (id) => {
      const ls = rt.leaves.get(id)!;
      const out = new Map<string, Entry>();
      const w = ls.windows.get(start);
      if (!w) return out;
      const { text, q } = ls.leaf;
      for (const g of w.groups()) {
        const v = w.value(g, q, rule.windowMs);
        if (v !== null) out.set(ls.groupKeys[g]!, { labels: ls.groupLabels[g]!, value: v, name: text, iv: v });
      }
      return out;
    },
    absent: (id) => {
      const out = new Map<string, Entry>();
      const known = rt.known.get(id);
      if (!known) return out;
      const ls = rt.leaves.get(id)!;
      const present = ls.windows.get(start);
      for (const [key, k] of known) {
        if (end - k.lastSeen >= rule.forgetMs) {
          known.delete(key);
          ctx.dirty.set(`k${SEP}${rt.prefix}${id}${SEP}${key}`, null);
          continue;
        }
        if (present?.has(ls.slotOf(key))) out.set(key, { labels: k.labels, value: null, truth: false });
        else {
          // Absent = silent for the rule's `for` (contract); the alert then fires at once (since = last seen).
          const truth = end - k.lastSeen >= rule.forMs;
          out.set(key, { labels: k.labels, value: null, truth, since: k.lastSeen, name: 'seconds_since_last_sample', iv: (end - k.lastSeen) / 1000 });
        }
      }
      return out;
    },
    onDivByZero: () => {
      ctx.counters.divByZero++;
    },
  };
}

function evaluateAlert(rt: RuleRuntime, start: number, end: number, ctx: EvaluationContext, src: LeafSource, cache: Map<never, Result>, out: EngineOutput): void {
  const rule = rt.pr.rule;
  const asMap = (r: Result | null) => (r && r.k === 'v' ? r.m : new Map<string, Entry>());
  const when = rule.when ? (sparseWhen(rt, start, rule.when) ?? asMap(evaluate(rule.when, src, cache))) : null;
  const levels = rule.levels.map((l) => ({ name: l.name, m: asMap(evaluate(l.cond, src, cache)) }));
  const clear = rule.clear ? asMap(evaluate(rule.clear, src, cache)) : null;
  const value = rule.value ? asMap(evaluate(rule.value, src, cache)) : null;
  const levelNames = rule.levels.map((l) => l.name);
  const visit = (key: string) => {
    let entry: Entry | undefined;
    let top: string | null = null;
    let holds = false;
    if (when) {
      entry = when.get(key);
      holds = entry?.truth === true;
    } else {
      for (const l of levels) {
        const e = l.m.get(key);
        if (e?.truth) {
          top = l.name;
          holds = true;
          entry = e;
        }
      }
      entry ??= levels.map((l) => l.m.get(key)).find((e) => e !== undefined);
    }
    const valueEntry = value?.get(key) ?? entry;
    let st = rt.alerts.get(key);
    const group = entry?.labels ?? valueEntry?.labels ?? clear?.get(key)?.labels ?? st?.group ?? {};
    if (!st) {
      if (!holds) return;
      rt.alerts.set(key, (st = initialState(group)));
    }
    st.group = group;
    const val = valueEntry?.value ?? null;
    if (val !== null || holds) st.value = val;
    const transition = stepAlert(st, {
      now: end,
      holds,
      top: when ? rule.severity : top,
      lowest: levelNames[0] ?? null,
      levels: levelNames,
      hasClear: clear !== null,
      clearHolds: clear?.get(key)?.truth === true,
      since: entry?.since ?? null,
      forMs: rule.forMs,
      keepFiringMs: rule.keepFiringMs,
    });
    if (transition) {
      const inputs = collectInputs(clear?.get(key), collectInputs(entry, collectInputs(valueEntry)));
      out.events.push(alertEvent(rule, st, transition, start, end, inputs, ctx.watermark));
    }
    const ak = `a${SEP}${rt.prefix}${key}`;
    if (st.phase === 'inactive' && st.sequence === 0) {
      rt.alerts.delete(key);
      ctx.dirty.set(ak, null);
    } else ctx.dirty.set(ak, st);
  };
  // Every group with a result, then groups with state that have none this window (condition false).
  const primary = when ?? levels[0]?.m ?? new Map<string, Entry>();
  for (const key of primary.keys()) visit(key);
  const others = [...levels.slice(1).map((l) => l.m), ...(clear ? [clear] : [])];
  for (const m of others) for (const key of m.keys()) if (!primary.has(key) && !others.slice(0, others.indexOf(m)).some((o) => o.has(key))) visit(key);
  for (const key of [...rt.alerts.keys()]) if (!primary.has(key) && !others.some((o) => o.has(key))) visit(key);
}
