import { describe, expect, it } from 'vitest';
import { ByteKeyTable, hashBytes, MISSING } from '../../src/model/byte-key-table.js';

const bytes = (s: string) => Buffer.from(s);

describe('ByteKeyTable', () => {
  it('maps (owner, bytes) to values, telling owners, lengths and contents apart', () => {
    const t = new ByteKeyTable();
    t.add(1, bytes('abc'), 0, 3, 7);
    t.add(2, bytes('abc'), 0, 3, -3);
    t.add(1, bytes('abcd'), 0, 4, 9);
    t.add(1, bytes(''), 0, 0, 0);
    expect(t.get(1, bytes('xabcx'), 1, 4)).toBe(7);
    expect(t.get(2, bytes('abc'), 0, 3)).toBe(-3);
    expect(t.get(1, bytes('abcd'), 0, 4)).toBe(9);
    expect(t.get(1, bytes(''), 0, 0)).toBe(0);
    expect(t.get(3, bytes('abc'), 0, 3)).toBe(MISSING);
    expect(t.get(1, bytes('abd'), 0, 3)).toBe(MISSING);
    expect(t.get(1, bytes('ab'), 0, 2)).toBe(MISSING);
    expect(t.size).toBe(4);
  });

  it('keeps every entry through growth, and forgets them all on clear', () => {
    const t = new ByteKeyTable();
    for (let i = 0; i < 20_000; i++) {
      const k = bytes(`series-${i}-${'x'.repeat(i % 13)}`);
      t.add(i % 5, k, 0, k.length, i);
    }
    for (let i = 0; i < 20_000; i += 7) {
      const k = bytes(`series-${i}-${'x'.repeat(i % 13)}`);
      expect(t.get(i % 5, k, 0, k.length)).toBe(i);
      expect(t.get((i % 5) + 1, k, 0, k.length)).toBe(MISSING);
    }
    t.clear();
    expect(t.size).toBe(0);
    const k = bytes('series-7-xxxxxxx');
    expect(t.get(2, k, 0, k.length)).toBe(MISSING);
    t.add(2, k, 0, k.length, 1);
    expect(t.get(2, k, 0, k.length)).toBe(1);
  });

  it('numbers entries in the order they were added; matches checks one entry without hashing', () => {
    const t = new ByteKeyTable();
    expect(t.add(1, bytes('a'), 0, 1, 10)).toBe(0);
    expect(t.add(1, bytes('bb'), 0, 2, 20)).toBe(1);
    expect(t.find(1, bytes('bb'), 0, 2)).toBe(1);
    expect(t.find(2, bytes('bb'), 0, 2)).toBe(-1);
    expect(t.valueAt(1)).toBe(20);
    expect(t.matches(0, 1, bytes('a'), 0, 1)).toBe(true);
    expect(t.matches(0, 2, bytes('a'), 0, 1)).toBe(false);
    expect(t.matches(1, 1, bytes('b'), 0, 1)).toBe(false);
    expect(t.matches(2, 1, bytes('a'), 0, 1)).toBe(false);
    expect(t.matches(-1, 1, bytes('a'), 0, 1)).toBe(false);
    t.clear();
    expect(t.matches(0, 1, bytes('a'), 0, 1)).toBe(false);
  });

  it('hashes the bytes of a range, whatever buffer they are in', () => {
    expect(hashBytes(4, bytes('--hello--'), 2, 7)).toBe(hashBytes(4, bytes('hello'), 0, 5));
    expect(hashBytes(4, bytes('hello'), 0, 5)).not.toBe(hashBytes(5, bytes('hello'), 0, 5));
  });
});
