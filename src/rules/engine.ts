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
import type { DecodedBatch } from '../model/decoded-batch.js';
import { alertAnnotations, alertEvent, alertLabels } from './alert-event.js';
import { accFromJSON, type Acc, type SeriesAcc } from './aggregators.js';
import { LeafState } from './leaf-state.js';
import { RouteTable, type RouteTarget } from './route-table.js';
import { perSeries, type GroupColumn, type WindowAccumulators } from './window-accumulators.js';
import type { SketchState } from './sketch.js';
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

interface Known {
  labels: Record<string, string>;
  lastSeen: number;
}

/** Runtime state of one rule. */
interface RuleRuntime {
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

const SEP = '\u0000';

/** A changed block of a window as a store value: encoded (toJSON) when the store writes it. */
class BlockValue {
  constructor(
    private readonly ls: LeafState,
    private readonly w: WindowAccumulators,
    private readonly block: number,
    private readonly members: boolean,
  ) {}
  toJSON(): unknown {
    const { ls, w, block } = this;
    if (this.members) return { m: w.memberBlock(block, (m, g) => [ls.memberKeys[m], ls.groupKeys[g]]) };
    return w.groupBlock(block, (g) => [ls.groupKeys[g], ls.groupLabels[g] ?? {}]);
  }
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
  private routes = new RouteTable<RuleRuntime>();
  readonly counters: EngineCounters = { samples: 0, late: 0, divByZero: 0, evaluations: 0 };
  /** Stream time of the last `advance`. */
  watermark = -Infinity;

  constructor(model: Pick<CheckedRules, 'rules'>) {
    this.load(model);
  }

  private newRuntime(pr: PlanRule): RuleRuntime {
    const prefix = `${pr.rule.name}${SEP}${pr.rule.hash}${SEP}`;
    return { pr, leaves: new Map(pr.leaves.map((l) => [l.id, new LeafState(l)])), known: new Map(), alerts: new Map(), nextEnd: null, lastEvaluatedEnd: -Infinity, prefix };
  }

  /** Marks every persisted entry of a rule runtime for deletion. */
  private forget(rt: RuleRuntime): void {
    for (const [leafId, ls] of rt.leaves) for (const w of ls.windows.values()) this.deleteBlocks(rt, leafId, w, this.dirty);
    for (const [leafId, m] of rt.known) for (const gk of m.keys()) this.dirty.set(`k${SEP}${rt.prefix}${leafId}${SEP}${gk}`, null);
    for (const gk of rt.alerts.keys()) this.dirty.set(`a${SEP}${rt.prefix}${gk}`, null);
    this.dirty.set(`r${SEP}${rt.prefix}`, null);
  }

  private readonly forgetByName = new Map<string, () => void>();
  private readonly dirty = new Map<string, unknown>();
  /** Restored entries rewritten under this process' slots: deleted before the rewrite is stored. */
  private readonly stale = new Map<string, null>();
  private deadWindows: Array<{ rt: RuleRuntime; leafId: number; w: WindowAccumulators }> = [];

  private blockKey(rt: RuleRuntime, leafId: number, start: number, block: string): string {
    return `c${SEP}${rt.prefix}${leafId}${SEP}${start}${SEP}${block}`;
  }

  /** Schedules the deletion of every block of window `w` that was handed to the store. */
  private deleteBlocks(rt: RuleRuntime, leafId: number, w: WindowAccumulators, into: Map<string, unknown> | Array<[string, unknown]>): void {
    const del = (k: string) => (Array.isArray(into) ? into.push([k, null]) : into.set(k, null));
    for (const b of w.persistedBlocks) del(this.blockKey(rt, leafId, w.start, `g${b}`));
    for (const b of w.persistedMemberBlocks) del(this.blockKey(rt, leafId, w.start, `m${b}`));
  }

