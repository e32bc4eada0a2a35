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
import type { CheckedRule, CheckedRules } from '../dsl/model.js';
import { compilePlan, matchesAll, type Leaf, type Plan } from '../dsl/compile.js';
import { canonicalLabels } from '../model/series.js';
import type { DecodedBatch } from '../model/decoded-batch.js';
import { hexKey, type SeriesTable } from '../model/series-table.js';
import { alertAnnotations, alertLabels } from './alert-event.js';
import { LeafState } from './leaf-state.js';
import { RouteTable, type RouteTarget } from './route-table.js';
import { perSeries, type WindowAccumulators } from './window-accumulators.js';
import type { AlertState } from './alert-state.js';
import { groupKeyOf } from './evaluate.js';
import { SEP, needsEvaluation, newRuntime, type Known, type RuleRuntime } from './rule-runtime.js';
import { changedBlocks, persistedBlockKeys, restoreBlock, restoreGroupEntry } from './window-blocks.js';
import { evaluateWindow, type AlertView, type EngineCounters, type EngineOutput } from './rule-evaluation.js';

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

/**
 * The identity of series `ref` read from its table without materialising its SeriesInfo: the table
 * would keep that object (with a BigInt id and a labels object) for the life of the process, and a
 * million of them made every major GC of the engine's process trace ~300 MB more.
 */
function seriesView(table: SeriesTable, ref: number): SeriesRef {
  return { key: hexKey(table.hiOf(ref), table.loOf(ref)), ref, name: table.nameOf(ref), labels: Object.freeze(table.labelsOf(ref)) };
}

/** The rule-level group labels a series feeds: the leaf's groupings applied innermost first. */
function partitionKeyOf(labels: Readonly<Record<string, string>>, chain: Leaf['chain']): string {
  let l = labels as Record<string, string>;
  for (const g of chain) if (g !== 'series') l = groupKeyOf(l, g)[1];
  return canonicalLabels(l);
}

export type { AlertView, EngineCounters, EngineOutput } from './rule-evaluation.js';

export class RulesEngine {
  private plan!: Plan;
  private rules = new Map<string, RuleRuntime>();
  private routes = new RouteTable<RuleRuntime>();
  /** Some series was routed by key (no ref): the same series may come again with a ref. */
  private routedByKey = false;
  readonly counters: EngineCounters = { samples: 0, late: 0, divByZero: 0, evaluations: 0 };
  /** Stream time of the last `advance`. */
  watermark = -Infinity;

  constructor(model: Pick<CheckedRules, 'rules'>) {
    this.load(model);
  }

  /** Marks every persisted entry of a rule runtime for deletion. */
  private forget(rt: RuleRuntime): void {
    for (const [leafId, ls] of rt.leaves) for (const w of ls.windows.values()) for (const k of persistedBlockKeys(rt, leafId, w)) this.dirty.set(k, null);
    for (const [leafId, m] of rt.known) for (const gk of m.keys()) this.dirty.set(`k${SEP}${rt.prefix}${leafId}${SEP}${gk}`, null);
    for (const gk of rt.alerts.keys()) this.dirty.set(`a${SEP}${rt.prefix}${gk}`, null);
    this.dirty.set(`r${SEP}${rt.prefix}`, null);
  }

  private readonly forgetByName = new Map<string, () => void>();
  private readonly dirty = new Map<string, unknown>();
  /** Restored entries rewritten under this process' slots: deleted before the rewrite is stored. */
  private readonly stale = new Map<string, null>();
  private deadWindows: Array<{ rt: RuleRuntime; leafId: number; w: WindowAccumulators }> = [];

