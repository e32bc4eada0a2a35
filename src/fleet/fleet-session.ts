/**
 * One run of the simulated fleet with its outputs: publishes each host's samples (through a
 * SampleBatchPublisher) and/or serves them (FleetExporter), and reports status lines. What
 * `vigil produce` and `vigil start` run; the Kafka clients are built by the caller.
 */
import type { PublisherStats } from '../kafka/publisher.js';
import type { Sample } from '../model/types.js';
import type { FleetExporter } from './fleet-exporter.js';
import { FleetRunner, systemClock, type Clock, type FleetRunStats } from './fleet-runner.js';
import type { FleetSetup } from './fleet-setup.js';
import { formatBytes, formatCount, StatusMeter, type FleetCounters } from './status-line.js';

/** What the session needs of a publisher (SampleBatchPublisher fits). */
export interface FleetPublisher {
  publish(source: Record<string, string>, samples: Sample[]): Promise<void>;
  flush(): Promise<void>;
  readonly stats: PublisherStats;
}

export interface FleetSessionOptions {
  setup: FleetSetup;
  publisher?: FleetPublisher;
  exporter?: FleetExporter;
  /** Stops the run (Ctrl-C); the session then flushes what it published. */
  signal?: AbortSignal;
  /** Ticks at or before this event time were sent by an earlier run (FleetRunOptions.skipThrough). */
  skipThrough?: number;
  /** Receives a status line every `statusIntervalMs` (default 2000). */
  onStatus?: (line: string) => void;
  statusIntervalMs?: number;
  clock?: Clock;
}

/** The outcome of a session. */
export interface FleetSessionResult {
  summary: string;
  run: FleetRunStats;
  publisher: PublisherStats | undefined;
  faultsSeen: string[];
}

export class FleetSession {
  private readonly runner: FleetRunner;
  private readonly meter: StatusMeter;
  private readonly clock: Clock;

  constructor(private readonly options: FleetSessionOptions) {
    const { setup, publisher, exporter } = options;
    if (!publisher && !exporter) throw new Error('FleetSession needs a publisher, an exporter or both');
    this.clock = options.clock ?? systemClock;
    this.runner = new FleetRunner({
      model: setup.model,
      startTime: setup.startTime,
      intervalMs: setup.intervalMs,
      speed: setup.speed,
      durationMs: setup.durationMs,
      clock: this.clock,
      signal: options.signal,
      ...(options.skipThrough !== undefined ? { skipThrough: options.skipThrough } : {}),
      sink: async (tick) => {
        exporter?.update(tick);
        if (publisher) await publisher.publish(tick.host.source, tick.samples);
      },
    });
    this.meter = new StatusMeter(this.counters());
  }

  /** Live progress of the run. */
  get stats(): FleetRunStats {
    return this.runner.stats;
  }

  /** The current status line (rates since the previous call). */
  statusLine(): string {
    return this.meter.line(this.counters());
  }

  /** Runs until the duration is covered or the signal aborts, then flushes the publisher. */
  async run(): Promise<FleetSessionResult> {
    const { onStatus, statusIntervalMs = 2000, publisher } = this.options;
    const timer = onStatus ? setInterval(() => onStatus(this.statusLine()), statusIntervalMs) : undefined;
    try {
      const run = await this.runner.run();
      if (publisher) await publisher.flush();
      const counters = this.counters();
      return {
        summary: this.meter.summary(counters, run.faultsSeen),
        run,
        publisher: publisher?.stats,
        faultsSeen: [...run.faultsSeen],
      };
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  private counters(): FleetCounters {
    const { publisher, exporter } = this.options;
    const run = this.runner.stats;
    const extra: Record<string, string> = {};
    if (run.lagMs > 1000) extra.behind = `${formatCount(run.lagMs / 1000)} s`;
    if (run.restarts) extra.restarts = formatCount(run.restarts);
    if (exporter) extra.scrapes = formatCount(exporter.scrapes);
    if (publisher) {
      const p = publisher.stats;
      extra.buffered = formatBytes(p.bufferedBytes);
      if (p.retries) extra.retries = formatCount(p.retries);
      if (p.failedRecords) extra.failed = formatCount(p.failedRecords);
    }
    return {
      now: this.clock.now(),
      samples: publisher ? publisher.stats.samples : run.samples,
      bytes: publisher?.stats.bytes,
      records: publisher?.stats.records,
      eventTime: run.eventTime,
      activeFaults: run.activeFaults,
      extra,
    };
  }
}
