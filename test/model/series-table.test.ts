import { describe, expect, it } from 'vitest';
import { hexKey, SeriesTable } from '../../src/model/series-table.js';
import { canonicalOfSorted, canonicalSeries, hash64, hash64Parts, seriesIdentity } from '../../src/model/series.js';

describe('SeriesTable (compact storage)', () => {
  it('keeps name, labels and hash of many series through its growth and rehashes', () => {
    const t = new SeriesTable();
    const refs: number[] = [];
    for (let i = 0; i < 5000; i++) refs.push(t.internRef(seriesIdentity(`m${i % 7}`, { host: `h${i}`, pool: `p${i % 3}`, ...(i % 2 ? { odd: 'y' } : {}) })));
    expect(refs).toEqual(refs.map((_, i) => i));
    expect(t.size).toBe(5000);
    for (const i of [0, 1, 1023, 1024, 2047, 4999]) {
      const id = seriesIdentity(`m${i % 7}`, { host: `h${i}`, pool: `p${i % 3}`, ...(i % 2 ? { odd: 'y' } : {}) });
      expect(t.nameOf(i)).toBe(id.name);
      expect(t.labelsOf(i)).toEqual(id.labels);
      expect(Object.keys(t.labelsOf(i))).toEqual(Object.keys(id.labels));
      expect(t.labelCount(i)).toBe(i % 2 ? 3 : 2);
      expect(t.labelValue(i, 'host')).toBe(`h${i}`);
      expect(t.labelValue(i, 'odd')).toBe(i % 2 ? 'y' : undefined);
      expect(t.labelValue(i, 'nope')).toBeUndefined();
      expect(hexKey(t.hiOf(i), t.loOf(i))).toBe(id.key);
      expect(t.find(id.hi, id.lo)).toBe(i);
      expect(t.internRef(id)).toBe(i);
      const info = t.get(i);
      expect({ id: info.id, key: info.key, hi: info.hi, lo: info.lo, canonical: info.canonical }).toEqual({ id: id.id, key: id.key, hi: id.hi, lo: id.lo, canonical: id.canonical });
    }
    expect(t.find(1, 2)).toBe(-1);
  });

  it('materialises a SeriesInfo only on get, once, and hands out fresh label objects from labelsOf', () => {
    const t = new SeriesTable();
    const ref = t.internRef(seriesIdentity('up', { job: 'a', __proto__x: 'b' }));
    const a = t.get(ref);
    expect(t.get(ref)).toBe(a);
    expect(t.byId(a.key)).toBe(a);
    expect(t.byId('not-a-key')).toBeUndefined();
    const own = t.labelsOf(ref);
    expect(own).not.toBe(a.labels);
    own.job = 'changed';
    expect(t.labelsOf(ref).job).toBe('a');
    expect(() => t.nameOf(1)).toThrow(RangeError);
    expect(() => t.get(-1)).toThrow(RangeError);
  });

  it('keeps a label called __proto__ as a label', () => {
    const t = new SeriesTable();
    const ref = t.internRef(seriesIdentity('m', { a: '1', ['__proto__']: 'x' } as Record<string, string>));
    expect(Object.keys(t.labelsOf(ref))).toEqual(['__proto__', 'a']);
    expect(t.get(ref).canonical).toBe('m{__proto__="x",a="1"}');
  });
});

describe('first-sight helpers', () => {
  it('canonicalOfSorted and hash64Parts agree with canonicalSeries and hash64', () => {
    const labels = { b: 'x"y', a: '1', e: '' };
    const names = Object.keys(labels).sort();
    expect(canonicalOfSorted('m', names, labels)).toBe(canonicalSeries('m', labels));
    const h = hash64('m{a="1",b="x\\"y"}');
    expect(hash64Parts('m{a="1",b="x\\"y"}')).toEqual({ hi: h.hi, lo: h.lo });
  });

  it('internHashed finds what internRef added and adds what is new', () => {
    const t = new SeriesTable();
    const id = seriesIdentity('up', { job: 'a' });
    const ref = t.internRef(id);
    expect(t.internHashed(id.hi, id.lo, 'up', ['job'], { job: 'a' })).toBe(ref);
    const other = seriesIdentity('up', { job: 'b', az: 'z' });
    const r2 = t.internHashed(other.hi, other.lo, 'up', ['az', 'job'], { job: 'b', az: 'z' });
    expect(r2).toBe(ref + 1);
    expect(t.get(r2).key).toBe(other.key);
    expect(t.get(r2).labels).toEqual({ az: 'z', job: 'b' });
  });
});
