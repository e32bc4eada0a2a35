import { describe, expect, it } from 'vitest';
import { changelogRecords, partCount } from '../../src/topology/internals/changelog-parts.js';
import { ChangelogRestorer } from '../../src/topology/internals/changelog-restore.js';
import { CHANGELOG_MARKER_KEY, KEYS } from '../../src/topology/internals/stream-task.js';

const LIMIT = 64 * 1024;
const marker = { key: Buffer.from(CHANGELOG_MARKER_KEY), value: Buffer.from(JSON.stringify({ seq: 1, streamTime: null, offsets: {} })) };
const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

function restore(records: Array<{ key: Buffer; value: Buffer | null }>): Map<string, Buffer | null> {
  const r = new ChangelogRestorer();
  for (const rec of records) r.add(rec);
  r.add(marker);
  return new Map(r.toStorageOps().filter((op) => op.key.startsWith('s\u0000')).map((op) => [op.key, op.type === 'put' ? op.value : null]));
}

describe('changelog parts', () => {
  it('a value larger than a record goes in parts under the limit and is restored whole', () => {
    const value = bytes(200_000, 7);
    const records = changelogRecords('w\u0000k', value, LIMIT);
    expect(records.length).toBe(partCount('w\u0000k', value.length, LIMIT));
    expect(records.length).toBeGreaterThan(3);
    for (const r of records) expect(r.key.length + r.value!.length).toBeLessThan(LIMIT - 4096);
    expect(restore(records).get(KEYS.store('w', 'k'))).toEqual(value);
  });

  it('a value that shrinks tombstones the parts it no longer uses; a stale part is never reassembled', () => {
    const big = changelogRecords('w\u0000k', bytes(300_000, 1), LIMIT);
    const smaller = changelogRecords('w\u0000k', bytes(100_000, 2), LIMIT, big.length);
    const tombstones = smaller.filter((r) => r.value === null);
    expect(tombstones).toHaveLength(big.length - partCount('w\u0000k', 100_000, LIMIT));
    // after compaction only the newest record of each key is left, in offset order
    const latest = new Map<string, { key: Buffer; value: Buffer | null }>();
    for (const r of [...big, ...smaller]) {
      latest.delete(r.key.toString());
      latest.set(r.key.toString(), r);
    }
    expect(restore([...latest.values()]).get(KEYS.store('w', 'k'))).toEqual(bytes(100_000, 2));
    // without the tombstones (an older writer), the left-over parts of the big value are ignored
    expect(restore([...big, ...smaller.filter((r) => r.value !== null)]).get(KEYS.store('w', 'k'))).toEqual(bytes(100_000, 2));
    // back to one record: every part tombstoned, the whole value wins
    const whole = changelogRecords('w\u0000k', bytes(10, 3), LIMIT, smaller.length - tombstones.length);
    expect(whole[0]!.key.toString()).toBe('w\u0000k');
    expect(whole.slice(1).every((r) => r.value === null)).toBe(true);
    expect(restore([...big, ...smaller, ...whole]).get(KEYS.store('w', 'k'))).toEqual(bytes(10, 3));
  });

  it('parts of a commit cut short are discarded and reported for logging again', () => {
    const parts = changelogRecords('w\u0000k', bytes(200_000, 5), LIMIT);
    const r = new ChangelogRestorer();
    r.add(marker);
    for (const p of parts.slice(0, 2)) r.add(p);
    expect(r.toStorageOps().some((op) => op.key === KEYS.store('w', 'k'))).toBe(false);
    expect(r.discardedKeys()).toEqual([KEYS.store('w', 'k')]);
  });
});
