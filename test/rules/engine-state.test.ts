import { describe, expect, it, vi } from 'vitest';
import { checkSources } from '../../src/dsl/index.js';
import { RulesEngine, type SeriesRef } from '../../src/rules/engine.js';
import { rulesStateCodec } from '../../src/rules/rules-processor.js';
import { accAdd, accToJSON, newAcc } from '../../src/rules/aggregators.js';
import { canonicalLabels } from '../../src/model/series.js';
import { SeriesTable, allocateColumns } from '../../src/model/decoded-batch.js';
import { seriesIdentity } from '../../src/model/series.js';

function model(source: string) {
  const r = checkSources([{ file: 'r.rules', source }]);
  expect(r.errors.map((e) => e.location)).toEqual([]);
  return r.model!;
}

const series = (name: string, labels: Record<string, string>): SeriesRef => ({ key: `${name}${JSON.stringify(labels)}`, name, labels });

/** Moves every change of `a` into a new engine through the store codec (what a restart does). */
function restart(a: RulesEngine, m: ReturnType<typeof model>, extra: Array<[string, unknown]> = []): { b: RulesEngine; changes: Array<[string, unknown]> } {
  const b = new RulesEngine(m);
  const changes = [...a.drainChanges(), ...extra];
  for (const [k, v] of changes) if (v !== null) b.restore(k, rulesStateCodec.decode(rulesStateCodec.encode(v)));
  return { b, changes };
}

