/**
 * The 1h rollup is an internal consumer of a topic Vigil writes itself (metrics.rollup.1m): a crash of
 * the 1m topology re-sends its last commit's outputs, so the 1h topology must compute the same rollups
 * whether or not it sees such replays (issue 13 defect 2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { MemoryRegistryClient } from '../../src/topology/memory-registry.js';
import { buildRollup1hTopology, buildRollup1mTopology } from '../../src/topology/rollup/rollup-topology.js';
import { rollupBatchSerde, sampleBatchSerde } from '../../src/model/serde.js';
import type { OutputMessage } from '../../src/topology/api.js';
import type { Rollup, RollupBatch } from '../../src/model/types.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const drivers: TopologyTestDriver[] = [];
afterEach(() => {
  for (const d of drivers.splice(0)) d.close();
});

const registry = new MemoryRegistryClient();
const rollups = rollupBatchSerde({ registry });
const samples = sampleBatchSerde({ registry });

const r = (start: number, count: number, sum: number, extra: Partial<Rollup> = {}): Rollup => ({
  name: 'x', labels: { host: 'a' }, start, count, sum, min: 1, max: 10, first: 1, last: 10, increase: null, ...extra,
});

/** Runs the 1h topology over `inputs` (1m RollupBatches, in order); returns its outputs and late reports. */
async function hourly(inputs: Rollup[][], restartAt = -1) {
  const d = new TopologyTestDriver(buildRollup1hTopology({ registry }));
  drivers.push(d);
  for (const [i, list] of inputs.entries()) {
    if (i === restartAt) d.restart();
    await d.pipeRawAsync('metrics.rollup.1m', Buffer.from('host=a'), await rollups.encode('metrics.rollup.1m', { resolution_ms: MIN, rollups: list }), 0);
  }
  const out: Rollup[] = [];
  for (const m of d.history.get('metrics.rollup.1h') ?? []) out.push(...((await rollups.decode(m.value)) as RollupBatch).rollups);
  return { out, late: d.history.get('metrics.late')?.length ?? 0 };
}

describe('1h rollup with replayed 1m input', () => {
  it('a 1m rollup already merged is not merged again (replay of the last commit, before and after the hour closes)', async () => {
    const minutes = [0, 1, 2, 3, 4, 5].map((m) => [r(m * MIN, 1, 10)]);
    const close = [r(HOUR, 1, 1)];
    const plain = await hourly([...minutes, close, [r(2 * HOUR, 1, 1)]]);
    expect(plain.out.filter((x) => x.start === 0)).toEqual([{ ...r(0, 6, 60), first: 1, last: 10 }]);
    // a crash of the 1m topology after minute 5 re-sends minutes 3..5; one after the close re-sends it
    const replayed = await hourly([...minutes, ...minutes.slice(3), close, ...minutes.slice(4), close, [r(2 * HOUR, 1, 1)]]);
    expect(replayed.out).toEqual(plain.out);
    expect(replayed.late).toBe(plain.late);
  });

  it('remembers what it merged across a restart (committed state)', async () => {
    const minutes = [0, 1, 2, 3].map((m) => [r(m * MIN, 1, 10)]);
    const plain = await hourly([...minutes, [r(HOUR, 1, 1)]]);
    expect(await hourly([...minutes, ...minutes.slice(2), [r(HOUR, 1, 1)]], 4)).toEqual(plain);
  });

  it('1h rollups computed from a 1m topic with replays equal those computed without', async () => {
    // the real 1m topology's output for 3 sources x 4 series over 2.5 hours, every record replayed once
    const d1m = new TopologyTestDriver(buildRollup1mTopology({ registry, graceMs: 0 }), { wallClockStart: 150 * MIN });
    drivers.push(d1m);
    for (let t = 0; t < 150 * MIN; t += 10_000) {
      for (const host of ['a', 'b', 'c']) {
        const list = [0, 1, 2, 3].map((m) => ({ name: m % 2 ? 'req_total' : 'load', labels: { m: String(m) }, timestamp: t, value: m % 2 ? t / 1000 : (t / 7) % 13, kind: m % 2 ? ('COUNTER' as const) : ('GAUGE' as const) }));
        await d1m.pipeRawAsync('metrics', Buffer.from(`host=${host}`), await samples.encode('metrics', { source: { host }, samples: list }), 0);
      }
    }
    const oneMinute: OutputMessage[] = d1m.history.get('metrics.rollup.1m')!;
    const run = async (messages: OutputMessage[]) => {
      const d = new TopologyTestDriver(buildRollup1hTopology({ registry }));
      drivers.push(d);
      for (const m of messages) await d.pipeRawAsync('metrics.rollup.1m', m.key, m.value, m.timestamp ?? 0);
      const out: Rollup[] = [];
      for (const m of d.history.get('metrics.rollup.1h') ?? []) out.push(...((await rollups.decode(m.value)) as RollupBatch).rollups);
      return out;
    };
    const withReplays: OutputMessage[] = [];
    oneMinute.forEach((m, i) => {
      withReplays.push(m);
      if (i % 5 === 4) withReplays.push(...oneMinute.slice(i - 4, i + 1)); // the last "commit" again
    });
    const plain = await run(oneMinute);
    expect(plain.length).toBe(2 * 3 * 4);
    expect(await run(withReplays)).toEqual(plain);
  });
});
