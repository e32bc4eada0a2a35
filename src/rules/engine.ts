/**
 * RulesEngine: the evaluation core of the rules on one task (one input partition). It receives
 * samples, aggregates them per (rule aggregation, window, group), evaluates every rule at each
 * window close (window end = "now", passed in through `advance(streamTime)`), runs the alert state
 * machine per (rule, group) and returns alert events and recorded samples. It never reads a clock.
 *
 * Windows: epoch-aligned, size = rule window, one window ends every `step` (= every, or the size).
 * A window [start, end) closes when stream time >= end + grace; samples for closed windows are late
 * (returned as such, never added). Hot reload (`reload`) keeps the windows and alert states of rules
 * whose name and hash did not change.
 */
import type { CExpr, CheckedRule, CheckedRules } from '../dsl/model.js';
import { compilePlan, matchesAll, type Leaf, type Plan, type PlanRule } from '../dsl/compile.js';
import { canonicalLabels } from '../model/series.js';
import type { AlertEvent, Sample } from '../model/types.js';
import { alertAnnotations, alertEvent, alertLabels } from './alert-event.js';
import { accAdd, accFromJSON, accToJSON, accValue, newAcc, type Acc } from './aggregators.js';
import { initialState, stepAlert, type AlertPhase, type AlertState } from './alert-state.js';
import { collectInputs, compare, evaluate, groupKeyOf, type Entry, type LeafSource, type Result } from './evaluate.js';

/** The identity of a series as the engine needs it (a SeriesInfo satisfies it). */
export interface SeriesRef {
  /** Stable unique key of the series (e.g. SeriesInfo.key). */
  key: string;
  /**
   * Dense index of the series (SeriesInfo.ref): a faster cache key. All refs given to one engine
   * must come from the same SeriesTable.
   */
  ref?: number;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** One group of one aggregation in one window. */
class Slot {
  /** Queued for persistence. */
  d = false;
  /** The window was evaluated and dropped. */
  dead = false;
  constructor(
    readonly labels: Record<string, string>,
    readonly acc: Acc,
    /** Store key (persistence). */
    readonly k: string,
  ) {}
  toJSON(): unknown {
    return { labels: this.labels, acc: accToJSON(this.acc) };
  }
}

interface Known {
  labels: Record<string, string>;
  lastSeen: number;
}

/** Runtime state of one rule. */
interface RuleRuntime {
  pr: PlanRule;
  /** leaf id -> window start -> group key -> slot. */
  windows: Map<number, Map<number, Map<string, Slot>>>;
  /** absent() leaf id -> group key -> last seen. */
  known: Map<number, Map<string, Known>>;
  alerts: Map<string, AlertState>;
  nextEnd: number | null;
  lastEvaluatedEnd: number;
  /** Store key prefix: rule name and hash. */
  prefix: string;
}

const SEP = '\u0000';

interface Route {
  leaf: Leaf;
  rt: RuleRuntime;
  key: string;
  labels: Record<string, string>;
  /** Last slot written (tumbling fast path) and its window start. */
  slot: Slot | null;
  slotStart: number;
  /** Canonical labels of the rule-level group this series feeds (repartition key). */
  pkey: string;
}

/** The rule-level group labels a series feeds: the leaf's groupings applied innermost first. */
function partitionKeyOf(labels: Readonly<Record<string, string>>, chain: Leaf['chain']): string {
  let l = labels as Record<string, string>;
  for (const g of chain) if (g !== 'series') l = groupKeyOf(l, g)[1];
  return canonicalLabels(l);
}

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

export class RulesEngine {
  private plan!: Plan;
  private rules = new Map<string, RuleRuntime>();
  private routes = new Map<string, Route[]>();
  private routesByRef: Route[][] = [];
  readonly counters: EngineCounters = { samples: 0, late: 0, divByZero: 0, evaluations: 0 };
  /** Stream time of the last `advance`. */
  watermark = -Infinity;

  constructor(model: Pick<CheckedRules, 'rules'>) {
    this.load(model);
  }

  private newRuntime(pr: PlanRule): RuleRuntime {
    const prefix = `${pr.rule.name}${SEP}${pr.rule.hash}${SEP}`;
    return { pr, windows: new Map(), known: new Map(), alerts: new Map(), nextEnd: null, lastEvaluatedEnd: -Infinity, prefix };
  }

