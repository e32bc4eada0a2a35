import { describe, it, expect } from 'vitest';
import { FleetModel, type FleetModelOptions } from '../../src/fleet/fleet-model.js';
import { FaultSchedule } from '../../src/fleet/fault-schedule.js';
import { CORE_SERIES_COUNT } from '../../src/fleet/metric-catalog.js';
import { FleetOptionError } from '../../src/fleet/fleet-option-error.js';
import type { Sample } from '../../src/model/types.js';

const START = Date.UTC(2026, 0, 1);
const STEP = 10_000;

function model(over: Partial<FleetModelOptions> = {}): FleetModel {
  return new FleetModel({ pools: 2, hostsPerPool: 5, metricsPerHost: 12, seed: 42, startTime: START, intervalMs: STEP, ...over });
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Runs `ticks` ticks of one host and returns its samples per tick. */
function hostSeries(m: FleetModel, hostIndex: number, ticks: number): Sample[][] {
  const out: Sample[][] = [];
  for (let k = 0; k < ticks; k++) out.push(m.sampleHost(hostIndex, START + k * STEP).samples);
  return out;
}

describe('FleetModel shape', () => {
  it('has pools x hosts hosts with pool, host and env source labels and unique names', () => {
    const m = model();
    expect(m.hosts).toHaveLength(10);
    expect(new Set(m.hosts.map((h) => h.host)).size).toBe(10);
    expect(m.hosts[0]!.source).toEqual({ pool: 'p1', host: 'p1-h1', env: 'prod' });
    expect(m.hosts[9]!.source).toEqual({ pool: 'p2', host: 'p2-h5', env: 'prod' });
    expect(m.seriesCount).toBe(120);
  });

  it('reports the series the example rules use, with their labels and kinds', () => {
    const [samples] = hostSeries(model(), 3, 1);
    expect(samples).toHaveLength(12);
    expect(find(samples!, 'cpu.load')?.kind).toBe('GAUGE');
    expect(find(samples!, 'mem.used_percent')?.kind).toBe('GAUGE');
    expect(find(samples!, 'disk.used_percent', { mount: '/' })).toBeDefined();
    expect(find(samples!, 'disk.used_percent', { mount: '/data' })).toBeDefined();
    for (const svc of ['api', 'web']) {
      expect(find(samples!, 'http.requests', { svc, code: '200' })?.kind).toBe('COUNTER');
      expect(find(samples!, 'http.requests', { svc, code: '500' })?.kind).toBe('COUNTER');
      expect(find(samples!, 'http.errors', { svc, code: '500' })?.kind).toBe('COUNTER');
    }
    expect(find(samples!, 'heartbeat')).toMatchObject({ labels: { job: 'api', instance: 'p1-h4' }, value: 1 });
    expect(samples!.every((s) => s.timestamp === START)).toBe(true);
  });

  it('reaches 10M-series shapes by flags', () => {
    const m = model({ pools: 1000, hostsPerPool: 100, metricsPerHost: 100 });
    expect(m.seriesCount).toBe(10_000_000);
    expect(m.hosts[99_999]!.host).toBe('p1000-h100');
    expect(m.sampleHost(99_999, START).samples).toHaveLength(100);
  });

  it('rejects shapes it cannot build with a clear error', () => {
    expect(() => model({ metricsPerHost: CORE_SERIES_COUNT - 1 })).toThrow(/at least 11/);
    expect(() => model({ pools: 0 })).toThrow(FleetOptionError);
    expect(() => model({ hostsPerPool: 1.5 })).toThrow(/hosts per pool/);
    expect(() => model({ pools: 100_000, hostsPerPool: 1000, metricsPerHost: 100 })).toThrow(/over the limit/);
  });

  it('refuses to move a host back in time', () => {
    const m = model();
    m.sampleHost(0, START + STEP);
    expect(() => m.sampleHost(0, START)).toThrow(/not after/);
  });
});

describe('FleetModel values', () => {
  it('keeps gauges inside their bounds and CPU well below alerting level without faults', () => {
    const m = model({ pools: 1, hostsPerPool: 4, metricsPerHost: 40 });
    for (let h = 0; h < 4; h++) {
      const ticks = hostSeries(m, h, 2000);
      const cpu = ticks.map((s) => find(s, 'cpu.load')!.value);
      expect(Math.min(...cpu)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...cpu)).toBeLessThanOrEqual(1);
      // The HighCpuLoad example averages 1m windows (6 samples) against 0.9.
      for (let i = 0; i + 6 <= cpu.length; i += 6) expect(cpu.slice(i, i + 6).reduce((a, b) => a + b) / 6).toBeLessThan(0.9);
      const percents = ticks.flat().filter((x) => x.kind === 'GAUGE' && x.name !== 'cpu.load').map((x) => x.value);
      expect(Math.min(...percents)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...percents)).toBeLessThanOrEqual(100);
      const disk = ticks.map((s) => find(s, 'disk.used_percent', { mount: '/data' })!.value);
      expect(Math.max(...disk)).toBeLessThan(75);
      expect(new Set(cpu).size).toBeGreaterThan(20); // it does move (2 decimals: at most 101 values)
    }
  });

  it('keeps counters monotone except at restarts, where they start again from 0', () => {
    const m = model({ pools: 1, hostsPerPool: 3, metricsPerHost: 30, meanRestartIntervalMs: 30 * 60_000 });
    let restarts = 0;
    for (let h = 0; h < 3; h++) {
      let previous: Sample[] | undefined;
      for (let k = 0; k < 1000; k++) {
        const tick = m.sampleHost(h, START + k * STEP);
        if (tick.restarted) restarts++;
        tick.samples.forEach((s, i) => {
          if (s.kind !== 'COUNTER' || !previous) return;
          const before = previous[i]!.value;
          // After a restart a counter holds only this tick's increase (at most 1000/s x 10 s x 1.3).
          if (tick.restarted) expect(s.value).toBeLessThanOrEqual(13_000);
          else if (s.value < before) expect.fail(`${s.name} went from ${before} to ${s.value} without a restart`);
          if (!Number.isInteger(s.value)) expect.fail(`${s.name} = ${s.value} is not a count`);
        });
        previous = tick.samples;
      }
    }
    // 3 hosts x 10000 s with a 30 min mean: about 17 restarts expected.
    expect(restarts).toBeGreaterThan(5);
    expect(restarts).toBe(m.restartsOf(0) + m.restartsOf(1) + m.restartsOf(2));
  });

  it('reports gauges with 2 decimals and counters as integers, as exporters do; precision full reports the same walks unrounded', () => {
    const reported = hostSeries(model({ metricsPerHost: 40 }), 2, 300).flat();
    const full = hostSeries(model({ metricsPerHost: 40, precision: 'full' }), 2, 300).flat();
    expect(reported.length).toBe(full.length);
    let unrounded = 0;
    reported.forEach((s, i) => {
      const f = full[i]!;
      expect([s.name, s.timestamp]).toEqual([f.name, f.timestamp]);
      if (s.kind === 'COUNTER') {
        if (!Number.isInteger(s.value) || s.value !== f.value) expect.fail(`${s.name} = ${s.value} (full ${f.value})`);
        return;
      }
      // The shortest decimal of the reported double has at most 2 decimals, and it is the full value rounded.
      if (!/^-?\d+(\.\d{1,2})?$/.test(String(s.value)) || Math.abs(s.value - f.value) > 0.005 + 1e-12) expect.fail(`${s.name} = ${s.value} (full ${f.value})`);
      if (!/^-?\d+(\.\d{1,2})?$/.test(String(f.value))) unrounded++;
    });
    expect(unrounded).toBeGreaterThan(reported.length / 4);
  });

  it('keeps the fleet error ratio under 1% normally', () => {
    const m = model();
    const errorsAt = (k: number) => {
      let req = 0;
      let err = 0;
      for (const t of m.tick(START + k * STEP)) {
        for (const s of t.samples) {
          if (s.name === 'http.requests' && s.labels.svc === 'api') req += s.value;
          if (s.name === 'http.errors' && s.labels.svc === 'api') err += s.value;
        }
      }
      return { req, err };
    };
    const a = errorsAt(0);
    for (let k = 1; k < 30; k++) errorsAt(k);
    const b = errorsAt(30);
    expect((b.err - a.err) / (b.req - a.req)).toBeLessThan(0.01);
  });

  it('is deterministic for a seed and different for another seed', () => {
    const run = (seed: number) => {
      const m = model({ seed, faults: FaultSchedule.defaultCycle(['p1-h1', 'p1-h2', 'p2-h1'], seed) });
      const out: number[] = [];
      for (let k = 0; k < 50; k++) for (const t of m.tick(START + k * STEP)) out.push(...t.samples.map((s) => s.value));
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(8)).not.toEqual(run(7));
  });

  it('gives a host the same values whatever the size of the fleet', () => {
    const small = hostSeries(model({ pools: 1, hostsPerPool: 2 }), 1, 20);
    const big = hostSeries(model({ pools: 3, hostsPerPool: 2 }), 1, 20);
    expect(big).toEqual(small);
  });
});