  /**
   * Changes since the last call, as store entries (value null = delete). The rules processor writes
   * them to its changelogged store at each commit; `restore` reads them back.
   */
  drainChanges(): Array<[string, unknown]> {
    // Windows are written as blocks of groups (no entry per group: a million keys per commit was the cost).
    const out: Array<[string, unknown]> = [...this.stale];
    this.stale.clear();
    for (const { rt, leafId, w } of this.deadWindows) for (const k of persistedBlockKeys(rt, leafId, w)) out.push([k, null]);
    this.deadWindows = [];
    for (const rt of this.rules.values()) changedBlocks(rt, out);
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
        restoreBlock(ls, Number(parts[4]), parts[5]!, (value as { toJSON?: () => unknown }).toJSON?.() ?? value);
        return;
      }
      case 'w': {
        // One entry per group (the format before column blocks): read once, rewritten as blocks.
        const ls = rt.leaves.get(Number(parts[3]));
        if (!ls) break;
        this.stale.set(key, null);
        restoreGroupEntry(ls, Number(parts[4]), parts.slice(5).join(SEP), value);
        return;
      }
    }
    this.dirty.set(key, null);
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
          if (ls) {
            ls.leaf = l;
            // The new route table routes its series again: they may be members already.
            ls.indexMembers();
          } else prev.leaves.set(l.id, new LeafState(l));
        }
        this.rules.set(pr.rule.name, prev);
      } else {
        if (prev) this.forget(prev);
        this.rules.set(pr.rule.name, newRuntime(pr));
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
    if (series.ref === undefined && !this.routedByKey) {
      this.routedByKey = true;
      for (const rt of this.rules.values()) for (const ls of rt.leaves.values()) ls.indexMembers();
    }
    const targets: Array<RouteTarget<RuleRuntime>> = [];
    for (const leaf of this.plan.byMetric.get(series.name) ?? []) {
      if (!matchesAll(leaf.sel.matchers, series.labels)) continue;
      const rule = this.rules.get(leaf.rule.rule.name)!;
      const ls = rule.leaves.get(leaf.id)!;
      const labels = series.labels as Record<string, string>;
      const group = leaf.grouping === 'series' ? ls.group(series.key, labels) : ls.group(...groupKeyOf(labels, leaf.grouping));
      // A series routed by its ref is routed once per route table (refs are unique per series);
      // one routed by key may also come with a ref, so then members are looked up.
      const member = !perSeries(leaf.fn) ? 0 : series.ref === undefined || this.routedByKey ? ls.member(series.key) : ls.newMember(series.key);
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
      if (list < 0) list = this.routeList(seriesView(b.series, ref));
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
    const { leaf: leafOf, group: groupOf, member: memberOf, leaves } = routes;
    for (let r = from; r < to; r++) {
      // Repartitioned input: a sample arrives once per rule-level group key; feed only those rules.
      if (onlyKey !== undefined && this.pkeyOf(r, series!) !== onlyKey) continue;
      const l = leafOf[r]!;
      const ls = leaves[l]!;
      const group = groupOf[r]!;
      if (ls.absent) this.seen(routes.rules[l]!, ls, group, ts);
      const cur = ls.cur;
      // The window written last is still open and the only one for this sample (the common case):
      // the rule's next evaluation already covers it (see below), so only the columns change.
      if (cur !== null && ts >= cur.start && ts < cur.fastEnd) {
        cur.add(group, memberOf[r]!, ts, value);
        continue;
      }
      const rt = routes.rules[l]!;
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
    evaluateWindow(rt, start, end, { dirty: this.dirty, counters: this.counters, watermark: this.watermark }, out);
    rt.lastEvaluatedEnd = end;
    // Drop windows that can no longer receive samples (their store entries go at the next commit).
    for (const [leafId, ls] of rt.leaves) {
      for (const s of [...ls.windows.keys()]) {
        if (s + rule.windowMs > end) continue;
        this.deadWindows.push({ rt, leafId, w: ls.drop(s)! });
      }
    }
    rt.nextEnd = needsEvaluation(rt) ? end + rule.stepMs : null;
    this.dirty.set(`r${SEP}${rt.prefix}`, { nextEnd: rt.nextEnd, lastEvaluatedEnd: rt.lastEvaluatedEnd });
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