  /**
   * Changes since the last call, as store entries (value null = delete). The rules processor writes
   * them to its changelogged store at each commit; `restore` reads them back.
   */
  drainChanges(): Array<[string, unknown]> {
    // Windows are written as blocks of groups (no entry per group: a million keys per commit was the cost).
    const out: Array<[string, unknown]> = [...this.stale];
    this.stale.clear();
    for (const { rt, leafId, w } of this.deadWindows) this.deleteBlocks(rt, leafId, w, out);
    this.deadWindows = [];
    for (const rt of this.rules.values()) {
      for (const [leafId, ls] of rt.leaves) {
        for (const w of ls.windows.values()) {
          const { groups, members } = w.takeDirty();
          for (const b of groups) out.push([this.blockKey(rt, leafId, w.start, `g${b}`), new BlockValue(ls, w, b, false)]);
          for (const b of members) out.push([this.blockKey(rt, leafId, w.start, `m${b}`), new BlockValue(ls, w, b, true)]);
        }
      }
    }
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
      case 'c': {
        const ls = rt.leaves.get(Number(parts[3]));
        if (!ls) break;
        this.stale.set(key, null);
        this.restoreBlock(ls, Number(parts[4]), parts[5]!, (value as { toJSON?: () => unknown }).toJSON?.() ?? value);
        return;
      }
      case 'w': {
        // One entry per group (the format before column blocks): read once, rewritten as blocks.
        const ls = rt.leaves.get(Number(parts[3]));
        if (!ls) break;
        this.stale.set(key, null);
        const v = value as { labels: Record<string, string>; acc: Acc };
        const acc = accFromJSON(v.acc);
        const w = ls.window(Number(parts[4]));
        const g = ls.group(parts.slice(5).join(SEP), v.labels);
        w.restoreGroup(g, acc, acc.sk);
        for (const [sk, st] of acc.series ?? []) w.restoreMember(g, ls.member(sk), st);
        return;
      }
    }
    this.dirty.set(key, null);
  }

