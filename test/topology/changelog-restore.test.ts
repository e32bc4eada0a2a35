import { describe, expect, it } from 'vitest';
import { StreamsBuilder, TopologyTestDriver, jsonSerde, stringSerde, tumbling } from '../../src/topology/index.js';
import { ChangelogRestorer } from '../../src/topology/internals/changelog-restore.js';
import { CHANGELOG_MARKER_KEY, StreamTask } from '../../src/topology/internals/stream-task.js';
import type { WindowStore } from '../../src/topology/api.js';

function topology() {
  const b = new StreamsBuilder({ applicationId: 'cl' });
  b.stream('in', { key: stringSerde, value: jsonSerde<number>() })
    .groupByKey()
    .windowedBy(tumbling(60_000, 0))
    .aggregate({ init: () => 0, add: (a: number, _k, v) => a + v }, { name: 'sums' });
  return b.build();
}

describe('changelog restore', () => {
  it('rebuilds state, offsets and stream time from the changelog, up to the last commit marker', () => {
    const topo = topology();
    const driver = new TopologyTestDriver(topo);
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<number>());
    input.pipeInput('a', 1, 1_000);
    input.pipeInput('a', 2, 2_000);
    input.pipeInput('b', 5, 59_000);
    const changelog = driver.history.get(topo.changelogTopic)!;
    expect(changelog.at(-1)!.key!.toString()).toBe(CHANGELOG_MARKER_KEY);

    const restorer = new ChangelogRestorer();
    for (const m of changelog) restorer.add(m);
    // A commit cut short by a crash: records without their marker are ignored.
    restorer.add({ key: Buffer.from('sums\u0000a\u00000'), value: Buffer.from('999') });
    expect(restorer.discarded).toBe(1);
    expect(restorer.lastMarker!.offsets).toEqual({ in: '2' });

    const task = new StreamTask(topo, { taskId: 'cl-0', partition: 0, clock: { now: () => 0 } });
    for (const op of restorer.toStorageOps()) if (op.type === 'put') task.loadEntry(op.key, op.value);
    task.init();
    const store = task.getStore('sums') as WindowStore<number>;
    expect(store.fetch('a', 0)).toBe(3);
    expect(store.fetch('b', 0)).toBe(5);
    expect(task.streamTime).toBe(59_000);
    // records at or below the restored offsets are skipped, the next one is processed
    expect(task.process({ topic: 'in', partition: 0, offset: '2', key: Buffer.from('b'), value: Buffer.from('5'), timestamp: 59_000 })).toBe(false);
    expect(task.process({ topic: 'in', partition: 0, offset: '3', key: Buffer.from('b'), value: Buffer.from('1'), timestamp: 62_000 })).toBe(true);
    expect(store.fetch('b', 60_000)).toBe(1);
    expect(store.fetch('b', 0)).toBeUndefined(); // closed at 60000 with no retention: dropped
    driver.close();
  });
});