  /** Marks every persisted entry of a rule runtime for deletion. */
  private forget(rt: RuleRuntime): void {
    for (const [leafId, byStart] of rt.windows) for (const [start, groups] of byStart) for (const gk of groups.keys()) this.dirty.set(`w${SEP}${rt.prefix}${leafId}${SEP}${start}${SEP}${gk}`, null);
    for (const [leafId, m] of rt.known) for (const gk of m.keys()) this.dirty.set(`k${SEP}${rt.prefix}${leafId}${SEP}${gk}`, null);
    for (const gk of rt.alerts.keys()) this.dirty.set(`a${SEP}${rt.prefix}${gk}`, null);
    this.dirty.set(`r${SEP}${rt.prefix}`, null);
  }

  private readonly forgetByName = new Map<string, () => void>();
  private readonly groupIntern = new Map<string, { key: string; labels: Record<string, string> }>();
  private readonly dirty = new Map<string, unknown>();
  private readonly dirtySlots = new Set<Slot>();
  private deadWindows: Map<string, Slot>[] = [];

  /**
   * Changes since the last call, as store entries (value null = delete). The rules processor writes
   * them to its changelogged store at each commit; `restore` reads them back.
   */
  drainChanges(): Array<[string, unknown]> {
    // Slots go straight to the output (no keyed map: hashing a million keys twice is what made commits slow).
    const out: Array<[string, unknown]> = [];
    for (const groups of this.deadWindows) {
      for (const slot of groups.values()) {
        slot.dead = true;
        out.push([slot.k, null]);
      }
    }
    this.deadWindows = [];
    for (const slot of this.dirtySlots) {
      slot.d = false;
      if (!slot.dead) out.push([slot.k, slot]);
    }
    this.dirtySlots.clear();
    for (const e of this.dirty) out.push(e);
    this.dirty.clear();
    return out;
  }


  /** Loads one persisted entry (in any order). Entries of rules that changed are scheduled for deletion. */
  restore(key: string, value: unknown): void {
    const parts = key.split(SEP);
    const rt = this.rules.get(parts[1]!);
    if (!rt || rt.pr.rule.hash !== parts[2]) {
      this.dirty.set(key, null);
      return;
    }
    switch (parts[0]) {
      case 'r': {
        const v = value as { nextEnd: number | null; lastEvaluatedEnd: number };
        rt.nextEnd = v.nextEnd;
        rt.lastEvaluatedEnd = v.lastEvaluatedEnd;
        return;
      }
      case 'a':
        rt.alerts.set(parts.slice(3).join(SEP), value as AlertState);
        return;
      case 'k': {
        const leafId = Number(parts[3]);
        let m = rt.known.get(leafId);
        if (!m) rt.known.set(leafId, (m = new Map()));
        m.set(parts.slice(4).join(SEP), value as Known);
        return;
      }
      case 'w': {
        const leafId = Number(parts[3]);
        const start = Number(parts[4]);
        const gk = parts.slice(5).join(SEP);
        let byStart = rt.windows.get(leafId);
        if (!byStart) rt.windows.set(leafId, (byStart = new Map()));
        let groups = byStart.get(start);
        if (!groups) byStart.set(start, (groups = new Map()));
        const v = value as { labels: Record<string, string>; acc: Acc };
        groups.set(gk, new Slot(v.labels, accFromJSON(v.acc), key));
        return;
      }
      default:
        this.dirty.set(key, null);
    }
  }

  private load(model: Pick<CheckedRules, 'rules'>): void {
    this.plan = compilePlan(model);
    const old = this.rules;
    for (const [name, rt] of old) this.forgetByName.set(name, () => this.forget(rt));
    this.rules = new Map();
    for (const pr of this.plan.rules) {
      const prev = old.get(pr.rule.name);
      if (prev && prev.pr.rule.hash === pr.rule.hash && prev.pr.rule.kind === pr.rule.kind) {
        // Unchanged rule: keep its windows and alert states (leaf ids are stable for equal text).
        prev.pr = pr;
        this.rules.set(pr.rule.name, prev);
      } else {
        if (prev) this.forget(prev);
        this.rules.set(pr.rule.name, this.newRuntime(pr));
      }
    }
    this.routes.clear();
    this.routesByRef = [];
    this.groupIntern.clear();
  }

  /**
   * Replaces the rules. Rules with the same name and hash keep their windows and alert states and
   * emit nothing because of the reload; changed or new rules start empty; removed rules are dropped.
   * Returns the names of the rules that changed, were added or removed.
   */
  reload(model: Pick<CheckedRules, 'rules'>): { changed: string[]; kept: string[]; removed: string[] } {
    const before = new Map([...this.rules].map(([n, r]) => [n, r.pr.rule.hash]));
    this.load(model);
    const changed: string[] = [];
    const kept: string[] = [];
    for (const [name, rt] of this.rules) (before.get(name) === rt.pr.rule.hash ? kept : changed).push(name);
    const removed = [...before.keys()].filter((n) => !this.rules.has(n));
    for (const n of removed) this.forgetByName.get(n)?.();
    this.forgetByName.clear();
    return { changed, kept, removed };
  }

