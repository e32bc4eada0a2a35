import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { MemoryRegistryClient } from '../../src/topology/memory-registry.js';
import { buildRollup1hTopology, buildRollup1mTopology } from '../../src/topology/rollup/rollup-topology.js';
import { rollupBatchSerde, sampleBatchSerde } from '../../src/model/serde.js';
import type { RollupBatch, SampleBatch, Sample } from '../../src/model/types.js';

const MIN = 60_000;
let driver: TopologyTestDriver | null = null;
afterEach(() => {
  driver?.close();
  driver = null;
});

function setup(grace = 0) {
  const registry = new MemoryRegistryClient();
  const samples = sampleBatchSerde({ registry });
  const rollups = rollupBatchSerde({ registry });
  driver = new TopologyTestDriver(buildRollup1mTopology({ registry, graceMs: grace }));
  const d = driver;
  const pipe = async (source: string, list: Partial<Sample>[], partition = 0) => {
    const batch: SampleBatch = {
      source: { host: source },
      samples: list.map((s) => ({ name: s.name ?? 'cpu', labels: s.labels ?? {}, timestamp: s.timestamp!, value: s.value!, kind: s.kind ?? 'GAUGE' })),
    };
    const value = await samples.encode('metrics', batch);
    await d.pipeRawAsync('metrics', Buffer.from(`host=${source}`), value, 0, { partition });
  };
  const read = async () => {
    const out: Array<{ key: string; id: string; partition: number; value: RollupBatch }> = [];
    for (const m of d.createOutputTopic('metrics.rollup.1m', { serialize: () => null, deserialize: (b) => b }, { serialize: () => null, deserialize: (b) => b }).readRecordsToList()) {
      out.push({ key: m.key!.toString(), id: m.headers['vigil.id']!, partition: m.partition, value: (await rollups.decode(m.value)) as RollupBatch });
    }
    return out;
  };
  return { pipe, read, registry, samples };
}

describe('1m rollup topology', () => {
  it('emits one rollup per series per closed window with count/sum/min/max/first/last', async () => {
    const { pipe, read } = setup();
    await pipe('a', [
      { timestamp: 1_000, value: 5 },
      { name: 'mem', timestamp: 1_000, value: 100 },
    ]);
    await pipe('a', [{ timestamp: 30_000, value: 1 }]);
    await pipe('a', [{ timestamp: 20_000, value: 9 }]); // out of order within the window
    expect(await read()).toEqual([]);
    await pipe('a', [{ timestamp: MIN, value: 2 }]); // stream time reaches end + grace(0)
    const out = await read();
    expect(out).toHaveLength(1);
    expect(out[0]!.key).toBe('host=a');
    expect(out[0]!.id).toBe('rollup/60000/0/host=a/0');
    expect(out[0]!.value.resolution_ms).toBe(MIN);
    expect(out[0]!.value.rollups).toEqual([
      { name: 'cpu', labels: { host: 'a' }, start: 0, count: 3, sum: 15, min: 1, max: 9, first: 5, last: 1, increase: null },
      { name: 'mem', labels: { host: 'a' }, start: 0, count: 1, sum: 100, min: 100, max: 100, first: 100, last: 100, increase: null },
    ]);
  });

  it('computes counter increase with resets, across window boundaries', async () => {
    const { pipe, read } = setup();
    const c = (timestamp: number, value: number) => ({ name: 'req_total', kind: 'COUNTER' as const, timestamp, value });
    await pipe('a', [c(0, 10)]);
    await pipe('a', [c(20_000, 15)]);
    await pipe('a', [c(40_000, 3)]); // reset: counts 3
    await pipe('a', [c(60_000, 7)]); // next window; closes [0,60s)
    await pipe('a', [c(120_000, 1)]); // reset at the boundary; closes [60s,120s)
    const out = (await read()).flatMap((r) => r.value.rollups.map((x) => [x.start, x.increase]));
    expect(out).toEqual([
      [0, 5 + 3],
      [60_000, 4], // 7 - 3 from the previous window's last value
    ]);
  });

  it('sends late samples to metrics.late and bad records to metrics.dlq', async () => {
    const { pipe } = setup(5_000);
    await pipe('a', [{ timestamp: 130_000, value: 1 }]);
    await pipe('a', [{ timestamp: 10_000, value: 1 }, { timestamp: 125_000, value: 2 }]);
    const late = driver!.createOutputTopic('metrics.late', { serialize: () => null, deserialize: (b) => b }, { serialize: () => null, deserialize: (b) => b }).readRecordsToList();
    expect(late).toHaveLength(1);
    expect(late[0]!.headers).toMatchObject({ 'vigil.reason': 'late', 'vigil.topic': 'metrics', 'vigil.offset': '1', 'vigil.late_samples': '1' });
    driver!.pipeRaw('metrics', Buffer.from('k'), Buffer.from('not avro'), 0);
    const dlq = driver!.createOutputTopic('metrics.dlq', { serialize: () => null, deserialize: (b) => b }, { serialize: () => null, deserialize: (b) => b }).readRecordsToList();
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.headers['vigil.reason']).toBe('not_wire_format');
    expect(dlq[0]!.value!.toString()).toBe('not avro');
  });

  it('restores open windows from committed state and emits identical output after a restart', async () => {
    const run = async (restartAt: number) => {
      const { pipe, read } = setup();
      const inputs = [
        [{ timestamp: 1_000, value: 1 }],
        [{ timestamp: 2_000, value: 4, labels: { core: '1' } }],
        [{ timestamp: 3_000, value: 2 }],
        [{ timestamp: 61_000, value: 3 }],
        [{ timestamp: 125_000, value: 3 }],
      ];
      for (let i = 0; i < inputs.length; i++) {
        if (i === restartAt) driver!.restart();
        await pipe('a', inputs[i]!);
      }
      const out = await read();
      driver!.close();
      return out;
    };
    const plain = await run(-1);
    expect(plain.flatMap((r) => r.value.rollups)).toHaveLength(3);
    for (const at of [1, 2, 3, 4]) expect(await run(at)).toEqual(plain);
  });

  it('merges 1m rollups into 1h rollups', async () => {
    const registry = new MemoryRegistryClient();
    const rollups = rollupBatchSerde({ registry });
    const d = new TopologyTestDriver(buildRollup1hTopology({ registry }));
    driver = d;
    const r = (start: number, count: number, sum: number, min: number, max: number, first: number, last: number, increase: number | null) => ({
      name: 'x', labels: { host: 'a' }, start, count, sum, min, max, first, last, increase,
    });
    const send = async (rs: ReturnType<typeof r>[]) =>
      d.pipeRawAsync('metrics.rollup.1m', Buffer.from('host=a'), await rollups.encode('metrics.rollup.1m', { resolution_ms: MIN, rollups: rs }), 0);
    await send([r(0, 2, 3, 1, 2, 1, 2, 1)]);
    await send([r(59 * MIN, 3, 30, 5, 15, 5, 15, 10)]);
    await send([r(60 * MIN, 1, 1, 1, 1, 1, 1, 0)]);
    const out = d.createOutputTopic('metrics.rollup.1h', { serialize: () => null, deserialize: (b) => b }, { serialize: () => null, deserialize: (b) => b }).readRecordsToList();
    expect(out).toHaveLength(1);
    const batch = (await rollups.decode(out[0]!.value)) as RollupBatch;
    expect(batch.resolution_ms).toBe(3_600_000);
    expect(batch.rollups).toEqual([{ name: 'x', labels: { host: 'a' }, start: 0, count: 5, sum: 33, min: 1, max: 15, first: 1, last: 15, increase: 11 }]);
  });
});
