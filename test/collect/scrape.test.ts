import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Gauge, Registry } from 'prom-client';
import { Collector } from '../../src/collect/collector.js';
import type { ScrapeJob } from '../../src/collect/scrape/scrape-config.js';
import { closeScrapeAgents, SCRAPE_ACCEPT } from '../../src/collect/scrape/scrape-http.js';
import { isStaleMarker } from '../../src/collect/stale-marker.js';
import { RecordingPublisher, startServer, waitFor, type TestServer } from './support/helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  closeScrapeAgents();
});

function job(overrides: Partial<ScrapeJob> = {}): ScrapeJob {
  return {
    name: 'node',
    intervalMs: 200,
    timeoutMs: 150,
    metricsPath: '/metrics',
    scheme: 'http',
    honorLabels: false,
    honorTimestamps: true,
    params: {},
    fileSd: [],
    staticGroups: [],
    ...overrides,
  };
}

async function collector(jobs: ScrapeJob[], publisher = new RecordingPublisher()) {
  const c = new Collector({ jobs, publisher });
  await c.start();
  cleanups.push(() => c.close());
  return { collector: c, publisher };
}

async function server(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(handler);
  cleanups.push(() => s.close());
  return s;
}

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-collect-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('scraping over HTTP', () => {
  it('scrapes a prom-client exporter (gzip) with target labels and report series', async () => {
    const register = new Registry();
    const requests = new Counter({ name: 'app_requests_total', help: 'r', labelNames: ['code', 'job'], registers: [register] });
    requests.inc({ code: '200', job: 'inner' }, 7);
    new Gauge({ name: 'app_temp', help: 't', registers: [register] }).set(21.5);
    const exporter = await server(async (req, res) => {
      const body = Buffer.from(await register.metrics());
      const gzip = /gzip/.test(String(req.headers['accept-encoding']));
      res.writeHead(200, { 'content-type': register.contentType, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gzip ? gzipSync(body) : body);
    });
    const { publisher } = await collector([job({ staticGroups: [{ targets: [exporter.address], labels: { env: 'prod', __hidden: 'x' }, source: 'test' }] })]);
    const batch = await waitFor(() => publisher.batches.find((b) => b.samples.some((s) => s.name === 'app_temp')), 5000, 'a scrape');
    expect(batch.source).toEqual({ env: 'prod', instance: exporter.address, job: 'node' });
    const byName = new Map(batch.samples.map((s) => [s.name, s]));
    expect(byName.get('app_requests_total')).toMatchObject({ labels: { code: '200', exported_job: 'inner' }, value: 7, kind: 'COUNTER' });
    expect(byName.get('app_temp')).toMatchObject({ value: 21.5, kind: 'GAUGE' });
    expect(byName.get('up')).toMatchObject({ value: 1, kind: 'GAUGE' });
    expect(byName.get('scrape_samples_scraped')!.value).toBe(2);
    expect(byName.get('scrape_duration_seconds')!.value).toBeGreaterThanOrEqual(0);
    const hit = exporter.hits[0]!;
    expect(hit.url).toBe('/metrics');
    expect(hit.headers.accept).toBe(SCRAPE_ACCEPT);
    expect(hit.headers['accept-encoding']).toBe('gzip');
    expect(hit.headers['x-prometheus-scrape-timeout-seconds']).toBe('0.15');
  });

  it('parses a hand-written OpenMetrics page: exposition timestamps, honor_labels', async () => {
    const page = [
      '# TYPE jobs counter',
      '# HELP jobs Jobs processed.',
      'jobs_total{job="batch",queue="q1"} 42 1700000000.5 # {trace_id="abc"} 1',
      '# TYPE temp gauge',
      'temp 3.5',
      '# EOF',
      '',
    ].join('\n');
    const exporter = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
      res.end(page);
    });
    const groups = [{ targets: [exporter.address], labels: {}, source: 'test' }];
    const { publisher } = await collector([job({ name: 'a', staticGroups: groups }), job({ name: 'b', honorLabels: true, staticGroups: groups })]);
    const a = await waitFor(() => publisher.batches.find((b) => b.source.job === 'a' && b.samples.length > 3), 5000, 'job a');
    const b = await waitFor(() => publisher.batches.find((x) => x.source.job === 'b' && x.samples.length > 3), 5000, 'job b');
    const jobsA = a.samples.find((s) => s.name === 'jobs_total')!;
    expect(jobsA).toEqual({ name: 'jobs_total', labels: { exported_job: 'batch', queue: 'q1' }, timestamp: 1_700_000_000_500, value: 42, kind: 'COUNTER' });
    expect(b.samples.find((s) => s.name === 'jobs_total')!.labels).toEqual({ job: 'batch', queue: 'q1' });
    const temp = a.samples.find((s) => s.name === 'temp')!;
    expect(temp.timestamp).toBe(a.samples.find((s) => s.name === 'up')!.timestamp);
    expect(Math.abs(temp.timestamp - Date.now())).toBeLessThan(5000);
  });

  it('gives up 0 for a target that times out, answers 500 or serves a bad exposition', async () => {
    const slow = await server(() => {
      /* never answers */
    });
    const failing = await server((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    const broken = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('ok 1\nbad{ 2\n');
    });
    const { collector: c, publisher } = await collector([
      job({ staticGroups: [{ targets: [slow.address, failing.address, broken.address], labels: {}, source: 'test' }] }),
    ]);
    for (const target of [slow, failing, broken]) {
      const batch = await waitFor(() => publisher.batches.find((b) => b.source.instance === target.address), 5000, 'a failed scrape');
      expect(batch.samples.map((s) => [s.name, s.value])).toEqual([
        ['up', 0],
        ['scrape_duration_seconds', batch.samples[1]!.value],
        ['scrape_samples_scraped', 0],
      ]);
    }
    const slowDuration = publisher.batches.find((b) => b.source.instance === slow.address)!.samples[1]!.value;
    expect(slowDuration).toBeGreaterThanOrEqual(0.14);
    const health = new Map(c.manager.health().map((h) => [h.url, h.error]));
    expect(health.get(`http://${slow.address}/metrics`)).toBe('scrape timed out after 150 ms');
    expect(health.get(`http://${failing.address}/metrics`)).toBe('server returned HTTP status 500 Internal Server Error');
    expect(health.get(`http://${broken.address}/metrics`)).toBe('prometheus parse error at line 2, column 6: invalid label name "2"');
  });
});

