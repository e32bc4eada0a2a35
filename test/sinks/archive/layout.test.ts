import { describe, expect, it } from 'vitest';
import { hourStartOf, liveObjects, parseDurationMs, parsePartKey, partKey } from '../../../src/sinks/archive/layout.js';

const H = Date.UTC(2026, 10, 25, 7);

describe('archive layout', () => {
  it('builds and parses hive keys with UTC date and two-digit hour', () => {
    const key = partKey({ resolution: 'raw', hourStart: H, partition: 3, firstOffset: 100, lastOffset: 250 });
    expect(key).toBe('resolution=raw/date=2026-11-25/hour=07/part-3-100-250.parquet');
    expect(parsePartKey(key)).toEqual({ resolution: 'raw', hourStart: H, partition: 3, firstOffset: 100, lastOffset: 250 });
    expect(hourStartOf(H + 3_599_999)).toBe(H);
  });

  it('rejects keys that are not archive parts', () => {
    for (const k of ['resolution=raw/date=2026-11-25/hour=07/part-3-100-250.parquet.tmp', 'resolution=5m/date=2026-11-25/hour=07/part-3-1-2.parquet', 'resolution=raw/date=2026-11-25/hour=24/part-3-1-2.parquet', 'resolution=raw/date=2026-11-25/hour=07/part-3-9-2.parquet']) {
      expect(parsePartKey(k)).toBeNull();
    }
  });

  it('a file whose range lies inside another of the same hour and partition is superseded', () => {
    const k = (p: number, a: number, b: number, hour = H) => ({ key: partKey({ resolution: 'raw', hourStart: hour, partition: p, firstOffset: a, lastOffset: b }) });
    const objs = [k(0, 1, 10), k(0, 11, 20), k(0, 1, 20), k(1, 5, 6), k(0, 21, 30), k(0, 5, 6, H + 3_600_000)];
    const { live, superseded } = liveObjects(objs);
    expect(live.map((o) => o.key).sort()).toEqual([k(0, 1, 20), k(1, 5, 6), k(0, 21, 30), k(0, 5, 6, H + 3_600_000)].map((o) => o.key).sort());
    expect(superseded.map((o) => o.key).sort()).toEqual([k(0, 1, 10), k(0, 11, 20)].map((o) => o.key).sort());
  });

  it('parses retention durations', () => {
    expect(parseDurationMs('30d')).toBe(30 * 86_400_000);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(() => parseDurationMs('30 days')).toThrow(/Invalid duration "30 days"/);
  });
});
