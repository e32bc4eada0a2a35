import { describe, expect, it } from 'vitest';
import { SketchColumns } from '../../src/rules/sketch-columns.js';
import { newSketch, sketchAdd, sketchQuantile, type SketchState } from '../../src/rules/sketch.js';

describe('SketchColumns', () => {
  it('returns the quantiles of the keyed sketch bit for bit, per group, over negative, zero and spread values', () => {
    const cols = new SketchColumns();
    cols.ensure(5);
    const keyed: SketchState[] = Array.from({ length: 5 }, () => newSketch());
    let x = 11;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 48271) % 2147483647;
      const r = x / 2147483647;
      const g = i % 5;
      // Values over 12 orders of magnitude (ranges that widen both ways), both signs, zeros, NaN.
      const v = i % 97 === 0 ? NaN : i % 13 === 0 ? 0 : (r < 0.3 ? -1 : 1) * Math.exp(((r * 1000) % 1) * 28 - 14) * (g + 1);
      cols.add(g, v);
      sketchAdd(keyed[g]!, v);
    }
    for (let g = 0; g < 5; g++) {
      for (const q of [0, 0.01, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) expect(cols.quantile(g, q)).toBe(sketchQuantile(keyed[g]!, q));
      expect(cols.toState(g)).toEqual(keyed[g]);
    }
    const back = new SketchColumns();
    back.restore(3, cols.toState(1)!);
    for (const q of [0.05, 0.5, 0.95]) expect(back.quantile(3, q)).toBe(cols.quantile(1, q));
  });

  it('has no value for a group without samples', () => {
    const cols = new SketchColumns();
    cols.ensure(2);
    expect(cols.quantile(0, 0.5)).toBeNull();
    cols.add(0, NaN);
    expect(cols.quantile(0, 0.5)).toBeNull();
    expect(cols.toState(0)).toBeNull();
    cols.add(1, 250);
    expect(cols.quantile(1, 0.99)).toBe(250);
    expect(cols.quantile(7, 0.99)).toBeNull();
  });

  it('starts a window with the ranges of the previous one and answers the same', () => {
    const first = new SketchColumns();
    first.ensure(3);
    for (let i = 1; i < 400; i++) first.add(i % 3, i * (i % 3 === 2 ? -1 : 1));
    const next = new SketchColumns(first);
    const alone = new SketchColumns();
    next.ensure(4);
    alone.ensure(4);
    for (let i = 1; i < 900; i += 7) {
      next.add(i % 4, i / 3);
      alone.add(i % 4, i / 3);
    }
    for (let g = 0; g < 4; g++) {
      for (const q of [0.1, 0.5, 0.99]) expect(next.quantile(g, q)).toBe(alone.quantile(g, q));
      expect(next.toState(g)).toEqual(alone.toState(g));
    }
  });

  it('sizes the next window from the range the values spanned, not the range that grew by doubling', () => {
    const groups = 64;
    const first = new SketchColumns();
    first.ensure(groups);
    // Positive values 1..1000 arriving in increasing order: each group's range widens several times.
    for (let v = 1; v <= 1000; v++) for (let g = 0; g < groups; g++) first.add(g, v);
    const span = Math.ceil(Math.log(1000) / Math.log(1.01 / 0.99)) + 1;
    const next = new SketchColumns(first);
    expect(next.bucketCapacity).toBeLessThanOrEqual(groups * (span + 17) + 1024);
    expect(next.bucketCapacity).toBeGreaterThanOrEqual(groups * span);
    // A group with values of both signs keeps its allocated ranges (its smallest magnitudes are unknown).
    const mixed = new SketchColumns();
    mixed.ensure(1);
    for (let v = 1; v <= 1000; v++) mixed.add(0, v % 2 === 0 ? v : -v);
    const after = new SketchColumns(mixed);
    after.ensure(1);
    const alone = new SketchColumns();
    alone.ensure(1);
    for (let v = 1; v <= 1000; v += 3) {
      after.add(0, -v / 2);
      alone.add(0, -v / 2);
    }
    expect(after.bucketCapacity).toBeGreaterThanOrEqual(mixed.bucketCapacity / 4);
    for (const q of [0.01, 0.5, 0.99]) expect(after.quantile(0, q)).toBe(alone.quantile(0, q));
  });

  it('keeps counts exact beyond 32 bits and when restored counts are not integers', () => {
    const big = newSketch();
    sketchAdd(big, 5);
    big.pos = Object.fromEntries(Object.entries(big.pos).map(([k]) => [k, 2 ** 32 - 1]));
    big.count = 2 ** 32 - 1;
    const cols = new SketchColumns();
    cols.restore(0, big);
    cols.add(0, 5);
    cols.add(0, 5);
    const state = cols.toState(0)!;
    expect(Object.values(state.pos)).toEqual([2 ** 32 + 1]);
    expect(state.count).toBe(2 ** 32 + 1);
    const half = { ...newSketch(), pos: { '100': 0.5, '120': 1.5 }, count: 2, min: 1, max: 20 };
    const frac = new SketchColumns();
    frac.restore(0, half);
    expect(frac.toState(0)!.pos).toEqual({ '100': 0.5, '120': 1.5 });
  });
});
