import { describe, it, expect } from 'vitest';
import { fleetSetup } from '../../src/fleet/fleet-setup.js';
import { FleetOptionError } from '../../src/fleet/fleet-option-error.js';
import { parseDuration, parseInstant, formatDuration } from '../../src/fleet/time-parse.js';

const NOW = Date.UTC(2026, 5, 1, 12);

describe('fleetSetup', () => {
  it('gives a small real-time fleet with the default faults by default', () => {
    const s = fleetSetup({}, NOW);
    expect(s.model.hosts).toHaveLength(10);
    expect(s.model.series).toHaveLength(12);
    expect(s).toMatchObject({ startTime: NOW, intervalMs: 10_000, speed: 1, durationMs: undefined });
    expect(s.model.faults.describe()).toMatch(/default cycle/);
  });

  it('takes every option', () => {
    const s = fleetSetup(
      {
        pools: '3',
        hosts: '4',
        metrics: '20',
        interval: '1s',
        speed: '60',
        duration: '5m',
        start: '2026-01-01T00:00:00Z',
        seed: '99',
        faults: 'cpu:p2-h3@10s+1m',
      },
      NOW,
    );
    expect(s.model.hosts).toHaveLength(12);
    expect(s).toMatchObject({ startTime: Date.UTC(2026, 0, 1), intervalMs: 1000, speed: 60, durationMs: 300_000, seed: 99 });
    expect(s.model.activeFaults(Date.UTC(2026, 0, 1) + 15_000)).toEqual([expect.objectContaining({ kind: 'cpu', target: 'p2-h3' })]);
    expect(fleetSetup({ asFastAsPossible: true, start: '1700000000000' }, NOW)).toMatchObject({ speed: Infinity, startTime: 1_700_000_000_000 });
    expect(fleetSetup({ faults: 'none' }, NOW).model.faults.describe()).toBe('none');
    const cpu = (precision?: string) => fleetSetup({ precision }, NOW).model.sampleHost(0, NOW).samples.find((x) => x.name === 'cpu.load')!.value;
    expect(cpu()).toBe(Math.round(cpu('full') * 100) / 100);
    expect(cpu('full')).not.toBe(cpu('exporter'));
  });

  it.each([
    [{ pools: '0' }, /--pools "0"/],
    [{ hosts: 'many' }, /--hosts "many"/],
    [{ metrics: '5' }, /at least 11/],
    [{ interval: '0s' }, /--interval "0s": must be positive/],
    [{ interval: '10' }, /--interval "10"/],
    [{ speed: '0' }, /--speed "0"/],
    [{ speed: 'fast' }, /--speed "fast"/],
    [{ speed: '2', asFastAsPossible: true }, /exclude each other/],
    [{ duration: 'forever' }, /--duration "forever"/],
    [{ start: 'yesterday' }, /--start "yesterday"/],
    [{ faults: 'cpu:zzz@1s+1m' }, /no host named "zzz"/],
    [{ precision: 'decimal' }, /precision "decimal": expected exporter or full/],
  ])('rejects %o', (values, message) => {
    expect(() => fleetSetup(values, NOW)).toThrow(FleetOptionError);
    expect(() => fleetSetup(values, NOW)).toThrow(message);
  });
});

describe('time parsing', () => {
  it('parses durations and instants', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseInstant('2026-01-01T00:00:00.000Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseInstant('0')).toBe(0);
    expect(formatDuration(3_725_000)).toBe('1h2m5s');
    expect(formatDuration(250)).toBe('250ms');
  });
});
