/**
 * The accumulators of ONE rule aggregation in ONE open window, for all its groups, as struct-of-arrays
 * columns indexed by the group's dense slot (interned once per aggregation, see LeafState). Only the
 * columns the aggregation function needs are allocated (avg: count + sum; max: count + max; ...);
 * quantile sketches are kept apart (one object per group), and the counter functions and
 * count_series keep per-series state in columns indexed by a per-series "member" slot.
 *
 * The arithmetic is that of aggregators.ts (`accAdd` / `accValue`), column by column, so values are
 * bit-identical to the object accumulators the query engine still uses.
 */
import type { AggFn } from '../dsl/model.js';
import type { SketchState } from './sketch.js';
import { SketchColumns } from './sketch-columns.js';
import type { SeriesAcc } from './aggregators.js';

/** Group slots per persisted block. */
export const BLOCK_SLOTS = 2048;
const BLOCK_SHIFT = 11;

/** How an aggregation function accumulates (which columns it needs). */
const enum Mode {
  Count,
  Sum,
  Min,
  Max,
  First,
  Last,
  Stddev,
  Sketch,
  PerSeries,
  SeriesCount,
}

function modeOf(fn: AggFn): Mode {
  switch (fn) {
    case 'count':
      return Mode.Count;
    case 'sum':
    case 'avg':
      return Mode.Sum;
    case 'min':
      return Mode.Min;
    case 'max':
      return Mode.Max;
    case 'first':
      return Mode.First;
    case 'last':
      return Mode.Last;
    case 'stddev':
      return Mode.Stddev;
    case 'rate':
    case 'increase':
    case 'delta':
      return Mode.PerSeries;
    case 'count_series':
      return Mode.SeriesCount;
    default:
      return Mode.Sketch;
  }
}

/** Whether `fn` keeps per-series state (WindowAccumulators.add needs the series' member slot). */
export function perSeries(fn: AggFn): boolean {
  const mode = modeOf(fn);
  return mode === Mode.PerSeries || mode === Mode.SeriesCount;
}

/** Group columns, by persisted name; which ones a mode uses. */
const GROUP_COLUMNS = ['n', 'sum', 'sumsq', 'min', 'max', 'first', 'ft', 'last', 'lt', 'ns'] as const;
export type GroupColumn = (typeof GROUP_COLUMNS)[number];
const COLUMNS_OF: Record<Mode, readonly GroupColumn[]> = {
  [Mode.Count]: ['n'],
  [Mode.Sum]: ['n', 'sum'],
  [Mode.Min]: ['n', 'min'],
  [Mode.Max]: ['n', 'max'],
  [Mode.First]: ['n', 'first', 'ft'],
  [Mode.Last]: ['n', 'last', 'lt'],
  [Mode.Stddev]: ['n', 'sum', 'sumsq'],
  [Mode.Sketch]: ['n'],
  [Mode.PerSeries]: ['n'],
  [Mode.SeriesCount]: ['n', 'ns'],
};
/** Value of a column in an untouched slot (the identity of its update, as in `newAcc`). */
const IDENTITY: Record<GroupColumn, number> = { n: 0, sum: 0, sumsq: 0, min: Infinity, max: -Infinity, first: NaN, ft: Infinity, last: NaN, lt: -Infinity, ns: 0 };
/** Per-series state is one row per member (one cache line per update): fields and stride. */
const N = 0;
const FT = 1;
const FV = 2;
const LT = 3;
const LV = 4;
const INC = 5;
const STRIDE = 6;

const NONE = new Float64Array(0);