  /** The checked rules currently loaded. */
  get loadedRules(): CheckedRule[] {
    return this.plan.rules.map((p) => p.rule);
  }

  /** The distinct rule-level group keys a series feeds (where the repartition stage sends its samples). */
  partitionKeys(series: SeriesRef): string[] {
    const routes = this.routesFor(series);
    if (routes.length === 0) return [];
    if (routes.length === 1) return [routes[0]!.pkey];
    return [...new Set(routes.map((r) => r.pkey))];
  }

  /** True when some rule selects `metric` (lets callers skip whole series cheaply). */
  selects(metric: string): boolean {
    return this.plan.byMetric.has(metric);
  }

  private routesFor(series: SeriesRef): Route[] {
    const ref = series.ref;
    let r = ref === undefined ? this.routes.get(series.key) : this.routesByRef[ref];
    if (r) return r;
    r = [];
    for (const leaf of this.plan.byMetric.get(series.name) ?? []) {
      if (!matchesAll(leaf.sel.matchers, series.labels)) continue;
      const rt = this.rules.get(leaf.rule.rule.name)!;
      const pkey = partitionKeyOf(series.labels, leaf.chain);
      if (leaf.grouping === 'series') r.push({ leaf, rt, key: series.key, labels: series.labels as Record<string, string>, slot: null, slotStart: NaN, pkey });
      else {
        const [k, l] = groupKeyOf(series.labels as Record<string, string>, leaf.grouping);
        // One key string and label object per group, shared by all its series.
        let interned = this.groupIntern.get(k);
        if (!interned) this.groupIntern.set(k, (interned = { key: k, labels: l }));
        r.push({ leaf, rt, key: interned.key, labels: interned.labels, slot: null, slotStart: NaN, pkey });
      }
    }
    if (ref === undefined) this.routes.set(series.key, r);
    else this.routesByRef[ref] = r;
    return r;
  }

  /**
   * Adds one sample. Returns 'late' when every window of some matching rule that should hold it
   * was already evaluated (the caller reports it to the late topic), else 'ok' (also when no rule
   * selects it).
   */
  ingest(series: SeriesRef, ts: number, value: number, onlyKey?: string): 'ok' | 'late' {
    const routes = this.routesFor(series);
    if (routes.length === 0) return 'ok';
    this.counters.samples++;
    let late = false;
    for (const route of routes) {
      // Repartitioned input: a sample arrives once per rule-level group key; feed only those rules.
      if (onlyKey !== undefined && route.pkey !== onlyKey) continue;
      const { leaf, rt } = route;
      const { windowMs, stepMs } = rt.pr.rule;
      const lastStart = Math.floor(ts / stepMs) * stepMs;
      const firstEnd = lastStart + stepMs;
      if (rt.nextEnd === null || (firstEnd < rt.nextEnd && firstEnd > rt.lastEvaluatedEnd)) {
        rt.nextEnd = Math.max(firstEnd, rt.lastEvaluatedEnd + stepMs);
        this.dirty.set(`r${SEP}${rt.prefix}`, { nextEnd: rt.nextEnd, lastEvaluatedEnd: rt.lastEvaluatedEnd });
      }
      if (leaf.kind === 'absent') {
        let known = rt.known.get(leaf.id);
        if (!known) rt.known.set(leaf.id, (known = new Map()));
        const k = known.get(route.key);
        const kk = `k${SEP}${rt.prefix}${leaf.id}${SEP}${route.key}`;
        if (!k) {
          const nk = { labels: route.labels, lastSeen: ts };
          known.set(route.key, nk);
          this.dirty.set(kk, nk);
        } else if (ts > k.lastSeen) {
          k.lastSeen = ts;
          this.dirty.set(kk, k);
        }
      }
      const cached = route.slot;
      if (cached !== null && route.slotStart === lastStart && windowMs === stepMs && !cached.dead && lastStart + windowMs > rt.lastEvaluatedEnd) {
        accAdd(cached.acc, leaf.fn, series.key, ts, value);
        if (!cached.d) {
          cached.d = true;
          this.dirtySlots.add(cached);
        }
        continue;
      }
      let byStart = rt.windows.get(leaf.id);
      if (!byStart) rt.windows.set(leaf.id, (byStart = new Map()));
      let added = false;
      for (let start = lastStart; start > ts - windowMs; start -= stepMs) {
        if (start + windowMs <= rt.lastEvaluatedEnd) break;
        let groups = byStart.get(start);
        if (!groups) byStart.set(start, (groups = new Map()));
        let slot = groups.get(route.key);
        if (!slot) groups.set(route.key, (slot = new Slot(route.labels, newAcc(leaf.fn), `w${SEP}${rt.prefix}${leaf.id}${SEP}${start}${SEP}${route.key}`)));
        accAdd(slot.acc, leaf.fn, series.key, ts, value);
        if (!slot.d) {
          slot.d = true;
          this.dirtySlots.add(slot);
        }
        if (start === lastStart) {
          route.slot = slot;
          route.slotStart = start;
        }
        added = true;
      }
      if (!added) late = true;
    }
    if (late) this.counters.late++;
    return late ? 'late' : 'ok';
  }

