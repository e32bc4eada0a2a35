import { describe, it, expect } from 'vitest';
import { FleetSession, type FleetPublisher } from '../../src/fleet/fleet-session.js';
import { fleetSetup } from '../../src/fleet/fleet-setup.js';
import type { Clock } from '../../src/fleet/fleet-runner.js';
import type { PublisherStats } from '../../src/kafka/publisher.js';
import type { Sample } from '../../src/model/types.js';

const START = Date.UTC(2026, 0, 1);

class CountingPublisher implements FleetPublisher {
  readonly sources: string[] = [];
  readonly stats: PublisherStats = {
    records: 0,
    samples: 0,
    bytes: 0,
    sends: 0,
    retries: 0,
    failedRecords: 0,
    backpressureWaits: 0,
    bufferedBytes: 0,
  };
  flushed = 0;
  async publish(source: Record<string, string>, samples: Sample[]) {
    this.sources.push(source.host!);
    this.stats.records++;
    this.stats.samples += samples.length;
    this.stats.bytes += samples.length * 20;
  }
  async flush() {
    this.flushed++;
  }
}

function fakeClock(): Clock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: async (ms: number) => void (c.t += Math.max(ms, 0)) };
  return c;
}

describe('FleetSession', () => {
  it('publishes every host of every tick, flushes, and sums it up', async () => {
    const setup = fleetSetup({ duration: '1m', speed: '10', start: String(START), faults: 'heartbeat:p1-h2@0s+20s' }, 0);
    const publisher = new CountingPublisher();
    const clock = fakeClock();
    const session = new FleetSession({ setup, publisher, clock });
    const result = await session.run();
    expect(publisher.sources).toHaveLength(60);
    expect(publisher.flushed).toBe(1);
    expect(result.run.ticks).toBe(6);
    expect(result.publisher?.samples).toBe(60 * 12 - 2);
    expect(result.faultsSeen).toEqual(['heartbeat:p1-h2']);
    expect(clock.t).toBe(6000);
    expect(result.summary).toMatch(/^done in 6s \| 718 samples in 60 records \(14.0 KiB\) \| 120 samples\/s \| 2.3 KiB\/s \| buffered 0 B \| faults seen heartbeat:p1-h2$/);
  });

  it('leaves records and bytes out when it only serves exporters', async () => {
    const { FleetExporter } = await import('../../src/fleet/fleet-exporter.js');
    const setup = fleetSetup({ duration: '20s', start: String(START), faults: 'none' }, 0);
    const clock = fakeClock();
    const session = new FleetSession({ setup, exporter: new FleetExporter(setup.model.hosts), clock });
    const result = await session.run();
    expect(result.summary).toBe('done in 20s | 240 samples | 12 samples/s | scrapes 0 | faults seen none');
    expect(session.statusLine()).toBe(`+20s | event ${new Date(START + 10_000).toISOString()} | 12 samples/s | samples 240 | scrapes 0 | faults none`);
  });

  it('prints status lines with rates, event time and active faults', async () => {
    const setup = fleetSetup({ duration: '20s', start: String(START), faults: 'cpu:p1-h1@0s+1m', asFastAsPossible: true }, 0);
    const publisher = new CountingPublisher();
    const clock = fakeClock();
    const session = new FleetSession({ setup, publisher, clock });
    await session.run();
    clock.t = 2000;
    expect(session.statusLine()).toBe(
      `+2s | event ${new Date(START + 10_000).toISOString()} | 120 samples/s | 2.3 KiB/s | records 20 | samples 240 | buffered 0 B | faults cpu:p1-h1`,
    );
  });
});