function grow<T extends Float64Array | Int32Array>(a: T, n: number, fill: number): T {
  if (a.length === 0 && n === 0) return a;
  const b = new (a.constructor as { new (n: number): T })(n);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

export class WindowAccumulators {
  private readonly mode: Mode;
  n: Float64Array = NONE;
  sum: Float64Array = NONE;
  sumsq: Float64Array = NONE;
  min: Float64Array = NONE;
  max: Float64Array = NONE;
  first: Float64Array = NONE;
  ft: Float64Array = NONE;
  last: Float64Array = NONE;
  lt: Float64Array = NONE;
  /** count_series: distinct members with data. */
  ns: Float64Array = NONE;
  /** Quantile functions only. */
  private sk!: SketchColumns;
  /** Per-series (member) rows `[n, ft, fv, lt, lv, inc]` (SeriesAcc); member -> group slot in `memberGroup`. */
  private ms: Float64Array = NONE;
  /** count_series: which series have data (their rows would be unused). */
  private seen = new Uint8Array(0);
  private memberCapacity = 0;
  memberGroup = new Int32Array(0);
  /** Group slots with data, in first-touch order (evaluation order); members likewise. */
  private touchedGroups = new Int32Array(16);
  touchedCount = 0;
  private touchedMembers = new Int32Array(0);
  private touchedMemberCount = 0;
  /** One flag per block of group slots changed since the last `takeDirtyBlocks`. */
  private dirty = new Uint8Array(1);
  private mdirty = new Uint8Array(1);
  /** Blocks ever handed out for persistence (deleted from the store when the window closes). */
  readonly persistedBlocks = new Set<number>();
  readonly persistedMemberBlocks = new Set<number>();
  /** Per-group totals of a counter function, computed once at the window close. */
  private totals: Float64Array | null = null;

  /**
   * Samples with start <= t < fastEnd belong to this window and no other one of the rule (a
   * tumbling window not evaluated yet): the engine adds them without window arithmetic.
   */
  readonly fastEnd: number;

  constructor(
    readonly start: number,
    readonly fn: AggFn,
    windowMs: number,
    stepMs: number,
    /** Slots interned so far: a window of a steady set of series is allocated once at its full size. */
    sizeHint: { groups: number; members: number } = { groups: 0, members: 0 },
    /** The window before (same leaf): sizes the sketches' bucket ranges. */
    previous: WindowAccumulators | null = null,
  ) {
    this.fastEnd = windowMs === stepMs ? start + windowMs : start;
    this.mode = modeOf(fn);
    if (this.mode === Mode.Sketch) this.sk = new SketchColumns(previous?.sk ?? null);
    // Sized exactly from the hint (not to the next power of two): V8 counts the whole allocation as
    // external memory, and a new window's columns then triggered more full GCs.
    this.ensureGroups(Math.max(15, sizeHint.groups - 1), true);
    this.touchedGroups = new Int32Array(this.groupCapacity);
    if (this.mode === Mode.PerSeries || this.mode === Mode.SeriesCount) this.ensureMembers(Math.max(15, sizeHint.members - 1), true);
  }

  private get groupCapacity(): number {
    return this.n.length;
  }

  private ensureGroups(slot: number, exact = false): void {
    if (slot < this.groupCapacity) return;
    let cap = Math.max(16, this.groupCapacity, exact ? slot + 1 : 0);
    while (cap <= slot) cap *= 2;
    for (const c of COLUMNS_OF[this.mode]) this[c] = grow(this[c], cap, IDENTITY[c]);
    if (this.mode === Mode.Sketch) this.sk.ensure(cap);
    const d = new Uint8Array((cap >> BLOCK_SHIFT) + 1);
    d.set(this.dirty);
    this.dirty = d;
  }

  private ensureMembers(member: number, exact = false): void {
    if (member < this.memberCapacity) return;
    let cap = Math.max(16, this.memberCapacity, exact ? member + 1 : 0);
    while (cap <= member) cap *= 2;
    this.memberCapacity = cap;
    if (this.mode === Mode.SeriesCount) {
      const seen = new Uint8Array(cap);
      seen.set(this.seen);
      this.seen = seen;
    } else this.ms = grow(this.ms, cap * STRIDE, 0);
    this.memberGroup = grow(this.memberGroup, cap, 0);
    this.touchedMembers = grow(this.touchedMembers, cap, 0);
    const d = new Uint8Array((cap >> BLOCK_SHIFT) + 1);
    d.set(this.mdirty);
    this.mdirty = d;
  }

  private touch(group: number): void {
    if (this.touchedCount === this.touchedGroups.length) this.touchedGroups = grow(this.touchedGroups, this.touchedGroups.length * 2, 0);
    this.touchedGroups[this.touchedCount++] = group;
  }

  /**
   * Adds one sample of the series `member` (per-series functions; else ignored) to group `group`.
   * `accAdd` column by column.
   */
  add(group: number, member: number, t: number, v: number): void {
    if (group >= this.groupCapacity) this.ensureGroups(group);
    const c = this.n[group]!;
    if (c === 0) this.touch(group);
    this.n[group] = c + 1;
    this.dirty[group >> BLOCK_SHIFT] = 1;
    switch (this.mode) {
      case Mode.Count:
        return;
      case Mode.Sum:
        this.sum[group] += v;
        return;
      case Mode.Min:
        if (v < this.min[group]!) this.min[group] = v;
        return;
      case Mode.Max:
        if (v > this.max[group]!) this.max[group] = v;
        return;
      case Mode.First:
        if (t < this.ft[group]!) {
          this.ft[group] = t;
          this.first[group] = v;
        }
        return;
      case Mode.Last:
        if (t >= this.lt[group]!) {
          this.lt[group] = t;
          this.last[group] = v;
        }
        return;
      case Mode.Stddev:
        this.sum[group] += v;
        this.sumsq[group] += v * v;
        return;
      case Mode.Sketch:
        this.sk.add(group, v);
        return;
      case Mode.PerSeries:
        this.addMember(group, member, t, v);
        return;
      case Mode.SeriesCount:
        if (member >= this.memberCapacity) this.ensureMembers(member);
        if (this.seen[member] === 0) this.see(group, member);
        return;
    }
  }

  private see(group: number, m: number): void {
    this.seen[m] = 1;
    this.touchedMembers[this.touchedMemberCount++] = m;
    this.memberGroup[m] = group;
    this.ns[group]++;
    this.mdirty[m >> BLOCK_SHIFT] = 1;
  }

  private addMember(group: number, m: number, t: number, v: number): void {
    if (m >= this.memberCapacity) this.ensureMembers(m);
    this.mdirty[m >> BLOCK_SHIFT] = 1;
    this.totals = null;
    const ms = this.ms;
    const o = m * STRIDE;
    const n = ms[o + N]!;
    if (n === 0) {
      this.touchedMembers[this.touchedMemberCount++] = m;
      this.memberGroup[m] = group;
      ms[o + N] = 1;
      ms[o + FT] = t;
      ms[o + FV] = v;
      ms[o + LT] = t;
      ms[o + LV] = v;
      ms[o + INC] = 0;
    } else if (t > ms[o + LT]!) {
      const lv = ms[o + LV]!;
      ms[o + INC] += v >= lv ? v - lv : v;
      ms[o + LT] = t;
      ms[o + LV] = v;
      ms[o + N] = n + 1;
    } else if (t < ms[o + FT]!) {
      const fv = ms[o + FV]!;
      ms[o + INC] += fv >= v ? fv - v : fv;
      ms[o + FT] = t;
      ms[o + FV] = v;
      ms[o + N] = n + 1;
    }
  }

  /** The touched group slots in first-touch order (a view: do not keep across `add`). */
  groups(): Int32Array {
    return this.touchedGroups.subarray(0, this.touchedCount);
  }

  /** Whether group `group` has data in this window. */
  has(group: number): boolean {
    return group < this.groupCapacity && this.n[group]! > 0;
  }

  /** The group's value for `fn` (`accValue`); null when there is none. */
  value(group: number, q: number | null, windowMs: number): number | null {
    const n = group < this.groupCapacity ? this.n[group]! : 0;
    if (n === 0) return null;
    switch (this.fn) {
      case 'count':
        return n;
      case 'sum':
        return this.sum[group]!;
      case 'avg':
        return this.sum[group]! / n;
      case 'min':
        return this.min[group]!;
      case 'max':
        return this.max[group]!;
      case 'first':
        return this.first[group]!;
      case 'last':
        return this.last[group]!;
      case 'stddev': {
        const mean = this.sum[group]! / n;
        return Math.sqrt(Math.max(0, this.sumsq[group]! / n - mean * mean));
      }
      case 'count_series':
        return this.ns[group]!;
      case 'rate':
      case 'increase':
      case 'delta': {
        const totals = (this.totals ??= this.counterTotals(windowMs));
        const v = totals[group]!;
        return Number.isNaN(v) ? null : v;
      }
      default:
        return this.sk.quantile(group, q!);
    }
  }

  /** Per group: the sum of its series' values in member first-touch order (NaN = no series with a value). */
  private counterTotals(windowMs: number): Float64Array {
    const out = new Float64Array(this.groupCapacity).fill(NaN);
    const scale = windowMs / 1000;
    for (let i = 0; i < this.touchedMemberCount; i++) {
      const m = this.touchedMembers[i]!;
      const o = m * STRIDE;
      const ms = this.ms;
      const ft = ms[o + FT]!;
      const lt = ms[o + LT]!;
      if (ms[o + N]! < 2 || lt === ft) continue;
      const spanS = (lt - ft) / 1000;
      let v: number;
      if (this.fn === 'rate') v = ms[o + INC]! / spanS;
      else if (this.fn === 'increase') v = (ms[o + INC]! / spanS) * scale;
      else v = ((ms[o + LV]! - ms[o + FV]!) / spanS) * scale;
      const g = this.memberGroup[m]!;
      out[g] = Number.isNaN(out[g]!) ? v : out[g]! + v;
    }
    return out;
  }

  /** Group blocks and member blocks changed since the last call (clears the flags). */
  takeDirty(): { groups: number[]; members: number[] } {
    const take = (flags: Uint8Array, persisted: Set<number>) => {
      const out: number[] = [];
      for (let b = 0; b < flags.length; b++) {
        if (flags[b] === 0) continue;
        flags[b] = 0;
        out.push(b);
        persisted.add(b);
      }
      return out;
    };
    return { groups: take(this.dirty, this.persistedBlocks), members: take(this.mdirty, this.persistedMemberBlocks) };
  }

  /**
   * The persisted form of group block `block`: `{ cols, g: [[...names(slot), ...column values, sketch?]] }`
   * (`names` gives what identifies the group across processes: slots are this process' own).
   */
  groupBlock(block: number, names: (group: number) => unknown[]): { cols: readonly GroupColumn[]; g: unknown[][] } {
    const cols = COLUMNS_OF[this.mode].filter((c) => c !== 'ns');
    const g: unknown[][] = [];
    const to = Math.min(this.groupCapacity, (block + 1) << BLOCK_SHIFT);
    for (let s = block << BLOCK_SHIFT; s < to; s++) {
      if (this.n[s] === 0) continue;
      const row = names(s);
      for (const c of cols) row.push(this[c][s]);
      if (this.mode === Mode.Sketch) row.push(this.sk.toState(s));
      g.push(row);
    }
    return { cols, g };
  }

  /**
   * The persisted form of member block `block`: `[[...names(member, group), n, ft, fv, lt, lv, inc]]`
   * (count_series: `[...names, 1]`, presence only).
   */
  memberBlock(block: number, names: (member: number, group: number) => unknown[]): unknown[][] {
    const out: unknown[][] = [];
    const to = Math.min(this.memberCapacity, (block + 1) << BLOCK_SHIFT);
    const ms = this.ms;
    for (let m = block << BLOCK_SHIFT; m < to; m++) {
      if (this.mode === Mode.SeriesCount) {
        if (this.seen[m] === 1) out.push([...names(m, this.memberGroup[m]!), 1]);
        continue;
      }
      const o = m * STRIDE;
      if (ms[o + N] === 0) continue;
      out.push([...names(m, this.memberGroup[m]!), ms[o + N]!, ms[o + FT]!, ms[o + FV]!, ms[o + LT]!, ms[o + LV]!, ms[o + INC]!]);
    }
    return out;
  }

  /** Sets `group` from persisted column values (restore); the block is rewritten at the next commit. */
  restoreGroup(group: number, cols: Partial<Record<GroupColumn, number>>, sk: SketchState | null | undefined): void {
    if ((cols.n ?? 0) === 0) return;
    this.ensureGroups(group);
    if (this.n[group] === 0) this.touch(group);
    for (const c of COLUMNS_OF[this.mode]) if (c !== 'ns') this[c][group] = cols[c] ?? IDENTITY[c];
    if (this.mode === Mode.Sketch && sk) this.sk.restore(group, sk);
    this.dirty[group >> BLOCK_SHIFT] = 1;
  }

  /** Sets the per-series state of member `m` of `group` (restore). */
  restoreMember(group: number, m: number, s: SeriesAcc): void {
    if (s.n === 0) return;
    this.totals = null;
    if (this.mode === Mode.SeriesCount) {
      this.ensureGroups(group);
      this.ensureMembers(m);
      if (this.seen[m] === 0) this.see(group, m);
      return;
    }
    if (this.mode !== Mode.PerSeries) return;
    this.ensureGroups(group);
    this.ensureMembers(m);
    const o = m * STRIDE;
    const ms = this.ms;
    if (ms[o + N] === 0) this.touchedMembers[this.touchedMemberCount++] = m;
    this.memberGroup[m] = group;
    ms[o + N] = s.n;
    ms[o + FT] = s.ft;
    ms[o + FV] = s.fv;
    ms[o + LT] = s.lt;
    ms[o + LV] = s.lv;
    ms[o + INC] = s.inc;
    this.mdirty[m >> BLOCK_SHIFT] = 1;
  }
}