  /** Evaluates every window that closed at `streamTime` (end + grace <= streamTime), in time order. */
  advance(streamTime: number): EngineOutput {
    const out: EngineOutput = { events: [], recorded: [] };
    if (streamTime > this.watermark) this.watermark = streamTime;
    const due = (rt: RuleRuntime) => rt.nextEnd !== null && rt.nextEnd + rt.pr.rule.graceMs <= streamTime;
    // Interleave rules by window end so recorded samples and events come out in time order.
    for (;;) {
      let next: RuleRuntime | null = null;
      for (const rt of this.rules.values()) if (due(rt) && (!next || rt.nextEnd! < next.nextEnd!)) next = rt;
      if (!next) break;
      this.evaluateRule(next, next.nextEnd!, out);
    }
    return out;
  }

  private evaluateRule(rt: RuleRuntime, end: number, out: EngineOutput): void {
    const rule = rt.pr.rule;
    const start = end - rule.windowMs;
    this.counters.evaluations++;
    const src = this.leafSource(rt, start, end);
    const cache = new Map<unknown, Result>() as Map<never, Result>;
    if (rule.kind === 'record') {
      const r = evaluate(rule.value!, src, cache);
      if (r.k === 'v') {
        for (const en of r.m.values()) {
          if (en.value === null) continue;
          out.recorded.push({ name: rule.name, labels: { ...en.labels, ...rule.labels }, timestamp: end, value: en.value, kind: 'GAUGE' });
        }
      }
    } else this.evaluateAlert(rt, start, end, src, cache, out);
    rt.lastEvaluatedEnd = end;
    // Drop windows that can no longer receive samples.
    for (const byStart of rt.windows.values()) {
      for (const [s, groups] of byStart) {
        if (s + rule.windowMs > end) continue;
        // Deleting a million slots from the store is commit work (drainChanges), not close work.
        this.deadWindows.push(groups);
        byStart.delete(s);
      }
    }
    rt.nextEnd = this.needsEvaluation(rt) ? end + rule.stepMs : null;
    this.dirty.set(`r${SEP}${rt.prefix}`, { nextEnd: rt.nextEnd, lastEvaluatedEnd: rt.lastEvaluatedEnd });
  }

  /**
   * Fast path for the common `aggregation <op> number` condition: reads the window's slots directly
   * and keeps only groups where the condition holds or that have alert state (the others cannot
   * change anything), so a close over a million groups allocates little.
   */
  private sparseWhen(rt: RuleRuntime, start: number, e: CExpr): Map<string, Entry> | null {
    if (e.t !== 'cmp') return null;
    const leftAgg = e.left.t === 'agg' && e.left.sel !== null && e.right.t === 'num';
    const rightAgg = e.right.t === 'agg' && e.right.sel !== null && e.left.t === 'num';
    if (!leftAgg && !rightAgg) return null;
    const agg = (leftAgg ? e.left : e.right) as Extract<CExpr, { t: 'agg' }>;
    const c = ((leftAgg ? e.right : e.left) as Extract<CExpr, { t: 'num' }>).value;
    const out = new Map<string, Entry>();
    const groups = rt.windows.get(agg.id)?.get(start);
    if (!groups) return out;
    const windowMs = rt.pr.rule.windowMs;
    const alerts = rt.alerts;
    for (const [key, slot] of groups) {
      const v = accValue(slot.acc, agg.fn, agg.q, windowMs);
      if (v === null) continue;
      const truth = leftAgg ? compare(e.op, v, c) : compare(e.op, c, v);
      if (!truth && (alerts.size === 0 || !alerts.has(key))) continue;
      out.set(key, { labels: slot.labels, value: v, truth, thr: c, a: { labels: slot.labels, value: v, name: agg.text, iv: v } });
    }
    return out;
  }