describe('RulesEngine state (column blocks)', () => {
  const m = model(`
alert Sum { when sum(x) by (h) > 100 }
alert P90 { when p90(x) by (h) > 50 }
alert Count { when count_series(x) by (h) >= 2 }`);

  it('writes one entry per block of groups, not per group, and restores every group', () => {
    const a = new RulesEngine(m);
    for (let h = 0; h < 3000; h++) for (let i = 0; i < 2; i++) a.ingest(series('x', { h: `h${h}`, i: String(i) }), 1000, h % 7 === 0 ? 60 : 1);
    const { b, changes } = restart(a, m);
    // 3 rules x 2 blocks of 2048 groups + count_series' per-series block(s) + rule bookkeeping.
    expect(changes.filter(([k]) => k.startsWith('c\u0000')).length).toBeLessThan(12);
    const fired = (e: RulesEngine) => e.advance(70_000).events.map((ev) => `${ev.alertname}:${ev.labels.h}`).sort();
    const expected = fired(a);
    expect(expected.length).toBe(3000 + 2 * 429);
    expect(fired(b)).toEqual(expected);
    // The restored engine rewrites the blocks under its own slot numbering, and deletes what it read.
    const rewrite = b.drainChanges();
    const deleted = new Set(rewrite.filter(([, v]) => v === null).map(([k]) => k));
    for (const [k] of changes.filter(([k]) => k.startsWith('c\u0000'))) expect(deleted.has(k)).toBe(true);
  });

  it('deletes the blocks of a window at the first commit after its evaluation', () => {
    const a = new RulesEngine(m);
    a.ingest(series('x', { h: 'a' }), 1000, 1);
    const written = a.drainChanges().filter(([k, v]) => k.startsWith('c\u0000') && v !== null).map(([k]) => k);
    a.advance(70_000);
    const deleted = a.drainChanges().filter(([, v]) => v === null).map(([k]) => k);
    expect(deleted.sort()).toEqual(written.sort());
  });

  it('reads the per-group entries of the previous format and rewrites them as blocks', () => {
    const rule = m.rules[0]!;
    const acc = newAcc('sum');
    accAdd(acc, 'sum', 's1', 1000, 70);
    accAdd(acc, 'sum', 's2', 2000, 40);
    const labels = { h: 'old' };
    const legacyKey = ['w', rule.name, rule.hash, '0', '0', canonicalLabels(labels)].join('\u0000');
    const { b } = restart(new RulesEngine(m), m, [[legacyKey, { labels, acc: accToJSON(acc) }], [['r', rule.name, rule.hash, ''].join('\u0000'), { nextEnd: 60_000, lastEvaluatedEnd: -Infinity }]]);
    const changes = b.drainChanges();
    expect(changes).toContainEqual([legacyKey, null]);
    expect(changes.some(([k, v]) => k.startsWith(`c\u0000${rule.name}\u0000`) && v !== null)).toBe(true);
    expect(b.advance(70_000).events.map((e) => [e.alertname, e.labels.h, e.value])).toEqual([['Sum', 'old', 110]]);
  });

  it('ingests a decoded batch like one ingest per sample, late samples counted', () => {
    const table = new SeriesTable();
    const refs = [table.intern(seriesIdentity('x', { h: 'a' })), table.intern(seriesIdentity('x', { h: 'b' })), table.intern(seriesIdentity('y', { h: 'a' }))];
    const cols = allocateColumns(4);
    [[0, 1000, 120], [1, 2000, 3], [2, 3000, 500], [0, 61_000, 1]].forEach(([r, t, v], i) => {
      cols.seriesRefs[i] = refs[r!]!.ref;
      cols.timestamps[i] = t!;
      cols.values[i] = v!;
    });
    const batch = { origin: { topic: 'metrics', partition: 0, offset: '0', key: null }, length: 4, ...cols, series: table, totalSamples: 4 };
    const a = new RulesEngine(m);
    expect(a.ingestBatch(batch)).toBe(0);
    const one = new RulesEngine(m);
    for (let i = 0; i < 4; i++) one.ingest(table.get(cols.seriesRefs[i]!), cols.timestamps[i]!, cols.values[i]!);
    expect(a.counters.samples).toBe(3);
    const ev = (e: RulesEngine) => e.advance(70_000).events.map((x) => [x.alertname, x.labels.h, x.value]);
    expect(ev(a)).toEqual(ev(one));
    // [0, 1m) is evaluated now: x at 1 s and 2 s are late, x at 61 s is not, y is selected by no rule.
    expect(a.ingestBatch(batch)).toBe(2);
    expect(a.counters.late).toBe(2);
  });

  it('resolves the series of a batch without materialising them, under the keys SeriesInfo has', () => {
    const table = new SeriesTable();
    const ids = [seriesIdentity('x', { h: 'a', i: '1' }), seriesIdentity('x', { h: 'a', i: '2' }), seriesIdentity('x', { h: 'b', i: '1' })];
    const refs = ids.map((id) => table.internRef(id));
    const cols = allocateColumns(3);
    refs.forEach((r, i) => {
      cols.seriesRefs[i] = r;
      cols.timestamps[i] = 1000 + i;
      cols.values[i] = 40;
    });
    const batch = { origin: { topic: 'metrics', partition: 0, offset: '0', key: null }, length: 3, ...cols, series: table, totalSamples: 3 };
    const get = vi.spyOn(table, 'get');
    const a = new RulesEngine(m);
    expect(a.ingestBatch(batch)).toBe(0);
    expect(get).not.toHaveBeenCalled();
    get.mockRestore();
    // Restored state names the series by their SeriesInfo key: the same series seen again after a
    // restart is the same member of count_series (2 series in h=a, not 4).
    const { b } = restart(a, m);
    for (const r of refs.slice(0, 2)) b.ingest(table.get(r), 2000, 40);
    const ev = b.advance(70_000).events.filter((e) => e.alertname === 'Count').map((e) => [e.labels.h, e.value]);
    expect(ev).toEqual([['a', 2]]);
  });

  it('keeps one member per series across a reload and when a series comes by key and by ref', () => {
    const table = new SeriesTable();
    const refs = [table.internRef(seriesIdentity('x', { h: 'a', i: '1' })), table.internRef(seriesIdentity('x', { h: 'a', i: '2' }))];
    const batchAt = (t: number) => {
      const cols = allocateColumns(2);
      refs.forEach((r, i) => {
        cols.seriesRefs[i] = r;
        cols.timestamps[i] = t;
        cols.values[i] = 40;
      });
      return { origin: { topic: 'metrics', partition: 0, offset: '0', key: null }, length: 2, ...cols, series: table, totalSamples: 2 };
    };
    const count = (e: RulesEngine) => e.advance(70_000).events.filter((x) => x.alertname === 'Count').map((x) => [x.labels.h, x.value]);
    // Reload with the same rules: the new route table routes both series again into the kept windows.
    const a = new RulesEngine(m);
    a.ingestBatch(batchAt(1000));
    expect(a.reload(m).kept).toContain('Count');
    a.ingestBatch(batchAt(2000));
    expect(count(a)).toEqual([['a', 2]]);
    // First by key (no ref), then by ref: the same two members.
    const b = new RulesEngine(m);
    for (const r of refs) {
      const { key, name, labels } = table.get(r);
      b.ingest({ key, name, labels }, 1000, 40);
    }
    b.ingestBatch(batchAt(2000));
    expect(count(b)).toEqual([['a', 2]]);
  });
});
