import { describe, expect, it } from 'vitest';
import { idWordsOf, WindowSet } from '../../../src/sinks/archive/window-set.js';

const HOUR = Date.UTC(2026, 10, 25, 10);

describe('WindowSet', () => {
  it('holds each (series, window) once, for many series and every window of the hour', () => {
    const set = new WindowSet(HOUR, 60_000);
    const ids = Array.from({ length: 20_000 }, (_, i) => idWordsOf(BigInt.asIntN(64, BigInt(i) * 0x9e3779b97f4a7c15n)));
    let added = 0;
    for (const [lo, hi] of ids) for (let m = 0; m < 60; m += 7) if (set.add(lo, hi, HOUR + m * 60_000)) added++;
    expect(added).toBe(20_000 * 9);
    expect(set.series).toBe(20_000);
    let wrong = 0;
    for (const [lo, hi] of ids) {
      for (let m = 0; m < 60; m++) if (set.add(lo, hi, HOUR + m * 60_000) !== (m % 7 !== 0)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(set.series).toBe(20_000);
  });

  it('keeps a window start off the slot grid exactly', () => {
    const set = new WindowSet(HOUR, 60_000);
    const [lo, hi] = idWordsOf(-5n);
    expect(set.add(lo, hi, HOUR + 30_000)).toBe(true);
    expect(set.add(lo, hi, HOUR)).toBe(true);
    expect(set.add(lo, hi, HOUR + 30_000)).toBe(false);
    expect(set.add(lo, hi, HOUR + 90_000)).toBe(true);
  });

  it('splits a signed 64-bit id into its low and high words', () => {
    expect(idWordsOf(-1n)).toEqual([-1, -1]);
    expect(idWordsOf(0x1_0000_0002n)).toEqual([2, 1]);
    expect(idWordsOf(-(2n ** 63n))).toEqual([0, -2147483648]);
  });
});
