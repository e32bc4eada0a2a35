import { describe, expect, it } from 'vitest';
import { SeriesTable } from '../../src/model/decoded-batch.js';
import { Head } from '../../src/query/head.js';
import { KIND_COUNTER } from '../../src/model/types.js';
import { decodedBatchOf } from '../support/decoded-batch.js';
import { STALE_NAN } from '../../src/collect/stale-marker.js';

/** Collects what a raw visit streams: [host, times, values] per call. */
async function rawOf(head: Head, metric: string, start: number, end: number) {
  const out: Array<[string | undefined, number[], number[]]> = [];
  await head.raw(metric, start, end, (series, c, from, to) => {
    out.push([series.labels.host, [...c.times.subarray(from, to)], [...c.values.subarray(from, to)]]);
  });
  return out;
}

const cpu = (host: string, samples: Array<[number, number]>) => ({ name: 'cpu.load', labels: { host }, samples });

describe('Head', () => {
  it('keeps samples per series in time order and answers raw ranges', async () => {
    const head = new Head();
    const table = new SeriesTable();
    head.append(decodedBatchOf(table, [cpu('a', [[2000, 2], [1000, 1]]), cpu('b', [[1000, 5]])]));
    head.append(decodedBatchOf(table, [cpu('a', [[3000, 3]])]));
    expect(await rawOf(head, 'cpu.load', 0, 2500)).toEqual([
      ['a', [1000, 2000], [1, 2]],
      ['b', [1000], [5]],
    ]);
    expect(head.coverageStart()).toBe(1000);
  });

  it('trims old samples and takes a trimmed series back when it sends again', async () => {
    const head = new Head({ retentionMs: 10_000 });
    const table = new SeriesTable();
    head.append(decodedBatchOf(table, [cpu('a', [[1000, 1]])]));
    head.append(decodedBatchOf(table, [cpu('b', [[20_000, 2]])]));
    head.trim();
    expect(head.size).toBe(1);
    head.append(decodedBatchOf(table, [cpu('a', [[21_000, 3]])]));
    expect(head.size).toBe(2);
    expect(await rawOf(head, 'cpu.load', 0, 30_000)).toEqual([
      ['b', [20_000], [2]],
      ['a', [21_000], [3]],
    ]);
  });

  it('at its series cap, keeps no new series while none went stale: counted, flagged full, and warned about', () => {
    const head = new Head({ maxSeries: 1 });
    const table = new SeriesTable();
    head.append(decodedBatchOf(table, [cpu('a', [[1000, 1]]), cpu('b', [[1000, 2], [2000, 3]])]));
    expect(head.size).toBe(1);
    expect(head.stats()).toMatchObject({ series: 1, samples: 1, full: true, droppedSamples: 2, evictedSeries: 0 });
    expect(head.warnings()[0]).toMatch(/reached its limit of 1 series \(query.headMaxSeries\)/);
  });

  // Issue 13, defect 10: the head kept its first 200k series forever and silently dropped every
  // later one, also when the earlier ones had ended long ago.
  it('at its series cap, evicts series that went stale (a stale marker, or no sample for 5 min) to keep new ones', async () => {
    const head = new Head({ maxSeries: 2 });
    const table = new SeriesTable();
    head.append(decodedBatchOf(table, [cpu('ended', [[1000, 1]]), cpu('quiet', [[1000, 1]]), cpu('live', [[1000, 1]])]));
    expect(head.stats()).toMatchObject({ series: 2, full: true });
    // 'ended' goes stale with a marker: 'live' takes its place.
    head.append(decodedBatchOf(table, [cpu('ended', [[2000, STALE_NAN]])]));
    head.append(decodedBatchOf(table, [cpu('live', [[3000, 2], [400_000, 2]])]));
    expect((await rawOf(head, 'cpu.load', 0, 500_000)).map(([host]) => host).sort()).toEqual(['live', 'quiet']);
    // 'quiet' has sent nothing for more than 5 minutes: a new series replaces it.
    head.append(decodedBatchOf(table, [cpu('new', [[401_000, 3]])]));
    expect((await rawOf(head, 'cpu.load', 0, 500_000)).map(([host]) => host).sort()).toEqual(['live', 'new']);
    expect(head.stats()).toMatchObject({ series: 2, evictedSeries: 2, full: false });
  });

  it('computes counter rollups with resets from its samples', async () => {
    const head = new Head();
    const table = new SeriesTable();
    head.append(decodedBatchOf(table, [{ name: 'reqs', labels: { host: 'a' }, kind: KIND_COUNTER, samples: [[0, 10], [20_000, 15], [40_000, 3], [60_000, 8]] }]));
    const points: object[] = [];
    await head.rollups('1m', 'reqs', 0, 120_000, (_series, c, from, to) => {
      for (let j = from; j < to; j++) {
        points.push({ start: c.start[j], count: c.count[j], sum: c.sum[j], min: c.min[j], max: c.max[j], first: c.first[j], last: c.last[j], increase: c.increase[j] });
      }
    });
    expect(points).toEqual([
      { start: 0, count: 3, sum: 28, min: 3, max: 15, first: 10, last: 3, increase: 8 },
      { start: 60_000, count: 1, sum: 8, min: 8, max: 8, first: 8, last: 8, increase: 0 },
    ]);
  });
});