  /** Whether the next window end must be evaluated even if no sample arrives (data, live alerts, known absent keys). */
  private needsEvaluation(rt: RuleRuntime): boolean {
    for (const m of rt.windows.values()) if (m.size > 0) return true;
    for (const m of rt.known.values()) if (m.size > 0) return true;
    for (const a of rt.alerts.values()) if (a.phase === 'pending' || a.phase === 'firing') return true;
    return false;
  }

  private leafSource(rt: RuleRuntime, start: number, end: number): LeafSource {
    const rule = rt.pr.rule;
    const leaves = new Map(rt.pr.leaves.map((l) => [l.id, l]));
    return {
      agg: (id) => {
        const leaf = leaves.get(id)!;
        const out = new Map<string, Entry>();
        const groups = rt.windows.get(id)?.get(start);
        if (!groups) return out;
        const text = leaf.text;
        for (const [key, slot] of groups) {
          const v = accValue(slot.acc, leaf.fn, leaf.q, rule.windowMs);
          if (v !== null) out.set(key, { labels: slot.labels, value: v, name: text, iv: v });
        }
        return out;
      },
      absent: (id) => {
        const out = new Map<string, Entry>();
        const known = rt.known.get(id);
        if (!known) return out;
        const present = rt.windows.get(id)?.get(start);
        for (const [key, k] of known) {
          if (end - k.lastSeen >= rule.forgetMs) {
            known.delete(key);
            this.dirty.set(`k${SEP}${rt.prefix}${id}${SEP}${key}`, null);
            continue;
          }
          if (present?.has(key)) out.set(key, { labels: k.labels, value: null, truth: false });
          else {
            // Absent = silent for the rule's `for` (contract); the alert then fires at once (since = last seen).
            const truth = end - k.lastSeen >= rule.forMs;
            out.set(key, { labels: k.labels, value: null, truth, since: k.lastSeen, name: 'seconds_since_last_sample', iv: (end - k.lastSeen) / 1000 });
          }
        }
        return out;
      },
      onDivByZero: () => {
        this.counters.divByZero++;
      },
    };
  }

  private evaluateAlert(rt: RuleRuntime, start: number, end: number, src: LeafSource, cache: Map<never, Result>, out: EngineOutput): void {
    const rule = rt.pr.rule;
    const asMap = (r: Result | null) => (r && r.k === 'v' ? r.m : new Map<string, Entry>());
    const when = rule.when ? (this.sparseWhen(rt, start, rule.when) ?? asMap(evaluate(rule.when, src, cache))) : null;
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
        out.events.push(alertEvent(rule, st, transition, start, end, inputs, this.watermark));
      }
      const ak = `a${SEP}${rt.prefix}${key}`;
      if (st.phase === 'inactive' && st.sequence === 0) {
        rt.alerts.delete(key);
        this.dirty.set(ak, null);
      } else this.dirty.set(ak, st);
    };
    // Every group with a result, then groups with state that have none this window (condition false).
    const primary = when ?? levels[0]?.m ?? new Map<string, Entry>();
    for (const key of primary.keys()) visit(key);
    const others = [...levels.slice(1).map((l) => l.m), ...(clear ? [clear] : [])];
    for (const m of others) for (const key of m.keys()) if (!primary.has(key) && !others.slice(0, others.indexOf(m)).some((o) => o.has(key))) visit(key);
    for (const key of [...rt.alerts.keys()]) if (!primary.has(key) && !others.some((o) => o.has(key))) visit(key);
  }

  /** The alert groups of rule `name` as the state machine sees them now. */
  alertStates(name: string): AlertView[] {
    const rt = this.rules.get(name);
    if (!rt) return [];
    return [...rt.alerts.values()].map((st) => {
      const labels = alertLabels(rt.pr.rule, st);
      return { phase: st.phase, level: st.level, labels, annotations: alertAnnotations(rt.pr.rule, st, labels), value: st.value, activeSince: st.activeSince };
    });
  }

  /** Number of (rule, group) alert states held. */
  get alertCount(): number {
    let n = 0;
    for (const rt of this.rules.values()) n += rt.alerts.size;
    return n;
  }

  /** Canonical key of a label set (exposed for callers that index alerts). */
  static keyOf(labels: Record<string, string>): string {
    return canonicalLabels(labels);
  }
}
