import { describe, expect, it } from 'vitest';
import { allocateColumns, SeriesTable } from '../../src/model/decoded-batch.js';
import { seriesIdentity } from '../../src/model/series.js';

describe('columns and series table', () => {
  it('allocates independent columns of the right length', () => {
    const c = allocateColumns(3);
    c.timestamps.fill(1);
    c.values.fill(2);
    c.seriesRefs.fill(3);
    c.kinds.fill(4);
    expect([...c.timestamps, ...c.values, ...c.seriesRefs, ...c.kinds]).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  });

  it('interns a series once and hands out dense refs', () => {
    const t = new SeriesTable();
    const f = { id: 1n, key: '0000000000000001', hi: 0, lo: 1, name: 'up', labels: {}, canonical: 'up{}' };
    const a = t.intern(f);
    expect(t.intern({ ...f })).toBe(a);
    expect(t.intern({ ...f, key: '0000000000000002', id: 2n }).ref).toBe(1);
    expect(t.get(0)).toBe(a);
    expect(() => t.get(5)).toThrow(RangeError);
  });

  it('recomputes the canonical form on demand and freezes what it interns', () => {
    const t = new SeriesTable();
    const info = t.intern(seriesIdentity('cpu.load', { host: 'h1', pool: 'p' }));
    expect(info.canonical).toBe('cpu.load{host="h1",pool="p"}');
    expect(Object.isFrozen(info) && Object.isFrozen(info.labels)).toBe(true);
    expect(t.byId(info.key)).toBe(info);
  });
});
