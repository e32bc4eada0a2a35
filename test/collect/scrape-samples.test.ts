import { describe, expect, it } from 'vitest';
import type { ScrapeJob } from '../../src/collect/scrape/scrape-config.js';
import { scrapeSamples, type SeriesMemory } from '../../src/collect/scrape/scrape-samples.js';
import type { ScrapeTarget } from '../../src/collect/scrape/targets.js';
import { isStaleMarker, STALE_NAN } from '../../src/collect/stale-marker.js';
import type { ExposedSample } from '../../src/collect/scrape/parse-exposition.js';

const job: ScrapeJob = {
  name: 'node', intervalMs: 1000, timeoutMs: 500, metricsPath: '/metrics', scheme: 'http', honorLabels: false, honorTimestamps: true, params: {}, fileSd: [], staticGroups: [],
};
const target: ScrapeTarget = { key: 'k', job, url: 'http://h:1/metrics', labels: { instance: 'h:1', job: 'node' }, intervalMs: 1000, timeoutMs: 500 };
const s = (name: string, labels: Record<string, string> = {}, value = 1, timestamp?: number): ExposedSample => ({ name, labels, value, timestamp, kind: 'UNKNOWN' });
const ok = (samples: ExposedSample[]) => ({ ok: true as const, samples, format: 'prometheus' as const, bytes: 1 });

describe('scrapeSamples', () => {
  it('renames clashing labels exported_<name> (repeatedly) unless honor_labels', () => {
    const exposed = [s('m', { job: 'inner', exported_job: 'x', instance: '', a: 'b' })];
    const plain = scrapeSamples(target, ok(exposed), new Map(), 1000, 5);
    expect(plain.samples[0]!.labels).toEqual({ exported_exported_job: 'inner', exported_job: 'x', a: 'b' });
    const honored = scrapeSamples({ ...target, job: { ...job, honorLabels: true } }, ok(exposed), new Map(), 1000, 5);
    expect(honored.samples[0]!.labels).toEqual({ job: 'inner', exported_job: 'x', a: 'b' });
  });

  it('uses exposition timestamps unless honor_timestamps is off', () => {
    expect(scrapeSamples(target, ok([s('m', {}, 1, 500)]), new Map(), 1000, 5).samples[0]!.timestamp).toBe(500);
    const off = { ...target, job: { ...job, honorTimestamps: false } };
    expect(scrapeSamples(off, ok([s('m', {}, 1, 500)]), new Map(), 1000, 5).samples[0]!.timestamp).toBe(1000);
  });

  it('marks series that vanished stale, and everything when the scrape fails', () => {
    const first = scrapeSamples(target, ok([s('a'), s('b', { x: '1' })]), new Map(), 1000, 5);
    expect(first.samples.map((x) => x.name)).toEqual(['a', 'b', 'up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    const second = scrapeSamples(target, ok([s('a')]), first.seen, 2000, 5);
    const stale = second.samples.filter((x) => isStaleMarker(x.value));
    expect(stale).toEqual([{ name: 'b', labels: { x: '1' }, timestamp: 2000, value: STALE_NAN, kind: 'UNKNOWN' }]);
    const failed = scrapeSamples(target, { ok: false, error: 'down' }, second.seen, 3000, 5);
    expect(failed.samples.map((x) => [x.name, isStaleMarker(x.value) ? 'stale' : x.value])).toEqual([
      ['a', 'stale'],
      ['up', 0],
      ['scrape_duration_seconds', 0.005],
      ['scrape_samples_scraped', 0],
    ]);
    expect(failed.seen.size).toBe(0);
  });

  it('fails the scrape (up 0) on a series the contract rejects', () => {
    const result = scrapeSamples(target, ok([s('a', { v: 'x'.repeat(3000) })]), new Map() as SeriesMemory, 1000, 5);
    expect(result.up).toBe(false);
    expect(result.error).toMatch(/^invalid series a: Label value too long/);
    expect(result.samples.map((x) => [x.name, x.value])).toEqual([
      ['up', 0],
      ['scrape_duration_seconds', 0.005],
      ['scrape_samples_scraped', 1],
    ]);
  });

  it('counts target and sample labels together against the 64-label limit', () => {
    const labels: Record<string, string> = {};
    for (let i = 0; i < 60; i++) labels[`t${i}`] = 'x';
    const wide = { ...target, labels };
    const four = { a: '1', b: '2', c: '3', d: '4' };
    expect(scrapeSamples(wide, ok([s('m', four)]), new Map(), 1000, 5).up).toBe(true);
    const result = scrapeSamples(wide, ok([s('m', { ...four, e: '5' })]), new Map(), 1000, 5);
    expect(result.error).toBe('invalid series m: Too many labels: 65 (max 64)');
  });
});
