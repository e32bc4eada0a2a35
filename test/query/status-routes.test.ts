import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerStatusRoutes } from '../../src/query/status-routes.js';
import type { ObjectStore } from '../../src/sinks/archive/storage/object-store.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function fixture() {
  const registry = new Registry();
  const c = (name: string, labelNames: string[] = []) => new Counter({ name, help: name, labelNames, registers: [registry] });
  const g = (name: string, labelNames: string[] = []) => new Gauge({ name, help: name, labelNames, registers: [registry] });
  const m = {
    lag: g('vigil_consumer_lag', ['topology', 'topic', 'partition']),
    published: c('vigil_publisher_samples_total', ['topic']),
    pushed: c('vigil_push_samples_total', ['api']),
    rps: g('vigil_topology_records_per_second', ['topology']),
    lateRecords: c('vigil_late_records_total', ['topology']),
    lateSamples: c('vigil_late_samples_total', ['topology']),
    rulesLate: c('vigil_rules_late_samples_total'),
    dlqRecords: c('vigil_dlq_records_total', ['reason']),
    dlqSamples: c('vigil_dlq_samples_total', ['reason']),
    notifyDlq: c('vigil_notify_dead_letters_total', ['reason']),
    archiveBytes: c('vigil_archive_bytes_written_total', ['resolution']),
  };
  return { registry, m };
}

function store(objects: Array<{ key: string; size: number }>, calls = { n: 0 }): ObjectStore {
  return {
    url: 'file:///tmp/archive',
    localRoot: '/tmp/archive',
    list: async () => {
      calls.n++;
      return objects;
    },
  } as unknown as ObjectStore;
}

async function status(): Promise<any> {
  const res = await app!.inject({ method: 'GET', url: '/api/v1/status' });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(body.status).toBe('success');
  return body.data;
}

describe('GET /api/v1/status', () => {
  it('reports lag, late and dead-letter counts, archive size and component lines from the registry', async () => {
    const { registry, m } = fixture();
    m.lag.set({ topology: 'vigil-rules', topic: 'metrics', partition: '0' }, 5);
    m.lag.set({ topology: 'vigil-rules', topic: 'metrics', partition: '1' }, 7);
    m.lag.set({ topology: 'vigil-rollup-1m', topic: 'metrics', partition: '0' }, 1);
    m.rps.set({ topology: 'vigil-rules' }, 12.5);
    m.lateRecords.inc({ topology: 'vigil-rollup-1m' }, 3);
    m.lateSamples.inc({ topology: 'vigil-rollup-1m' }, 300);
    m.rulesLate.inc(20);
    m.dlqRecords.inc({ reason: 'schema' }, 2);
    m.dlqRecords.inc({ reason: 'bad_sample' }, 1);
    m.dlqSamples.inc({ reason: 'bad_sample' }, 4);
    m.notifyDlq.inc({ reason: 'smtp' });
    m.archiveBytes.inc({ resolution: 'raw' }, 1000);
    const objects = [
      { key: 'raw/a.parquet', size: 700 },
      { key: '1m/a.parquet', size: 300 },
    ];
    app = Fastify();
    registerStatusRoutes(app, { registry, archive: store(objects), components: () => ({ rules: '2 firing, 1 pending' }) });
    const data = await status();
    expect(data.consumerLag).toEqual({ total: 13, byTopology: { 'vigil-rules': 12, 'vigil-rollup-1m': 1 } });
    expect(data.samples.recordsPerSecondByTopology).toEqual({ 'vigil-rules': 12.5 });
    expect(data.late).toEqual({ records: 3, samples: 320 });
    expect(data.dlq).toEqual({ records: 3, samples: 4, byReason: { schema: 2, bad_sample: 1 }, notifications: 1 });
    expect(data.archive).toMatchObject({ url: 'file:///tmp/archive', objects: 2, bytes: 1000, bytesWritten: 1000 });
    expect(data.components).toEqual({ rules: '2 firing, 1 pending' });
  });

  it('measures samples/s between requests over the rate window', async () => {
    const { registry, m } = fixture();
    let now = 1_000_000;
    app = Fastify();
    registerStatusRoutes(app, { registry, now: () => now, rateWindowMs: 60_000 });
    // Nothing measured yet at the start.
    expect((await status()).samples).toMatchObject({ counted: 'published by this process', total: 0, perSecond: null });
    now += 10_000;
    m.published.inc({ topic: 'metrics' }, 1000);
    m.pushed.inc({ api: 'influx' }, 500);
    expect((await status()).samples).toMatchObject({ total: 1500, perSecond: 150, overSeconds: 10 });
    // Later requests measure against the newest sample at least a window old: the first burst drops out.
    now += 60_000;
    m.published.inc({ topic: 'metrics' }, 600);
    expect((await status()).samples).toMatchObject({ total: 2100, perSecond: 10, overSeconds: 60 });
  });

  it('counts the samples the engine took in when an engine runs in the process', async () => {
    const { registry, m } = fixture();
    const ingested = new Counter({ name: 'vigil_engine_samples_total', help: 'x', registers: [registry] });
    app = Fastify();
    registerStatusRoutes(app, { registry, now: () => 1_000_000 });
    m.published.inc({ topic: 'metrics' }, 1000);
    ingested.inc(700);
    expect((await status()).samples).toMatchObject({ counted: 'ingested by the engine', total: 700 });
  });

  it('lists the archive at most once per interval and reports a listing error', async () => {
    const { registry } = fixture();
    let now = 0;
    const calls = { n: 0 };
    app = Fastify();
    registerStatusRoutes(app, { registry, now: () => now, archive: store([{ key: 'k', size: 5 }], calls), archiveListMs: 30_000 });
    await status();
    now += 10_000;
    await status();
    expect(calls.n).toBe(1);
    now += 30_000;
    await status();
    expect(calls.n).toBe(2);

    await app.close();
    const failing = { url: 's3://b/p', localRoot: undefined, list: async () => Promise.reject(new Error('access denied')) } as unknown as ObjectStore;
    app = Fastify();
    registerStatusRoutes(app, { registry, archive: failing });
    expect((await status()).archive).toMatchObject({ url: 's3://b/p', error: 'access denied' });
  });
});
