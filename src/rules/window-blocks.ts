/**
 * How a rule's open windows are persisted: one store entry per block of 2048 group slots
 * (`c<SEP>rule<SEP>hash<SEP>leaf<SEP>start<SEP>g<block>`: group keys, labels and the columns of the
 * aggregation) and per block of 2048 series (`...m<block>`: per-series state of counter functions).
 * Blocks carry keys, never slots, so a restart re-interns them under its own numbering. Values are
 * built when the store encodes them (BlockValue.toJSON), so handing a million groups to the store at
 * a commit costs one object per block.
 */
import type { Acc, SeriesAcc } from './aggregators.js';
import { accFromJSON } from './aggregators.js';
import type { LeafState } from './leaf-state.js';
import type { RuleRuntime } from './rule-runtime.js';
import { SEP } from './rule-runtime.js';
import type { SketchState } from './sketch.js';
import type { GroupColumn, WindowAccumulators } from './window-accumulators.js';

/** A changed block of a window as a store value: encoded (toJSON) when the store writes it. */
export class BlockValue {
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

/** Store key of a block (`g<n>` groups, `m<n>` series) of the window of `leafId` starting at `start`. */
export function blockKey(rt: RuleRuntime, leafId: number, start: number, block: string): string {
  return `c${SEP}${rt.prefix}${leafId}${SEP}${start}${SEP}${block}`;
}

/** Keys of every block of window `w` that was handed to the store (to delete when it closes). */
export function persistedBlockKeys(rt: RuleRuntime, leafId: number, w: WindowAccumulators): string[] {
  const out: string[] = [];
  for (const b of w.persistedBlocks) out.push(blockKey(rt, leafId, w.start, `g${b}`));
  for (const b of w.persistedMemberBlocks) out.push(blockKey(rt, leafId, w.start, `m${b}`));
  return out;
}

/** Appends the blocks changed since the last call, for every open window of the rule. */
export function changedBlocks(rt: RuleRuntime, out: Array<[string, unknown]>): void {
  for (const [leafId, ls] of rt.leaves) {
    for (const w of ls.windows.values()) {
      const { groups, members } = w.takeDirty();
      for (const b of groups) out.push([blockKey(rt, leafId, w.start, `g${b}`), new BlockValue(ls, w, b, false)]);
      for (const b of members) out.push([blockKey(rt, leafId, w.start, `m${b}`), new BlockValue(ls, w, b, true)]);
    }
  }
}

/** Restores a block written by BlockValue (`block` = the key's last part). */
export function restoreBlock(ls: LeafState, start: number, block: string, value: unknown): void {
  const w = ls.window(start);
  if (block.startsWith('m')) {
    for (const row of (value as { m: unknown[][] }).m) {
      // count_series rows hold the count only (presence).
      const [sk, gk, n, ft = NaN, fv = NaN, lt = NaN, lv = NaN, inc = 0] = row as [string, string, ...number[]];
      const s: SeriesAcc = { n: n!, ft, fv, lt, lv, inc };
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

/** Restores one entry of the format before blocks (one entry per group: labels and an `Acc`). */
export function restoreGroupEntry(ls: LeafState, start: number, groupKey: string, value: unknown): void {
  const v = value as { labels: Record<string, string>; acc: Acc };
  const acc = accFromJSON(v.acc);
  const w = ls.window(start);
  const g = ls.group(groupKey, v.labels);
  w.restoreGroup(g, acc, acc.sk);
  for (const [sk, st] of acc.series ?? []) w.restoreMember(g, ls.member(sk), st);
}
