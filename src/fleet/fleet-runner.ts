/**
 * Drives a FleetModel through event time and hands each host's samples to a sink (the Kafka
 * publisher, the exporter). Event time of tick k is `startTime + k * interval`; its wall-clock
 * deadline is `wallStart + k * interval / speed`, so speed 1 is real time (event time = wall
 * clock when startTime is now; a startTime in the past is caught up at full speed first), speed N runs
 * N times faster, and Infinity runs as fast as the
 * sink accepts. A slow sink delays ticks (backpressure) but never skips one.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { FleetModel, HostTick } from './fleet-model.js';
import { formatFault, type ActiveFault } from './fault-schedule.js';

/** Where the runner reads wall-clock time and waits; injectable for tests. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    if (ms <= 0 || signal?.aborted) return;
    await sleepTimer(ms, undefined, signal ? { signal } : undefined).catch(() => undefined);
  },
};

export interface FleetRunOptions {
  model: FleetModel;
  /** Event time of tick 0 (epoch ms); the model's startTime. */
  startTime: number;
  intervalMs: number;
  /** Event-time speed-up over wall clock; 1 = real time; Infinity = as fast as possible. */
  speed: number;
  /** Event time to cover, ms: ticks in [startTime, startTime + durationMs). Undefined = until aborted. */
  durationMs?: number;
  /** Receives every host's samples of a tick, in host order; awaited (backpressure). */
  sink: (tick: HostTick) => Promise<void> | void;
  /**
   * Resuming a fleet that ran before: ticks at or before this event time were already sent. They are
   * still computed (the model's random walks and counters advance exactly as in an uninterrupted run)
   * but not sent, and not paced.
   */
  skipThrough?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/** Progress of a run, readable at any time (status lines). */
export interface FleetRunStats {
  ticks: number;
  hostBatches: number;
  samples: number;
  restarts: number;
  /** Event time of the last completed tick, or undefined before the first. */
  eventTime: number | undefined;
  /** How far the run is behind its wall-clock schedule, ms (0 when on time). */
  lagMs: number;
  activeFaults: ActiveFault[];
  /** Every fault that was in effect at some tick, as `kind:target`. */
  faultsSeen: Set<string>;
}

export class FleetRunner {
  readonly stats: FleetRunStats = {
    ticks: 0,
    hostBatches: 0,
    samples: 0,
    restarts: 0,
    eventTime: undefined,
    lagMs: 0,
    activeFaults: [],
    faultsSeen: new Set(),
  };

  constructor(private readonly options: FleetRunOptions) {
    if (!(options.speed > 0)) throw new RangeError(`speed must be positive, got ${options.speed}`);
  }

  /** Runs until the duration is covered or the signal aborts; resolves with the final stats. */
  async run(): Promise<FleetRunStats> {
    const { model, startTime, intervalMs, speed, durationMs, sink, signal } = this.options;
    const clock = this.options.clock ?? systemClock;
    const wallStart = clock.now();
    const realPaced = Number.isFinite(speed);
    // Real time starting in the past (a backfill): ticks run at once until event time reaches the
    // wall clock, then follow it, so the stream looks like a fleet that was already running.
    const catchUp = speed === 1 && startTime < wallStart;
    const skipThrough = this.options.skipThrough ?? -Infinity;
    for (let k = 0; durationMs === undefined || k * intervalMs < durationMs; k++) {
      if (signal?.aborted) return this.stats;
      if (startTime + k * intervalMs <= skipThrough) {
        for (let h = 0; h < model.hosts.length; h++) model.sampleHost(h, startTime + k * intervalMs);
        if (k % 64 === 63) await yieldToLoop();
        continue;
      }
      if (realPaced) {
        const deadline = catchUp ? startTime + k * intervalMs : wallStart + (k * intervalMs) / speed;
        const wait = deadline - clock.now();
        this.stats.lagMs = Math.max(0, -wait);
        await clock.sleep(wait, signal);
        if (signal?.aborted) return this.stats;
      }
      const time = startTime + k * intervalMs;
      this.stats.activeFaults = model.activeFaults(time);
      for (const f of this.stats.activeFaults) this.stats.faultsSeen.add(formatFault(f));
      for (let h = 0; h < model.hosts.length; h++) {
        const tick = model.sampleHost(h, time);
        await sink(tick);
        this.stats.hostBatches++;
        this.stats.samples += tick.samples.length;
        if (tick.restarted) this.stats.restarts++;
        // Let timers (status line, signals) run even when the sink never waits.
        if (h % 256 === 255) await yieldToLoop();
        if (signal?.aborted) return this.stats;
      }
      this.stats.ticks++;
      this.stats.eventTime = time;
      if (!realPaced) await yieldToLoop();
    }
    // Real-time and sped-up runs last their whole duration, not just until the last tick.
    if (realPaced && durationMs !== undefined) await clock.sleep(wallStart + durationMs / speed - clock.now(), signal);
    return this.stats;
  }
}
