/**
 * Opening a task against what the cluster holds (internals/task-opener.ts), with the cluster faked:
 * a truncated changelog, an outbox written before the task ran elsewhere, an incomplete commit in
 * the changelog (issue 13 defect 8).
 */
import { describe, expect, it } from 'vitest';
import { TaskOpener, type ClusterView } from '../../src/topology/internals/task-opener.js';
import { ChangelogRestorer, type ChangelogEntry } from '../../src/topology/internals/changelog-restore.js';
import { CHANGELOG_MARKER_KEY, KEYS, type CommitMarker } from '../../src/topology/internals/stream-task.js';
import { memoryStorageFactory } from '../../src/state/task-storage.js';
import { componentLogger } from '../../src/obs/logger.js';
import type { KeyValueStore } from '../../src/topology/api.js';
import { summingTopology } from './support/runtime-fixture.js';

const topology = summingTopology();
const entry = (store: string, key: string, value: number | null): ChangelogEntry => ({ key: Buffer.from(`${store}\u0000${key}`), value: value === null ? null : Buffer.from(JSON.stringify(value)) });
const marker = (seq: number, offset: number): ChangelogEntry => ({ key: Buffer.from(CHANGELOG_MARKER_KEY), value: Buffer.from(JSON.stringify({ seq, streamTime: offset * 1000, offsets: { in: String(offset) } } satisfies CommitMarker)) });

/** A cluster whose changelog partition 0 holds `changelog` from offset `low` on, and whose group committed `committed`. */
function cluster(o: { changelog: ChangelogEntry[]; low?: number; committed: number }): ClusterView & { reads: bigint[] } {
  const low = o.low ?? 0;
  const reads: bigint[] = [];
  return {
    reads,
    committedOffsets: async () => [{ topic: 'in', partitions: [{ partition: 0, offset: String(o.committed) }] }],
    topicOffsets: async (topic) =>
      topic === topology.changelogTopic ? [{ partition: 0, low: String(low), high: String(low + o.changelog.length) }] : [{ partition: 0, low: '0', high: '1000' }],
    readChangelog: async ({ from, high }) => {
      reads.push(from);
      const r = new ChangelogRestorer();
      for (let off = Number(from); off < Number(high); off++) r.add({ ...o.changelog[off - low]!, offset: BigInt(off) });
      return r;
    },
  };
}

function opener(view: ClusterView, storage = memoryStorageFactory()) {
  return { storage, opener: new TaskOpener({ topology, storage, incarnation: 'i', clock: { now: () => 0 }, log: componentLogger('test'), cluster: view, onSideRecord: () => undefined }) };
}

const totals = (task: { getStore(n: string): unknown }) => Object.fromEntries((task.getStore('totals') as KeyValueStore<number>).all());

describe('TaskOpener', () => {
  it('refuses a full restore from a changelog that no longer starts at offset 0, and writes nothing', async () => {
    // records 0..2 (a's value among them) are gone; what is left would restore b alone
    const view = cluster({ low: 3, changelog: [entry('totals', 'b', 2), marker(2, 9)], committed: 10 });
    const { opener: o, storage } = opener(view);
    await expect(o.open(0)).rejects.toMatchObject({ code: 'CHANGELOG_TRUNCATED' });
    expect(view.reads).toEqual([]);
    expect([...storage.maps.get('sum-0')!.keys()].filter((k) => !k.startsWith('m\u0000incarnation'))).toEqual([]);
  });

  it('never re-sends an outbox written before the task ran elsewhere (the changelog moved on)', async () => {
    const storage = memoryStorageFactory();
    // local: commit 1 confirmed (marker at changelog offset 1), commit 2 written but its sends cut short
    const local = new Map<string, Buffer>([
      [KEYS.store('totals', 'a'), Buffer.from('2')],
      [KEYS.offset('in'), Buffer.from('1')],
      [KEYS.seq, Buffer.from('2')],
      [KEYS.changelogOffset, Buffer.from('1')],
      [KEYS.incarnation, Buffer.from('i')],
    ]);
    storage.maps.set('sum-0', local);
    const { opener: commit2 } = opener(cluster({ changelog: [], committed: 1 }), storage);
    // the outbox of commit 2, as the task writes it
    const t = (await commit2.open(0)).task;
    t.process({ topic: 'in', partition: 0, offset: '2', key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 0 });
    const c = t.prepareCommit();
    await (await storage('sum-0')).write(c.ops);
    expect([...local.keys()].some((k) => k.startsWith('o\u0000'))).toBe(true);
    // meanwhile another instance restored commit 1, processed up to offset 5 and committed
    const view = cluster({ changelog: [entry('totals', 'a', 1), marker(1, 0), entry('totals', 'a', 2), entry('totals', 'a', 6), marker(2, 5)], committed: 6 });
    const { task, outbox } = await opener(view, storage).opener.open(0);
    expect(view.reads).toEqual([2n]); // a tail restore after the known marker
    expect(outbox).toEqual([]);
    expect(totals(task)).toEqual({ a: 6 });
    expect(task.storedOffsets().get('in')).toBe(5n);
    expect([...local.keys()].filter((k) => k.startsWith('o\u0000'))).toEqual([]); // gone with the restore
    expect(local.get(KEYS.changelogOffset)!.toString()).toBe('4');
  });

  it('after a restore that discarded an incomplete commit, the next commit logs those keys again with their restored values', async () => {
    // commit 1 complete; commit 2 (another instance) wrote a and c, then crashed before its marker
    const view = cluster({ changelog: [entry('totals', 'a', 1), entry('totals', 'b', 1), marker(1, 1), entry('totals', 'a', 9), entry('totals', 'c', 9)], committed: 2 });
    const { opener: o } = opener(view);
    const { task } = await o.open(0);
    expect(totals(task)).toEqual({ a: 1, b: 1 });
    expect(task.dirty).toBe(true);
    const c = task.prepareCommit();
    const logged = c.messages.filter((m) => m.topic === topology.changelogTopic).map((m) => [m.message.key!.toString(), m.message.value?.toString() ?? null]);
    // a restorer that later reads the stale a=9, c=9 before this commit sees them overwritten
    expect(logged).toEqual([
      ['totals\u0000a', '1'],
      ['totals\u0000c', null],
      [CHANGELOG_MARKER_KEY, expect.any(String)],
    ]);
    const r = new ChangelogRestorer();
    const all = [entry('totals', 'a', 1), entry('totals', 'b', 1), marker(1, 1), entry('totals', 'a', 9), entry('totals', 'c', 9), ...c.messages.filter((m) => m.topic === topology.changelogTopic).map((m) => ({ key: m.message.key, value: m.message.value }))];
    for (const e of all) r.add(e);
    const restored = Object.fromEntries(r.toStorageOps().filter((op) => op.type === 'put' && op.key.startsWith('s\u0000')).map((op) => [op.key, (op as { value: Buffer }).value.toString()]));
    expect(restored).toEqual({ [KEYS.store('totals', 'a')]: '1', [KEYS.store('totals', 'b')]: '1' });
  });
});
