import { describe, it, expect } from 'vitest';
import { FleetModel } from '../../src/fleet/fleet-model.js';
import { FleetRunner, type Clock } from '../../src/fleet/fleet-runner.js';
import type { HostTick } from '../../src/fleet/fleet-model.js';

const START = Date.UTC(2026, 0, 1);

/** A clock whose sleeps advance it instantly; records every sleep. */
function fakeClock(t0 = 1_000_000): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: t0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      if (ms > 0) c.t += ms;
    },
  };
  return c;
}

function fleet(): FleetModel {
  return new FleetModel({ pools: 1, hostsPerPool: 3, metricsPerHost: 12, seed: 1, startTime: START, intervalMs: 10_000 });
}

describe('FleetRunner', () => {
  it('fast-forwards: event time runs speed times faster than the wall clock', async () => {
    const clock = fakeClock();
    const times: number[] = [];
    const runner = new FleetRunner({
      model: fleet(),
      startTime: START,
      intervalMs: 10_000,
      speed: 60,
      durationMs: 5 * 60_000,
      clock,
      sink: (t) => void times.push(t.samples[0]!.timestamp),
    });
    const stats = await runner.run();
    expect(stats.ticks).toBe(30);
    expect(stats.hostBatches).toBe(90);
    expect(stats.samples).toBe(90 * 12);
    expect(stats.eventTime).toBe(START + 29 * 10_000);
    expect([...new Set(times)]).toEqual(Array.from({ length: 30 }, (_, k) => START + k * 10_000));
    // 5 minutes of event time at 60x take 5 s of wall clock.
    expect(clock.t - 1_000_000).toBe(5_000);
  });

  it('runs in real time with event time equal to the wall clock', async () => {
    const clock = fakeClock(START);
    const seen: { wall: number; event: number }[] = [];
    await new FleetRunner({
      model: fleet(),
      startTime: START,
      intervalMs: 10_000,
      speed: 1,
      durationMs: 60_000,
      clock,
      sink: (t) => void seen.push({ wall: clock.now(), event: t.samples[0]!.timestamp }),
    }).run();
    expect(seen).toHaveLength(18);
    expect(seen.every((s) => s.wall === s.event)).toBe(true);
    expect(clock.t).toBe(START + 60_000);
  });

  it('catches up a start in the past at once, then follows the wall clock', async () => {
    const clock = fakeClock(START + 60_000);
    const seen: { wall: number; event: number }[] = [];
    await new FleetRunner({
      model: fleet(),
      startTime: START,
      intervalMs: 10_000,
      speed: 1,
      durationMs: 120_000,
      clock,
      sink: (t) => void seen.push({ wall: clock.now(), event: t.samples[0]!.timestamp }),
    }).run();
    const perTick = seen.filter((_, i) => i % 3 === 0);
    // The first minute of event time is sent without waiting; from then on event time = wall clock.
    expect(perTick.slice(0, 7).every((s) => s.wall === START + 60_000)).toBe(true);
    expect(perTick.slice(6).every((s) => s.wall === s.event)).toBe(true);
    expect(perTick).toHaveLength(12);
  });

  it('as fast as possible never sleeps', async () => {
    const clock = fakeClock();
    const stats = await new FleetRunner({
      model: fleet(),
      startTime: START,
      intervalMs: 10_000,
      speed: Infinity,
      durationMs: 3_600_000,
      clock,
      sink: () => undefined,
    }).run();
    expect(stats.ticks).toBe(360);
    expect(clock.sleeps).toEqual([]);
  });

  it('waits for a slow sink and catches up without skipping a tick', async () => {
    const clock = fakeClock();
    const ticks: HostTick[] = [];
    const runner = new FleetRunner({
      model: fleet(),
      startTime: START,
      intervalMs: 10_000,
      speed: 1,
      durationMs: 60_000,
      clock,
      sink: async (t) => {
        ticks.push(t);
        if (ticks.length === 1) clock.t += 35_000; // the sink blocks for 35 s once
      },
    });
    const stats = await runner.run();
    expect(ticks.map((t) => t.samples[0]!.timestamp).filter((_, i) => i % 3 === 0)).toEqual(
      Array.from({ length: 6 }, (_, k) => START + k * 10_000),
    );
    expect(stats.ticks).toBe(6);
    expect(clock.sleeps.filter((ms) => ms < 0).length).toBeGreaterThan(0);
  });

  it('stops when aborted and reports what it did', async () => {
    const ac = new AbortController();
    let batches = 0;
    const stats = await new FleetRunner({
      model: fleet(),
      startTime: START,
      intervalMs: 10_000,
      speed: Infinity,
      clock: fakeClock(),
      signal: ac.signal,
      sink: () => {
        if (++batches === 7) ac.abort();
      },
    }).run();
    expect(batches).toBe(7);
    expect(stats.hostBatches).toBe(7); // the 7th was handed over before the abort
    expect(stats.ticks).toBe(2);
  });

  it('tracks active faults in its stats', async () => {
    const { FaultSchedule } = await import('../../src/fleet/fault-schedule.js');
    const model = new FleetModel({
      pools: 1,
      hostsPerPool: 3,
      metricsPerHost: 12,
      seed: 1,
      startTime: START,
      intervalMs: 10_000,
      faults: FaultSchedule.parse('cpu:p1-h2@20s+1m', ['p1-h1', 'p1-h2', 'p1-h3'], 1),
    });
    const seen: string[] = [];
    const runner: FleetRunner = new FleetRunner({
      model,
      startTime: START,
      intervalMs: 10_000,
      speed: Infinity,
      durationMs: 100_000,
      clock: fakeClock(),
      sink: () => void seen.push(runner.stats.activeFaults.map((f) => f.target).join()),
    });
    await runner.run();
    expect(seen.filter((s) => s === 'p1-h2')).toHaveLength(18);
  });

  it('resumed with skipThrough, sends exactly the ticks an uninterrupted run sends after it, with the same values', async () => {
    const run = async (skipThrough?: number) => {
      const ticks: HostTick[] = [];
      await new FleetRunner({
        model: fleet(),
        startTime: START,
        intervalMs: 10_000,
        speed: Infinity,
        durationMs: 10 * 60_000,
        clock: fakeClock(),
        ...(skipThrough !== undefined ? { skipThrough } : {}),
        sink: (t) => void ticks.push(t),
      }).run();
      return ticks;
    };
    const whole = await run();
    const resumed = await run(START + 29 * 10_000);
    expect(resumed.length).toBe(whole.length / 2);
    expect(resumed).toEqual(whole.filter((t) => t.samples[0]!.timestamp > START + 29 * 10_000));
  });
});
