import { describe, expect, it } from 'vitest';
import { DenseSketch } from '../../src/rules/dense-sketch.js';
import { newSketch, sketchAdd, sketchQuantile } from '../../src/rules/sketch.js';

describe('DenseSketch', () => {
  it('returns the quantiles of the keyed sketch bit for bit, over negative, zero and spread values', () => {
    const d = new DenseSketch();
    const s = newSketch();
    let x = 11;
    for (let i = 0; i < 5000; i++) {
      x = (x * 48271) % 2147483647;
      const r = x / 2147483647;
      // Values over 12 orders of magnitude, both signs, zeros and NaN (ignored by both).
      const v = i % 97 === 0 ? NaN : i % 13 === 0 ? 0 : (r < 0.3 ? -1 : 1) * Math.exp(r * 28 - 14);
      d.add(v);
      sketchAdd(s, v);
    }
    for (const q of [0, 0.01, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) expect(d.quantile(q)).toBe(sketchQuantile(s, q));
    expect(d.toState()).toEqual(s);
    const back = DenseSketch.fromState(d.toState());
    for (const q of [0.05, 0.5, 0.95]) expect(back.quantile(q)).toBe(d.quantile(q));
  });

  it('is empty until a sample arrives', () => {
    const d = new DenseSketch();
    expect(d.quantile(0.5)).toBeNull();
    d.add(NaN);
    expect(d.quantile(0.5)).toBeNull();
    d.add(250);
    expect(d.quantile(0.99)).toBe(250);
  });
});