describe('FleetModel faults', () => {
  const faults = FaultSchedule.of([
    { kind: 'cpu', target: 'p1-h2', atMs: 60_000, durationMs: 5 * 60_000 },
    { kind: 'heartbeat', target: 'p1-h3', atMs: 60_000, durationMs: 3 * 60_000 },
    { kind: 'disk', target: 'p1-h4', atMs: 0, durationMs: 30 * 60_000 },
    { kind: 'errors', target: 'web', atMs: 5 * 60_000, durationMs: 5 * 60_000 },
    { kind: 'mem', target: 'p2-h1', atMs: 60_000, durationMs: 15 * 60_000 },
  ]);

  it('pegs CPU of the target host only while the fault lasts', () => {
    const m = model({ faults });
    const cpu = hostSeries(m, 1, 60).map((s) => find(s, 'cpu.load')!.value);
    expect(cpu.slice(6, 36).every((v) => v >= 0.95 && v <= 1)).toBe(true);
    expect(cpu.slice(0, 6).every((v) => v < 0.9)).toBe(true);
    expect(cpu.slice(36).every((v) => v < 0.9)).toBe(true);
    expect(hostSeries(m, 0, 60).every((s) => find(s, 'cpu.load')!.value < 0.95)).toBe(true);
  });

  it('stops the heartbeat of the target host and nothing else', () => {
    const m = model({ faults });
    const ticks = hostSeries(m, 2, 30);
    const present = ticks.map((s) => find(s, 'heartbeat') !== undefined);
    expect(present.slice(0, 6).every(Boolean)).toBe(true);
    expect(present.slice(6, 24).some(Boolean)).toBe(false);
    expect(present.slice(24).every(Boolean)).toBe(true);
    expect(ticks[10]!.length).toBe(11);
    expect(hostSeries(m, 0, 30).every((s) => find(s, 'heartbeat'))).toBe(true);
  });

  it('fills the disk of the target host past 80 then 95 and cleans it up after', () => {
    const m = model({ faults });
    const disk = hostSeries(m, 3, 200).map((s) => find(s, 'disk.used_percent', { mount: '/data' })!.value);
    const first80 = disk.findIndex((v) => v > 80);
    const first95 = disk.findIndex((v) => v > 95);
    expect(first80).toBeGreaterThan(0);
    expect(first95).toBeGreaterThan(first80);
    expect(first95 * STEP).toBeLessThan(15 * 60_000);
    expect(disk.slice(90, 180).every((v) => v > 95)).toBe(true);
    expect(disk[180]!).toBeLessThan(75);
  });

  it('leaks memory of the target host above 97% and frees it when the fault ends', () => {
    const m = model({ faults });
    const mem = hostSeries(m, 5, 120).map((s) => find(s, 'mem.used_percent')!.value);
    expect(mem.slice(0, 6).every((v) => v < 90)).toBe(true);
    // 15 min fault from 1 min: full from 7 min (tick 42) until 16 min (tick 96).
    expect(mem.slice(42, 96).every((v) => v > 97 && v <= 100)).toBe(true);
    expect(mem[24]!).toBeGreaterThan(mem[6]!); // climbing
    expect(mem[24]!).toBeLessThan(97);
    expect(mem[97]!).toBeLessThan(90);
  });

  it('raises the fleet-wide error ratio of the target service above 5% during a burst', () => {
    const m = model({ faults });
    const totals: Record<string, { req: number; err: number }>[] = [];
    for (let k = 0; k <= 60; k++) {
      const t: Record<string, { req: number; err: number }> = { api: { req: 0, err: 0 }, web: { req: 0, err: 0 } };
      for (const tick of m.tick(START + k * STEP)) {
        for (const s of tick.samples) {
          if (s.name === 'http.requests') t[s.labels.svc!]!.req += s.value;
          if (s.name === 'http.errors') t[s.labels.svc!]!.err += s.value;
        }
      }
      totals.push(t);
    }
    const ratio = (svc: string, from: number, to: number) =>
      (totals[to]![svc]!.err - totals[from]![svc]!.err) / (totals[to]![svc]!.req - totals[from]![svc]!.req);
    expect(ratio('web', 31, 59)).toBeGreaterThan(0.05);
    expect(ratio('api', 31, 59)).toBeLessThan(0.01);
    expect(ratio('web', 0, 29)).toBeLessThan(0.01);
  });

  it('reports which faults are active when', () => {
    const m = model({ faults });
    expect(m.activeFaults(START + 30_000).map((f) => f.kind)).toEqual(['disk']);
    expect(m.activeFaults(START + 60_000).map((f) => f.kind).sort()).toEqual(['cpu', 'disk', 'heartbeat', 'mem']);
    expect(m.activeFaults(START + 6 * 60_000).map((f) => `${f.kind}:${f.target}`).sort()).toEqual(['disk:p1-h4', 'errors:web', 'mem:p2-h1']);
  });
});