  private restoreBlock(ls: LeafState, start: number, block: string, value: unknown): void {
    const w = ls.window(start);
    if (block.startsWith('m')) {
      for (const row of (value as { m: unknown[][] }).m) {
        const [sk, gk, n, ft, fv, lt, lv, inc] = row as [string, string, ...number[]];
        const s: SeriesAcc = { n: n!, ft: ft!, fv: fv!, lt: lt!, lv: lv!, inc: inc! };
        w.restoreMember(ls.group(gk, null), ls.member(sk), s);
      }
      return;
    }
    const { cols, g } = value as { cols: GroupColumn[]; g: unknown[][] };
    for (const row of g) {
      const values: Partial<Record<GroupColumn, number>> = {};
      cols.forEach((c, i) => (values[c] = row[2 + i] as number));
      w.restoreGroup(ls.group(row[0] as string, row[1] as Record<string, string>), values, row[2 + cols.length] as SketchState | null | undefined);
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
        for (const l of pr.leaves) {
          const ls = prev.leaves.get(l.id);
          if (ls) ls.leaf = l;
          else prev.leaves.set(l.id, new LeafState(l));
        }
        this.rules.set(pr.rule.name, prev);
      } else {
        if (prev) this.forget(prev);
        this.rules.set(pr.rule.name, this.newRuntime(pr));
      }
    }
    this.routes = new RouteTable<RuleRuntime>();
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
    const list = this.routeList(series);
    const from = this.routes.start(list);
    const to = this.routes.end(list);
    if (from === to) return [];
    if (to - from === 1) return [this.pkeyOf(from, series)];
    const keys = new Set<string>();
    for (let r = from; r < to; r++) keys.add(this.pkeyOf(r, series));
    return [...keys];
  }

  /** True when some rule selects `metric` (lets callers skip whole series cheaply). */
  selects(metric: string): boolean {
    return this.plan.byMetric.has(metric);
  }

  private pkeyOf(route: number, series: SeriesRef): string {
    const routes = this.routes;
    let k = routes.pkey.get(route);
    if (k === undefined) routes.pkey.set(route, (k = partitionKeyOf(series.labels, routes.leaves[routes.leaf[route]!]!.leaf.chain)));
    return k;
  }

  /** The route list of a series, resolved on first sight: the leaves it feeds, its group and member slots. */
  private routeList(series: SeriesRef): number {
    const list = this.routes.lookup(series.ref, series.key);
    if (list >= 0) return list;
    const targets: Array<RouteTarget<RuleRuntime>> = [];
    for (const leaf of this.plan.byMetric.get(series.name) ?? []) {
      if (!matchesAll(leaf.sel.matchers, series.labels)) continue;
      const rule = this.rules.get(leaf.rule.rule.name)!;
      const ls = rule.leaves.get(leaf.id)!;
      const labels = series.labels as Record<string, string>;
      const group = leaf.grouping === 'series' ? ls.group(series.key, labels) : ls.group(...groupKeyOf(labels, leaf.grouping));
      const member = perSeries(leaf.fn) ? ls.member(series.key) : 0;
      targets.push({ rule, leaf: ls, group, member });
    }
    return this.routes.add(series.ref, series.key, targets);
  }

  /**
   * Adds one sample. Returns 'late' when every window of some matching rule that should hold it
   * was already evaluated (the caller reports it to the late topic), else 'ok' (also when no rule
   * selects it).
   */
  ingest(series: SeriesRef, ts: number, value: number, onlyKey?: string): 'ok' | 'late' {
    let list = this.routes.lookup(series.ref, series.key);
    if (list < 0) list = this.routeList(series);
    return this.feed(list, ts, value, onlyKey, series) ? 'late' : 'ok';
  }

  /**
   * Adds every sample of a decoded batch (`ingest` per sample, series found by their decoder refs);
   * returns how many were late.
   */
  ingestBatch(b: Pick<DecodedBatch, 'length' | 'seriesRefs' | 'timestamps' | 'values' | 'series'>, onlyKey?: string): number {
    const { seriesRefs, timestamps, values } = b;
    const routes = this.routes;
    let late = 0;
    for (let i = 0; i < b.length; i++) {
      const ref = seriesRefs[i]!;
      let list = routes.lookupRef(ref);
      if (list < 0) list = this.routeList(b.series.get(ref));
      if (routes.start(list) === routes.end(list)) continue;
      if (this.feed(list, timestamps[i]!, values[i]!, onlyKey, onlyKey === undefined ? null : b.series.get(ref))) late++;
    }
    return late;
  }

  /** Adds one sample to the routes of `list`; true when it was late. `series` is needed with `onlyKey`. */
  private feed(list: number, ts: number, value: number, onlyKey: string | undefined, series: SeriesRef | null): boolean {
    const routes = this.routes;
    const from = routes.start(list);
    const to = routes.end(list);
    if (from === to) return false;
    this.counters.samples++;
    let late = false;
    for (let r = from; r < to; r++) {
      // Repartitioned input: a sample arrives once per rule-level group key; feed only those rules.
      if (onlyKey !== undefined && this.pkeyOf(r, series!) !== onlyKey) continue;
      const l = routes.leaf[r]!;
      const ls = routes.leaves[l]!;
      const group = routes.group[r]!;
      const rt = routes.rules[l]!;
      if (ls.leaf.kind === 'absent') this.seen(rt, ls, group, ts);
      const cur = ls.cur;
      // The window written last is still open and the only one for this sample (the common case):
      // the rule's next evaluation already covers it (see below), so only the columns change.
      if (cur !== null && ts >= cur.start && ts < cur.fastEnd) {
        cur.add(group, routes.member[r]!, ts, value);
        continue;
      }
      const { windowMs, stepMs } = rt.pr.rule;
      const lastStart = Math.floor(ts / stepMs) * stepMs;
      const firstEnd = lastStart + stepMs;
      if (rt.nextEnd === null || (firstEnd < rt.nextEnd && firstEnd > rt.lastEvaluatedEnd)) {
        rt.nextEnd = Math.max(firstEnd, rt.lastEvaluatedEnd + stepMs);
        this.dirty.set(`r${SEP}${rt.prefix}`, { nextEnd: rt.nextEnd, lastEvaluatedEnd: rt.lastEvaluatedEnd });
      }
      let added = false;
      for (let start = lastStart; start > ts - windowMs; start -= stepMs) {
        if (start + windowMs <= rt.lastEvaluatedEnd) break;
        const w = ls.window(start);
        w.add(group, routes.member[r]!, ts, value);
        if (start === lastStart) ls.cur = w;
        added = true;
      }
      if (!added) late = true;
    }
    if (late) this.counters.late++;
    return late;
  }

  /** absent(): the group was seen at `ts`. */
  private seen(rt: RuleRuntime, ls: LeafState, group: number, ts: number): void {
    const id = ls.leaf.id;
    let known = rt.known.get(id);
    if (!known) rt.known.set(id, (known = new Map()));
    const key = ls.groupKeys[group]!;
    const k = known.get(key);
    const kk = `k${SEP}${rt.prefix}${id}${SEP}${key}`;
    if (!k) {
      const nk = { labels: ls.groupLabels[group]!, lastSeen: ts };
      known.set(key, nk);
      this.dirty.set(kk, nk);
    } else if (ts > k.lastSeen) {
      k.lastSeen = ts;
      this.dirty.set(kk, k);
    }
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
    // Drop windows that can no longer receive samples (their store entries go at the next commit).
    for (const [leafId, ls] of rt.leaves) {
      for (const s of [...ls.windows.keys()]) {
        if (s + rule.windowMs > end) continue;
        this.deadWindows.push({ rt, leafId, w: ls.drop(s)! });
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

  /** Whether the next window end must be evaluated even if no sample arrives (data, live alerts, known absent keys). */
  private needsEvaluation(rt: RuleRuntime): boolean {
    for (const ls of rt.leaves.values()) if (ls.windows.size > 0) return true;
    for (const m of rt.known.values()) if (m.size > 0) return true;
    for (const a of rt.alerts.values()) if (a.phase === 'pending' || a.phase === 'firing') return true;
    return false;
  }

  private leafSource(rt: RuleRuntime, start: number, end: number): LeafSource {
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
            this.dirty.set(`k${SEP}${rt.prefix}${id}${SEP}${key}`, null);
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
