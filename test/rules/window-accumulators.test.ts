import { describe, expect, it } from 'vitest';
import { AGGREGATIONS, type AggFn } from '../../src/dsl/model.js';
import { accAdd, accValue, newAcc, type Acc } from '../../src/rules/aggregators.js';
import { WindowAccumulators } from '../../src/rules/window-accumulators.js';

/** A seeded sequence of samples over `groups` groups, 3 series each, with resets, ties and out-of-order times. */
function samples(seed: number, count: number, groups: number): Array<{ g: number; m: number; t: number; v: number }> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = [];
  for (let i = 0; i < count; i++) {
    const g = Math.floor(rnd() * groups);
    const m = g * 3 + Math.floor(rnd() * 3);
    const t = Math.floor(rnd() * 60) * 1000;
    const v = rnd() < 0.1 ? 0 : rnd() < 0.2 ? -rnd() * 50 : Math.round(rnd() * 1000) / 10;
    out.push({ g, m, t, v });
  }
  return out;
}

describe('WindowAccumulators', () => {
  it.each(AGGREGATIONS.map((fn) => [fn]))('gives the values of the object accumulators for %s', (fn: AggFn) => {
    const w = new WindowAccumulators(0, fn, 60_000, 60_000);
    const accs = new Map<number, Acc>();
    const q = fn === 'quantile' ? 0.3 : fn.startsWith('p') ? Number(fn.slice(1)) / 100 : null;
    for (const { g, m, t, v } of samples(7, 3000, 40)) {
      w.add(g, m, t, v);
      let a = accs.get(g);
      if (!a) accs.set(g, (a = newAcc(fn)));
      accAdd(a, fn, `s${m}`, t, v);
    }
    expect([...w.groups()]).toEqual([...accs.keys()]);
    for (const [g, a] of accs) expect(w.value(g, q, 60_000)).toBe(accValue(a, fn, q, 60_000));
    expect(w.value(999, q, 60_000)).toBeNull();
  });

  it('persists blocks of changed groups and members and restores them in another numbering', () => {
    const w = new WindowAccumulators(0, 'rate', 60_000, 60_000);
    w.add(3, 5, 0, 10);
    w.add(3, 5, 30_000, 40);
    w.add(3000, 7, 10_000, 1);
    w.add(3000, 7, 20_000, 0);
    const dirty = w.takeDirty();
    expect(dirty).toEqual({ groups: [0, 1], members: [0] });
    expect(w.takeDirty()).toEqual({ groups: [], members: [] });
    const names = (g: number) => [`g${g}`];
    const g0 = w.groupBlock(0, names);
    expect(g0.g).toEqual([['g3', 2]]);
    const members = w.memberBlock(0, (m, g) => [`s${m}`, `g${g}`]);
    expect(members).toEqual([
      ['s5', 'g3', 2, 0, 10, 30_000, 40, 30],
      ['s7', 'g3000', 2, 10_000, 1, 20_000, 0, 0],
    ]);
    // Restore with group g3000 -> slot 0 and g3 -> slot 1, members swapped too.
    const r = new WindowAccumulators(0, 'rate', 60_000, 60_000);
    for (const [gk, slot] of [['g3000', 0], ['g3', 1]] as const) {
      const row = [...g0.g, ...w.groupBlock(1, names).g].find((x) => x[0] === gk)!;
      r.restoreGroup(slot, { n: row[1] as number }, null);
    }
    r.restoreMember(1, 0, { n: 2, ft: 0, fv: 10, lt: 30_000, lv: 40, inc: 30 });
    r.restoreMember(0, 1, { n: 2, ft: 10_000, fv: 1, lt: 20_000, lv: 0, inc: 0 });
    expect(r.value(1, null, 60_000)).toBe(w.value(3, null, 60_000));
    expect(r.value(0, null, 60_000)).toBe(w.value(3000, null, 60_000));
    expect(r.takeDirty()).toEqual({ groups: [0], members: [0] });
  });

  it('tells which samples only its own tumbling window can take', () => {
    expect(new WindowAccumulators(60_000, 'sum', 60_000, 60_000).fastEnd).toBe(120_000);
    expect(new WindowAccumulators(60_000, 'sum', 300_000, 60_000).fastEnd).toBe(60_000);
  });
});
