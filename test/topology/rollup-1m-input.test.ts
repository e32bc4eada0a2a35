/**
 * What the 1m rollup does with awkward input (issue 13): a record whose samples span more than the
 * grace (defect 6), Prometheus stale markers (defect 4), exact duplicate samples (defect 7), samples
 * far ahead of the wall clock (defect 5).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { MemoryRegistryClient } from '../../src/topology/memory-registry.js';
import { buildRollup1mTopology, type SampleRollupStore } from '../../src/topology/rollup/rollup-topology.js';
import { rollupBatchSerde, sampleBatchSerde } from '../../src/model/serde.js';
import { STALE_NAN } from '../../src/collect/stale-marker.js';
import { metricsRegistry } from '../../src/obs/metrics.js';
import type { Rollup, RollupBatch, Sample } from '../../src/model/types.js';

const MIN = 60_000;
let driver: TopologyTestDriver | null = null;
afterEach(() => {
  driver?.close();
  driver = null;
});

function setup(options: { graceMs?: number; wallClockStart?: number; maxFutureMs?: number } = {}) {
  const registry = new MemoryRegistryClient();
  const samples = sampleBatchSerde({ registry });
  const rollups = rollupBatchSerde({ registry });
  const d = new TopologyTestDriver(
    buildRollup1mTopology({ registry, graceMs: options.graceMs ?? 10_000, ...(options.maxFutureMs !== undefined ? { maxFutureMs: options.maxFutureMs } : {}) }),
    { wallClockStart: options.wallClockStart ?? 0 },
  );
  driver = d;
  const pipe = async (list: Partial<Sample>[]) => {
    const batch = { source: { host: 'a' }, samples: list.map((s) => ({ name: s.name ?? 'cpu', labels: s.labels ?? {}, timestamp: s.timestamp!, value: s.value!, kind: s.kind ?? 'GAUGE' })) };
    await d.pipeRawAsync('metrics', Buffer.from('host=a'), await samples.encode('metrics', batch), 0);
  };
  const out = async (): Promise<Rollup[]> => {
    const list: Rollup[] = [];
    for (const m of d.history.get('metrics.rollup.1m') ?? []) list.push(...((await rollups.decode(m.value)) as RollupBatch).rollups);
    return list;
  };
  const side = (topic: string) => (d.history.get(topic) ?? []).map((m) => m.headers ?? {});
  return { pipe, out, side, d };
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = await metricsRegistry.getSingleMetric(name)?.get();
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

describe('1m rollup input', () => {
  it('a record spanning more than the grace is not late against itself (judged against the stream time before it)', async () => {
    const { pipe, out, side, d } = setup({ graceMs: 10_000 });
    await pipe([{ timestamp: 0, value: 1 }, { timestamp: 20_000, value: 2 }, { timestamp: 40_000, value: 3 }, { timestamp: 100_000, value: 4 }]);
    expect(side('metrics.late')).toEqual([]);
    expect(d.streamTime(0)).toBe(100_000);
    // its own first window closed with it (stream time 100 s >= 60 s + grace)
    expect((await out()).map((r) => [r.start, r.count, r.sum])).toEqual([[0, 3, 6]]);
    await pipe([{ timestamp: 200_000, value: 5 }]);
    expect((await out()).map((r) => [r.start, r.count, r.sum])).toEqual([[0, 3, 6], [60_000, 1, 4]]);
    // the next record is judged against 100 s: a sample for [0, 60 s) is late now
    await pipe([{ timestamp: 30_000, value: 9 }, { timestamp: 210_000, value: 1 }]);
    expect(side('metrics.late')).toMatchObject([{ 'vigil.reason': 'late', 'vigil.late_samples': '1' }]);
  });

  it('a stale marker is not a value: no NaN, the counter increase and kind are kept, and it is never late', async () => {
    const { pipe, out, side } = setup({ graceMs: 0 });
    const c = (timestamp: number, value: number) => ({ name: 'req_total', kind: 'COUNTER' as const, timestamp, value });
    await pipe([c(0, 10), { name: 'load', timestamp: 0, value: 0.5 }]);
    await pipe([c(20_000, 15), { name: 'load', timestamp: 20_000, value: 0.7 }]);
    // the target disappears: the scraper publishes stale markers (kind UNKNOWN)
    await pipe([{ name: 'req_total', kind: 'UNKNOWN', timestamp: 30_000, value: STALE_NAN }, { name: 'load', kind: 'UNKNOWN', timestamp: 30_000, value: STALE_NAN }]);
    await pipe([{ name: 'other', timestamp: 61_000, value: 1 }]);
    const rollups = (await out()).filter((r) => r.start === 0);
    expect(rollups).toEqual([
      { name: 'req_total', labels: { host: 'a' }, start: 0, count: 2, sum: 25, min: 10, max: 15, first: 10, last: 15, increase: 5 },
      { name: 'load', labels: { host: 'a' }, start: 0, count: 2, sum: 1.2, min: 0.5, max: 0.7, first: 0.5, last: 0.7, increase: null },
    ]);
    await pipe([{ name: 'req_total', kind: 'UNKNOWN', timestamp: 1_000, value: STALE_NAN }]); // for a closed window
    expect(side('metrics.late')).toEqual([]);
  });

  it('exact duplicate samples (a retried record) are counted once, and counted as duplicates', async () => {
    const { pipe, out } = setup({ graceMs: 0 });
    const before = await metric('vigil_duplicate_samples_total', { topology: 'vigil-rollup-1m' });
    const record = [{ timestamp: 1_000, value: 1 }, { name: 'mem', timestamp: 1_000, value: 7 }];
    await pipe(record);
    await pipe([{ timestamp: 11_000, value: 2 }]);
    await pipe(record); // a producer retry after the next record: cpu@1s is now the oldest sample
    await pipe([{ timestamp: 11_000, value: 2 }]); // and one of the newest
    await pipe([{ timestamp: 61_000, value: 0 }]);
    expect((await out()).map((r) => [r.name, r.count, r.sum])).toEqual([['cpu', 2, 3], ['mem', 1, 7]]);
    expect((await metric('vigil_duplicate_samples_total', { topology: 'vigil-rollup-1m' })) - before).toBe(3);
  });

  it('samples too far ahead of the wall clock go to metrics.dlq (too_far_in_future) and never move stream time', async () => {
    const now = 1_700_000_000_000 - (1_700_000_000_000 % MIN);
    const { pipe, out, side, d } = setup({ graceMs: 10_000, wallClockStart: now, maxFutureMs: 10 * MIN });
    // a microsecond timestamp read as milliseconds, in a batch with good samples
    await pipe([{ timestamp: now + 1_000, value: 1 }, { name: 'bad', timestamp: (now + 2_000) * 1000, value: 2 }, { timestamp: now + 2 * MIN, value: 3 }]);
    const dlq = side('metrics.dlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ 'vigil.reason': 'too_far_in_future', 'vigil.samples': '1', 'vigil.offset': '0' });
    expect(d.streamTime(0)).toBe(now + 2 * MIN);
    // within the grace of [1 min, 2 min) against the stream time that the bad sample did not move
    await pipe([{ timestamp: now + 90_000, value: 4 }, { timestamp: now + 11 * MIN, value: 5 }]);
    expect(side('metrics.late')).toEqual([]);
    expect(side('metrics.dlq')).toHaveLength(2); // now + 11 min is past the bound too
    d.advanceWallClockTime(15 * MIN); // the wall clock moves on: the same sample is fine now
    await pipe([{ timestamp: now + 11 * MIN, value: 5 }]);
    expect((await out()).map((r) => [(r.start - now) / MIN, r.count, r.sum])).toEqual([[0, 1, 1], [1, 1, 4], [2, 1, 3]]);
  });
});

describe('1m rollup state under series churn', () => {
  /** 30 generations of 500 series, each reporting for 2 minutes; even ones end with stale markers, odd ones just stop. */
  async function churn(restartEvery: number) {
    const registry = new MemoryRegistryClient();
    const samples = sampleBatchSerde({ registry });
    const rollups = rollupBatchSerde({ registry });
    const d = new TopologyTestDriver(buildRollup1mTopology({ registry, graceMs: 0, evictAfterMs: 5 * MIN }), { wallClockStart: 100 * MIN });
    driver = d;
    const pipe = async (list: Partial<Sample>[]) =>
      d.pipeRawAsync('metrics', Buffer.from('host=a'), await samples.encode('metrics', { source: { host: 'a' }, samples: list.map((s) => ({ name: s.name!, labels: {}, timestamp: s.timestamp!, value: s.value!, kind: 'GAUGE' as const })) }), 0);
    for (let g = 0; g < 30; g++) {
      if (restartEvery && g % restartEvery === restartEvery - 1) d.restart();
      const names = Array.from({ length: GEN }, (_, i) => `g${g}_${i}`);
      for (let t = g * 2 * MIN; t < (g + 1) * 2 * MIN; t += 10_000) await pipe(names.map((name) => ({ name, timestamp: t, value: 1 })));
      if (g % 2 === 0) await pipe(names.map((name) => ({ name, timestamp: (g + 1) * 2 * MIN - 1, value: STALE_NAN })));
    }
    await pipe([{ name: 'end', timestamp: 70 * MIN, value: 1 }]);
    const store = d.getStateStore<SampleRollupStore>('rollup-1m');
    const records = (d.history.get('metrics.rollup.1m') ?? []).map((m) => [m.headers!['vigil.id'], m.value!.toString('hex')]);
    const out: Rollup[] = [];
    for (const m of d.history.get('metrics.rollup.1m') ?? []) out.push(...((await rollups.decode(m.value)) as RollupBatch).rollups);
    const state = { capacity: Math.max(...[...store.windows.values()].map((w) => w.capacity)), resident: store.residentBytes(), live: store.liveSeries, evicted: store.evicted };
    d.close();
    driver = null;
    return { records, out, state };
  }
  const GEN = 500;

  it('series that ended (stale marker) or stopped reporting are evicted: state stays bounded, rollups stay exact', async () => {
    const { out, state } = await churn(0);
    // live: the generations within evictAfter (5 min: 3 of them) of 500 series; 30 x 500 were seen
    expect(state.capacity).toBeLessThanOrEqual(4 * GEN);
    expect(state.live).toBeLessThanOrEqual(4 * GEN);
    expect(state.evicted).toBeGreaterThanOrEqual(26 * GEN);
    expect(state.resident).toBeLessThan(1_000_000);
    expect(out.filter((r) => r.name !== 'end')).toHaveLength(30 * GEN * 2);
    expect(out.every((r) => r.count === 6 && r.sum === 6)).toBe(true);
  });

  it('restarts in the middle of the churn give the same records (slots are reused the same way)', async () => {
    const plain = await churn(0);
    const restarted = await churn(4);
    expect(restarted.records).toEqual(plain.records);
  });
});
