import { describe, expect, it } from 'vitest';
import { rendezvousOwner, ShardSchedule } from '../../src/collect/shard/shard-schedule.js';
import { nextSlot, slotOffset } from '../../src/collect/scrape/scrape-manager.js';

const keys = Array.from({ length: 3000 }, (_, i) => `job|http://10.0.${i >> 8}.${i & 255}:9100/metrics|{}`);

describe('rendezvous hashing', () => {
  it('spreads keys evenly and moves only the leaver\'s keys', () => {
    const three = keys.map((k) => rendezvousOwner(k, ['a', 'b', 'c']));
    for (const m of ['a', 'b', 'c']) expect(three.filter((o) => o === m).length).toBeGreaterThan(850);
    const two = keys.map((k) => rendezvousOwner(k, ['a', 'b']));
    keys.forEach((_, i) => {
      if (three[i] !== 'c') expect(two[i]).toBe(three[i]);
    });
  });

  it('moves only keys to a joiner, about 1/n of them', () => {
    const three = keys.map((k) => rendezvousOwner(k, ['a', 'b', 'c']));
    const four = keys.map((k) => rendezvousOwner(k, ['a', 'b', 'c', 'd']));
    let moved = 0;
    keys.forEach((_, i) => {
      if (four[i] !== three[i]) {
        expect(four[i]).toBe('d');
        moved++;
      }
    });
    expect(moved).toBeGreaterThan(600);
    expect(moved).toBeLessThan(900);
    expect(rendezvousOwner('x', [])).toBeUndefined();
  });
});

describe('ShardSchedule', () => {
  it('answers by the view in force at the slot time; nothing before the first view', () => {
    const a = new ShardSchedule('a');
    const c = new ShardSchedule('c');
    const key = keys.find((k) => rendezvousOwner(k, ['a', 'b', 'c']) === 'c')!;
    expect(a.owns(key, 5000)).toBe(false);
    for (const s of [a, c]) {
      s.add({ members: ['c', 'b', 'a'], effectiveAt: 1000 });
      s.add({ members: ['a', 'b'], effectiveAt: 10_000 });
    }
    expect(c.owns(key, 999)).toBe(false);
    expect(c.owns(key, 1000)).toBe(true);
    expect(c.owns(key, 9999)).toBe(true);
    expect(c.owns(key, 10_000)).toBe(false);
    // At every slot exactly one of the members owns the key.
    const b = new ShardSchedule('b');
    b.add({ members: ['a', 'b', 'c'], effectiveAt: 1000 });
    b.add({ members: ['a', 'b'], effectiveAt: 10_000 });
    for (let t = 1000; t < 20_000; t += 500) expect([a, b, c].filter((s) => s.owns(key, t))).toHaveLength(1);
    expect(a.add({ members: ['a'], effectiveAt: 10_000 })).toBe(false);
    a.clear();
    expect(a.owns(key, 50_000)).toBe(false);
  });

  it('slots are fixed per key: offset within the interval, next slot strictly later', () => {
    const offset = slotOffset(keys[0]!, 15_000);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(15_000);
    expect(slotOffset(keys[0]!, 15_000)).toBe(offset);
    const slot = nextSlot(1_700_000_000_000, offset, 15_000);
    expect((slot - offset) % 15_000).toBe(0);
    expect(slot).toBeGreaterThan(1_700_000_000_000);
    expect(slot - 1_700_000_000_000).toBeLessThanOrEqual(15_000);
    expect(nextSlot(slot, offset, 15_000)).toBe(slot + 15_000);
  });
});