describe('file_sd', () => {
  it('picks up added, changed and removed targets; a bad file keeps the previous ones; removal sends stale markers', async () => {
    const dir = tmp();
    const a = await server((_req, res) => res.end('m_a 1\n'));
    const b = await server((_req, res) => res.end('m_b 2\n'));
    const file = join(dir, 'targets.json');
    writeFileSync(file, JSON.stringify([{ targets: [a.address], labels: { team: 'x' } }]));
    const { collector: c, publisher } = await collector([job({ fileSd: [{ files: [join(dir, '*.json'), join(dir, 'more.yml')], refreshIntervalMs: 60_000 }] })]);
    expect(c.currentTargets().map((t) => t.labels)).toEqual([{ instance: a.address, job: 'node', team: 'x' }]);
    await waitFor(() => publisher.all().some((s) => s.name === 'm_a'), 5000, 'target a');

    // A YAML file appears next to it (atomic rename, as config managers do).
    writeFileSync(join(dir, 'more.yml.tmp'), `- targets: ["${b.address}"]\n  labels:\n    team: y\n`);
    renameSync(join(dir, 'more.yml.tmp'), join(dir, 'more.yml'));
    await waitFor(() => c.currentTargets().length === 2, 5000, 'the YAML target');
    await waitFor(() => publisher.all().some((s) => s.name === 'm_b' && s.source.team === 'y'), 5000, 'target b scraped');

    // A broken update keeps what was there.
    writeFileSync(file, '[{"targets": ["not a target/x"]}]');
    writeFileSync(join(dir, 'more.yml'), '- targets: [unclosed\n');
    await new Promise((r) => setTimeout(r, 400));
    expect(c.currentTargets()).toHaveLength(2);

    // Removing target a from its file: stale markers for its series.
    writeFileSync(file, '[]');
    await waitFor(() => c.currentTargets().length === 1, 5000, 'target a removed');
    const stale = await waitFor(
      () => publisher.all().filter((s) => s.source.instance === a.address && isStaleMarker(s.value)),
      5000,
      'stale markers',
    );
    expect(stale.map((s) => s.name).sort()).toEqual(['m_a', 'scrape_duration_seconds', 'scrape_samples_scraped', 'up']);
  });
});
