/**
 * The runtime state of one leaf of a rule (an aggregation over a selector, or absent()): its groups
 * and series interned once to dense slots, and its open windows as columns over those slots
 * (WindowAccumulators). Slots live as long as the leaf (a rule reload that changes the rule drops it);
 * they are this process' numbering and never persisted as such (blocks carry the keys).
 */
import type { Leaf } from '../dsl/compile.js';
import { WindowAccumulators } from './window-accumulators.js';

export class LeafState {
  /** Open windows by start. */
  readonly windows = new Map<number, WindowAccumulators>();
  /** The window written last (the tumbling fast path skips the map lookup). */
  cur: WindowAccumulators | null = null;
  readonly groupKeys: string[] = [];
  /** Labels of each group (null until known: a restored per-series record may come first). */
  readonly groupLabels: Array<Record<string, string> | null> = [];
  private readonly groupSlots = new Map<string, number>();
  readonly memberKeys: string[] = [];
  /**
   * Member key -> slot, built on the first `member` lookup: while every series is routed once (the
   * engine's steady case) it is not needed, and a million entries made every major GC slower.
   */
  private memberSlots: Map<string, number> | null = null;

  /** An absent() leaf (samples also update its last-seen bookkeeping). */
  readonly absent: boolean;

  constructor(public leaf: Leaf) {
    this.absent = leaf.kind === 'absent';
  }

  /** The slot of group `key`, interned on first use. */
  group(key: string, labels: Record<string, string> | null): number {
    let g = this.groupSlots.get(key);
    if (g === undefined) {
      g = this.groupKeys.length;
      this.groupSlots.set(key, g);
      this.groupKeys.push(key);
      this.groupLabels.push(labels);
    } else if (labels !== null && this.groupLabels[g] === null) this.groupLabels[g] = labels;
    return g;
  }

  /** The slot of group `key`, or -1. */
  slotOf(key: string): number {
    return this.groupSlots.get(key) ?? -1;
  }

  /** The member slot of series `seriesKey` (per-series functions), interned on first use. */
  member(seriesKey: string): number {
    const slots = (this.memberSlots ??= new Map(this.memberKeys.map((k, i) => [k, i])));
    let m = slots.get(seriesKey);
    if (m === undefined) {
      m = this.memberKeys.length;
      slots.set(seriesKey, m);
      this.memberKeys.push(seriesKey);
    }
    return m;
  }

  /**
   * The member slot of a series the caller knows is not a member yet (first routed); the same as
   * `member` once lookups were needed.
   */
  newMember(seriesKey: string): number {
    if (this.memberSlots !== null) return this.member(seriesKey);
    this.memberKeys.push(seriesKey);
    return this.memberKeys.length - 1;
  }

  /** From now on every series must be looked up (they may be routed again: a new route table). */
  indexMembers(): void {
    this.memberSlots ??= new Map(this.memberKeys.map((k, i) => [k, i]));
  }

  /** The window starting at `start`, created on first use. */
  window(start: number): WindowAccumulators {
    let w = this.windows.get(start);
    if (!w) {
      const { windowMs, stepMs } = this.leaf.rule.rule;
      const hint = { groups: this.groupKeys.length, members: this.memberKeys.length };
      w = new WindowAccumulators(start, this.leaf.fn, windowMs, stepMs, hint, this.cur);
      this.windows.set(start, w);
    }
    return w;
  }

  /** Drops the window starting at `start` (evaluated); returns it. */
  drop(start: number): WindowAccumulators | undefined {
    const w = this.windows.get(start);
    this.windows.delete(start);
    if (w && this.cur === w) this.cur = null;
    return w;
  }
}
