import { describe, expect, it } from 'vitest';
import { checkSources } from '../../src/dsl/index.js';
import { RulesEngine, type SeriesRef } from '../../src/rules/engine.js';
import { buildRulesTopology, jsonSampleBatchDecoder } from '../../src/rules/rules-topology.js';
import { RulesModule, rulesStateCodec } from '../../src/rules/rules-processor.js';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { jsonSerde, stringSerde } from '../../src/topology/serdes.js';
import type { AlertEvent, SampleBatch } from '../../src/model/types.js';

function model(source: string) {
  const r = checkSources([{ file: 'r.rules', source }]);
  expect(r.errors.map((e) => e.location)).toEqual([]);
  return r.model!;
}

const series = (name: string, labels: Record<string, string>): SeriesRef => ({ key: `${name}${JSON.stringify(labels)}`, name, labels });

describe('RulesEngine', () => {
  const rules = model(`
alert Disk {
  value max(disk) by (host)
  warning when value > 80
  critical when value > 95
  labels { team = "x" }
  annotations { s = "{{ value }} {{ level }}" }
}`);

  it('emits explainable events with stable fingerprints across levels and deterministic ids', () => {
    const run = () => {
      const e = new RulesEngine(rules);
      const s = series('disk', { host: 'a' });
      const events: AlertEvent[] = [];
      [85, 97, 50].forEach((v, i) => {
        e.ingest(s, i * 60_000 + 1000, v);
        events.push(...e.advance(i * 60_000 + 1000).events);
      });
      events.push(...e.advance(10 * 60_000).events);
      return events;
    };
    const events = run();
    expect(events.map((e) => [e.transition, e.level, e.labels.severity, e.sequence, e.window_end])).toEqual([
      ['FIRING', 'warning', 'warning', 1, 60_000],
      ['ESCALATED', 'critical', 'critical', 2, 120_000],
      ['RESOLVED', 'critical', 'critical', 3, 180_000],
    ]);
    expect(new Set(events.map((e) => e.fingerprint)).size).toBe(1);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3);
    expect(run().map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
    const first = events[0]!;
    expect(first).toMatchObject({
      alertname: 'Disk',
      labels: { alertname: 'Disk', host: 'a', severity: 'warning', team: 'x' },
      annotations: { s: '85 warning' },
      value: 85,
      rule_file: 'r.rules',
      window_start: 0,
      window_end: 60_000,
      watermark: 121_000,
      active_since: 60_000,
      inputs: { 'max(disk) by (host)': 85, threshold: 80, value: 85 },
    });
    expect(first.rule_hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('never evaluates a window twice and reports samples for closed windows as late', () => {
    const e = new RulesEngine(rules);
    const s = series('disk', { host: 'a' });
    expect(e.ingest(s, 1000, 90)).toBe('ok');
    expect(e.advance(70_000).events).toHaveLength(1);
    expect(e.ingest(s, 2000, 99)).toBe('late');
    expect(e.ingest(s, 61_000, 99)).toBe('ok');
    expect(e.counters.late).toBe(1);
    expect(e.advance(70_000).events).toHaveLength(0);
  });

  it('keeps state of unchanged rules across a reload and restarts changed ones', () => {
    const two = (t: number) => model(`alert A { when max(x) > 1 }\nalert B { when max(x) > ${t} }`);
    const e = new RulesEngine(two(1));
    e.ingest(series('x', {}), 1000, 5);
    expect(e.advance(70_000).events.map((x) => x.alertname)).toEqual(['A', 'B']);
    expect(e.reload(two(2))).toEqual({ changed: ['B'], kept: ['A'], removed: [] });
    expect(e.alertStates('A')[0]!.phase).toBe('firing');
    expect(e.alertStates('B')).toEqual([]);
  });

  it('persists per-series counter state through the store codec', () => {
    const m = model('alert R { when sum(rate(c)) by (h) > 0.5 }');
    const a = new RulesEngine(m);
    const s = series('c', { h: 'x' });
    a.ingest(s, 0, 0);
    a.ingest(s, 30_000, 30);
    const b = new RulesEngine(m);
    for (const [k, v] of a.drainChanges()) b.restore(k, rulesStateCodec.decode(rulesStateCodec.encode(v)));
    b.ingest(s, 50_000, 50);
    const ev = b.advance(70_000).events;
    expect(ev.map((e) => [e.transition, e.value])).toEqual([['FIRING', 1]]);
  });

  it('counts division by zero and gives no value', () => {
    const e = new RulesEngine(model('alert R { when sum(a) by (s) / sum(b) by (s) > 1 }'));
    e.ingest(series('a', { s: '1' }), 0, 1);
    e.ingest(series('b', { s: '1' }), 0, 0);
    expect(e.advance(70_000).events).toEqual([]);
    expect(e.counters.divByZero).toBe(1);
  });
});

describe('rules topology on the test driver', () => {
  it('sends alerts keyed by fingerprint, late samples to metrics.late, recorded samples back into rules', () => {
    const m = model(`
record r:x { value sum(x) by (h) }
alert FromRecord { when max(r:x) by (h) > 10 }`);
    const module = new RulesModule(m);
    const topology = buildRulesTopology({ applicationId: 't', module, decode: jsonSampleBatchDecoder(), alertSerde: jsonSerde<AlertEvent>(), sampleBatchSerde: jsonSerde<SampleBatch>() });
    const driver = new TopologyTestDriver(topology);
    try {
      const input = driver.createInputTopic('metrics', stringSerde, jsonSerde<SampleBatch>());
      const alerts = driver.createOutputTopic('alerts', stringSerde, jsonSerde<AlertEvent>());
      const late = driver.createOutputTopic('metrics.late', stringSerde, stringSerde);
      const batch = (t: number, v: number): SampleBatch => ({ source: { h: 'a' }, samples: [{ name: 'x', labels: {}, timestamp: t, value: v, kind: 'GAUGE' }] });
      input.pipeInput('k', batch(1000, 6), 1000);
      input.pipeInput('k', batch(2000, 6), 2000);
      input.pipeInput('k', batch(75_000, 1), 75_000); // closes [0,1m): r:x = 12 recorded at 60s
      input.pipeInput('k', batch(135_000, 1), 135_000); // closes [1m,2m) where the recorded sample lives
      input.pipeInput('k', batch(3000, 1), 3000); // late
      const out = alerts.readRecordsToList();
      expect(out.map((r) => [r.key, r.value.alertname, r.value.transition, r.value.window_end])).toEqual([
        [out[0]!.value.fingerprint, 'FromRecord', 'FIRING', 120_000],
      ]);
      expect(out[0]!.headers['vigil.id']).toBe(out[0]!.value.event_id);
      expect(late.readRecordsToList()).toHaveLength(1);
    } finally {
      driver.close();
    }
  });

  it('restores windows and alert states after a restart and does not fire again', () => {
    const m = model('alert Hot { when avg(t) by (h) > 5 for 2m }\nalert Gone { when absent(hb) by (h) for 2m }');
    const build = () => {
      const module = new RulesModule(m);
      return buildRulesTopology({ applicationId: 't', module, decode: jsonSampleBatchDecoder(), alertSerde: jsonSerde<AlertEvent>(), sampleBatchSerde: jsonSerde<SampleBatch>(), idleMs: 60_000 });
    };
    const driver = new TopologyTestDriver(build());
    try {
      const input = driver.createInputTopic('metrics', stringSerde, jsonSerde<SampleBatch>());
      const alerts = driver.createOutputTopic('alerts', stringSerde, jsonSerde<AlertEvent>());
      const at = (t: number, hb = true) =>
        input.pipeInput('k', { source: { h: 'a' }, samples: [{ name: 't', labels: {}, timestamp: t, value: 9, kind: 'GAUGE' }, ...(hb ? [{ name: 'hb', labels: {}, timestamp: t, value: 1, kind: 'GAUGE' as const }] : [])] }, t);
      at(0);
      at(30_000);
      at(60_000);
      driver.restart();
      at(90_000);
      at(120_000, false);
      driver.restart();
      at(150_000, false);
      at(190_000, false);
      expect(alerts.readValuesToList().map((e) => [e.alertname, e.transition, e.window_end])).toEqual([['Hot', 'FIRING', 180_000]]);
      // Idle partition: the wall clock moves stream time on, so absent() fires without new records.
      driver.advanceWallClockTime(60_000);
      driver.advanceWallClockTime(60_000);
      expect(alerts.readValuesToList().map((e) => [e.alertname, e.transition])).toContainEqual(['Gone', 'FIRING']);
    } finally {
      driver.close();
    }
  });
});
