import { describe, expect, it } from 'vitest';
import { alignDown, closeTime, hopping, isWindowClosed, openWindowStartsFor, parseDuration, tumbling, windowStartsFor } from '../../src/topology/windows.js';

describe('window assignment', () => {
  it('tumbling windows are aligned to the epoch', () => {
    const w = tumbling(60_000);
    expect(windowStartsFor(0, w)).toEqual([0]);
    expect(windowStartsFor(59_999, w)).toEqual([0]);
    expect(windowStartsFor(60_000, w)).toEqual([60_000]);
    expect(windowStartsFor(1_700_000_012_345, w)).toEqual([1_700_000_000_000 - (1_700_000_000_000 % 60_000) + 60_000 * Math.floor((12_345 + (1_700_000_000_000 % 60_000)) / 60_000)]);
    expect(windowStartsFor(1_700_000_012_345, w)[0]! % 60_000).toBe(0);
  });

  it('negative timestamps align down, not toward zero', () => {
    expect(alignDown(-1, 60_000)).toBe(-60_000);
    expect(windowStartsFor(-1, tumbling(60_000))).toEqual([-60_000]);
  });

  it('hopping windows: every window containing the timestamp, edges exclusive at the end', () => {
    const w = hopping(10_000, 5_000);
    expect(windowStartsFor(12_000, w)).toEqual([5_000, 10_000]);
    expect(windowStartsFor(10_000, w)).toEqual([5_000, 10_000]);
    expect(windowStartsFor(14_999, w)).toEqual([5_000, 10_000]);
    expect(windowStartsFor(15_000, w)).toEqual([10_000, 15_000]);
    const odd = hopping(10, 3);
    expect(windowStartsFor(12, odd)).toEqual([3, 6, 9, 12]);
    for (const s of windowStartsFor(12, odd)) expect(12 >= s && 12 < s + 10).toBe(true);
  });

  it('closes at end + grace', () => {
    const w = tumbling(60_000, 10_000);
    expect(closeTime(0, w)).toBe(70_000);
    expect(isWindowClosed(0, w, 69_999)).toBe(false);
    expect(isWindowClosed(0, w, 70_000)).toBe(true);
    expect(openWindowStartsFor(59_000, w, 69_999)).toEqual([0]);
    expect(openWindowStartsFor(59_000, w, 70_000)).toEqual([]);
  });

  it('rejects invalid windows with a code', () => {
    expect(() => hopping(10, 20)).toThrow(/exceeds size/);
    expect(() => tumbling(0)).toThrow(/positive integer/);
    expect(() => tumbling(10, -1)).toThrow(/grace/);
  });

  it('parses durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(() => parseDuration('5 minutes')).toThrow(/Invalid duration "5 minutes"/);
  });
});
