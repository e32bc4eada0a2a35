import { describe, it, expect } from 'vitest';
import { FaultSchedule, DEFAULT_PERIOD_MS } from '../../src/fleet/fault-schedule.js';
import { FleetOptionError } from '../../src/fleet/fleet-option-error.js';

const HOSTS = ['p1-h1', 'p1-h2', 'p1-h3', 'p2-h1', 'p2-h2'];
const MIN = 60_000;

describe('FaultSchedule', () => {
  it('starts the first default fault within 30 s and keeps faults long enough for the example rules', () => {
    const s = FaultSchedule.defaultCycle(HOSTS, 1);
    expect(s.activeAt(0)).toEqual([]);
    expect(s.activeAt(30_000).length).toBeGreaterThan(0);
    const cycle = s.cycleFaults(0);
    expect(cycle.map((f) => f.kind).sort()).toEqual(['cpu', 'disk', 'errors', 'heartbeat', 'mem']);
    const first = Math.min(...cycle.map((f) => f.atMs));
    expect(first).toBeLessThanOrEqual(30_000);
    const byKind = Object.fromEntries(cycle.map((f) => [f.kind, f]));
    // rules-language.md's examples: HighCpuLoad for 5m; HeartbeatMissing for 3m; HighErrorRate 5m window
    // for 10m; DiskAlmostFull 5m window for 10m. rules/fleet.rules: MemoryPressure 5m window for 5m.
    expect(byKind.cpu!.durationMs).toBeGreaterThanOrEqual(7 * MIN);
    expect(byKind.heartbeat!.durationMs).toBeGreaterThanOrEqual(4 * MIN);
    expect(byKind.errors!.durationMs).toBeGreaterThanOrEqual(16 * MIN);
    expect(byKind.disk!.durationMs).toBeGreaterThanOrEqual(25 * MIN);
    expect(byKind.mem!.durationMs).toBeGreaterThanOrEqual(12 * MIN);
    expect(Math.max(...cycle.map((f) => f.atMs + f.durationMs))).toBeLessThan(DEFAULT_PERIOD_MS);
  });

  it('targets distinct hosts of the fleet and repeats with new targets each period', () => {
    const s = FaultSchedule.defaultCycle(HOSTS, 1);
    const targets = (k: number) => s.cycleFaults(k).filter((f) => f.kind !== 'errors').map((f) => f.target);
    for (let k = 0; k < 10; k++) {
      expect(new Set(targets(k)).size).toBe(4);
      for (const t of targets(k)) expect(HOSTS).toContain(t);
    }
    expect(new Set(Array.from({ length: 10 }, (_, k) => targets(k).join())).size).toBeGreaterThan(1);
    expect(s.activeAt(DEFAULT_PERIOD_MS + 30_000).length).toBeGreaterThan(0);
    expect(s.cycleFaults(1)[0]!.atMs).toBe(DEFAULT_PERIOD_MS + 20_000);
    expect(s.cycleFaults(0).find((f) => f.kind === 'errors')!.target).toBe('api');
    expect(s.cycleFaults(1).find((f) => f.kind === 'errors')!.target).toBe('web');
  });

  it('works with a single host', () => {
    const cycle = FaultSchedule.defaultCycle(['only'], 3).cycleFaults(0);
    expect(cycle.filter((f) => f.kind !== 'errors').every((f) => f.target === 'only')).toBe(true);
  });

  it('parses none, default and explicit lists', () => {
    expect(FaultSchedule.parse('none', HOSTS, 1).activeAt(60_000)).toEqual([]);
    expect(FaultSchedule.parse('default', HOSTS, 1).cycleFaults(0)).toEqual(FaultSchedule.defaultCycle(HOSTS, 1).cycleFaults(0));
    const s = FaultSchedule.parse('cpu:p1-h2@30s+10m, errors:web@1m+1h,heartbeat:p2-h1@0s+90s', HOSTS, 1);
    expect(s.activeAt(29_999)).toEqual([expect.objectContaining({ kind: 'heartbeat', target: 'p2-h1' })]);
    const at = s.activeAt(90_000).map((f) => `${f.kind}:${f.target}:${f.progress.toFixed(2)}`);
    expect(at).toEqual(['cpu:p1-h2:0.10', 'errors:web:0.01']);
    expect(s.activeAt(40 * MIN).map((f) => f.kind)).toEqual(['errors']);
    expect(s.describe()).toContain('cpu:p1-h2@30000ms+600000ms');
  });

  it.each([
    ['cpu', /expected KIND:TARGET@START\+DURATION/],
    ['fire:p1-h1@1s+1m', /unknown kind "fire"/],
    ['cpu:nohost@1s+1m', /no host named "nohost"/],
    ['errors:db@1s+1m', /must be a service/],
    ['disk:p1-h1@soon+1m', /Invalid fault start/],
    ['disk:p1-h1@1s+0s', /duration must be positive/],
  ])('rejects %s with a clear error', (spec, message) => {
    expect(() => FaultSchedule.parse(spec, HOSTS, 1)).toThrow(FleetOptionError);
    expect(() => FaultSchedule.parse(spec, HOSTS, 1)).toThrow(message);
  });
});
