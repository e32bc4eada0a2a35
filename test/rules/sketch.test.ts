import { describe, expect, it } from 'vitest';
import { DEFAULT_RELATIVE_ACCURACY, newSketch, sketchAdd, sketchMerge, sketchQuantile } from '../../src/rules/sketch.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('DDSketch', () => {
  it('answers quantiles within the stated relative error, also after merging', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values = Array.from({ length: 20_000 }, () => Math.exp(rnd() * 12) * (rnd() < 0.1 ? -1 : 1));
    const a = newSketch();
    const b = newSketch();
    values.forEach((v, i) => sketchAdd(i % 2 ? a : b, v));
    sketchMerge(a, b);
    const sorted = [...values].sort((x, y) => x - y);
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = exactQuantile(sorted, q);
      const got = sketchQuantile(a, q)!;
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(Math.abs(exact) * DEFAULT_RELATIVE_ACCURACY + 1e-12);
    }
    expect(sketchQuantile(a, 0)).toBe(sorted[0]);
    expect(sketchQuantile(a, 1)).toBe(sorted[sorted.length - 1]);
  });

  it('handles zeros and empty sketches', () => {
    const s = newSketch();
    expect(sketchQuantile(s, 0.5)).toBeNull();
    [0, 0, 0, 5].forEach((v) => sketchAdd(s, v));
    expect(sketchQuantile(s, 0.5)).toBe(0);
    [5, 5, 5].forEach((v) => sketchAdd(s, v));
    expect(sketchQuantile(s, 0.9)).toBeCloseTo(5, 1);
  });
});
