import { describe, expect, it } from 'vitest';
import type { ScrapeJob } from '../../src/collect/scrape/scrape-config.js';
import { ScrapeManager } from '../../src/collect/scrape/scrape-manager.js';
import { buildTargets } from '../../src/collect/scrape/targets.js';
import { RecordingPublisher, waitFor } from './support/helpers.js';

const job: ScrapeJob = {
  name: 'j', intervalMs: 100, timeoutMs: 50, metricsPath: '/metrics', scheme: 'http', honorLabels: false, honorTimestamps: true, params: {}, fileSd: [], staticGroups: [],
};

describe('ScrapeManager slots', () => {
  it('skips a slot whose timer fires over half an interval late instead of scraping twice in a row', async () => {
    const scrapes: number[] = [];
    const missed: Array<[number, string]> = [];
    const manager = new ScrapeManager({
      publisher: new RecordingPublisher(),
      scrape: async () => {
        scrapes.push(Date.now());
        return { ok: true, samples: [], format: 'prometheus', bytes: 0 };
      },
      onMissed: (_key, slot, reason) => missed.push([slot, reason]),
    });
    manager.setTargets(buildTargets(job, [{ targets: ['h:1'], labels: {}, source: 't' }]).targets);
    await waitFor(() => scrapes.length >= 1, 2000, 'a first scrape');
    const stallUntil = Date.now() + 280;
    while (Date.now() < stallUntil) {
      /* the event loop is stalled: the next slots' timers fire late */
    }
    await waitFor(() => scrapes.length >= 3, 2000, 'scrapes after the stall');
    await manager.close();
    expect(missed.length).toBeGreaterThanOrEqual(2);
    expect(missed.every(([, reason]) => reason === 'late')).toBe(true);
    expect(manager.stats.missed).toBe(missed.length);
    for (let i = 1; i < scrapes.length; i++) expect(scrapes[i]! - scrapes[i - 1]!).toBeGreaterThanOrEqual(50);
  });

  it('scrapes only the slots it owns', async () => {
    const slots: number[] = [];
    const manager = new ScrapeManager({
      publisher: new RecordingPublisher(),
      owns: (_key, slot) => Math.floor(slot / 100) % 2 === 0,
      scrape: async () => {
        slots.push(Date.now());
        return { ok: true, samples: [], format: 'prometheus', bytes: 0 };
      },
    });
    manager.setTargets(buildTargets(job, [{ targets: ['h:1'], labels: {}, source: 't' }]).targets);
    await waitFor(() => slots.length >= 3, 3000, 'three owned scrapes');
    await manager.close();
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(150);
  });
});
