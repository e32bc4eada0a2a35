import { describe, expect, it } from 'vitest';
import { parseStep, parseTime } from '../../src/query/query-params.js';
import { QueryCache } from '../../src/query/query-cache.js';

describe('query parameters', () => {
  it('reads unix seconds and RFC 3339 times', () => {
    expect(parseTime('start', '1700000000')).toBe(1_700_000_000_000);
    expect(parseTime('start', '1700000000.5')).toBe(1_700_000_000_500);
    expect(parseTime('start', '2026-11-25T10:00:00Z')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(parseTime('time', undefined, 42)).toBe(42);
    expect(() => parseTime('start', 'yesterday')).toThrow(/start: "yesterday" is not a unix timestamp/);
    expect(() => parseTime('end', undefined)).toThrow(/end: missing/);
  });

  it('reads steps in seconds or as durations', () => {
    expect(parseStep('step', '15')).toBe(15_000);
    expect(parseStep('step', '1m')).toBe(60_000);
    expect(parseStep('step', '1h30m')).toBe(5_400_000);
    expect(() => parseStep('step', '0')).toThrow(/positive duration/);
    expect(() => parseStep('step', 'fast')).toThrow(/step: "fast"/);
  });
});

describe('QueryCache', () => {
  it('keeps the most recently used entries', () => {
    const cache = new QueryCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.hits).toBe(3);
    expect(cache.misses).toBe(1);
    expect(QueryCache.key('q', 1, 2, 3)).not.toBe(QueryCache.key('q', 1, 2, 4));
  });
});
