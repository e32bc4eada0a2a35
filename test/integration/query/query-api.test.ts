import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../../src/http/http-server.js';
import { ArchiveSource } from '../../../src/query/archive-source.js';
import { CombinedSource } from '../../../src/query/combined-source.js';
import { Head } from '../../../src/query/head.js';
import { registerQueryRoutes } from '../../../src/query/query-routes.js';
import { ArchiveQuery } from '../../../src/sinks/archive/archive-query.js';
import { openObjectStore } from '../../../src/sinks/archive/storage/open-store.js';
import { SeriesTable } from '../../../src/model/decoded-batch.js';
import { writeArchiveFixture } from '../../support/archive-fixture.js';
import { decodedBatchOf } from '../../support/decoded-batch.js';

// Two closed hours of known data: 4 hosts in 2 pools, cpu.load every 10 s, and a counter.
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const HOURS = 2;
const HOSTS = [
  { pool: 'a', host: 'web1' },
  { pool: 'a', host: 'web2' },
  { pool: 'b', host: 'db1' },
  { pool: 'b', host: 'db2' },
];
const cpu = (h: number, t: number) => Math.round((0.5 + 0.4 * Math.sin(t / 600_000 + h)) * 1000) / 1000;
const requests = (h: number, t: number) => ((t - T0) / 10_000) * (h + 1);

let root: string;
let archive: ArchiveQuery;
let server: HttpServer;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'vigil-query-'));
  await writeArchiveFixture({
    root,
    t0: T0,
    hours: HOURS,
    labels: HOSTS.map((labels) => ({ env: 'prod', ...labels })),
    metrics: [
      { name: 'cpu.load', value: cpu },
      { name: 'http.requests', value: requests, counter: true },
    ],
  });
  archive = await ArchiveQuery.open(openObjectStore({ root }));
  const head = new Head();
  server = createHttpServer({ port: 0, host: '127.0.0.1' });
  await registerQueryRoutes(server.app, {
    source: new CombinedSource(new ArchiveSource(archive), head),
    limits: { maxSeries: 6, maxPoints: 5_000 },
    now: () => T0 + 48 * 3_600_000,
  });
  await server.listen();
  base = server.url();
}, 60_000);

afterAll(async () => {
  await server?.close();
  archive?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function get(path: string, params: Record<string, string | number>) {
  const res = await fetch(`${base}${path}?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`);
  return { status: res.status, body: (await res.json()) as any };
}

const range = (step: number, hours = HOURS) => ({ start: T0 / 1000, end: T0 / 1000 + hours * 3600, step });

/** DuckDB's own answer: avg(cpu.load) by pool per window of `stepS` ending at t. */
async function duckAvgByPool(stepS: number): Promise<Map<string, number>> {
  const res = await archive.run(
    `SELECT labels['pool'] AS pool, (floor(epoch_ms("timestamp") / ${stepS * 1000}) + 1) * ${stepS} AS t, avg(value) AS v
     FROM raw WHERE name = 'cpu.load' GROUP BY ALL`,
  );
  return new Map(res.rows.map((r) => [`${r.pool}|${Number(r.t)}`, Number(r.v)]));
}

function valuesByPoolAndTime(body: any): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of body.data.result) for (const [t, v] of s.values) out.set(`${s.metric.pool}|${t}`, Number(v));
  return out;
}

describe('query API over the archive', () => {
  it('answers query_range with the values DuckDB computes from raw samples (raw resolution below 1m)', async () => {
    const { status, body } = await get('/api/v1/query_range', { query: 'avg(cpu.load) by (pool)', ...range(30) });
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('matrix');
    expect(body.vigil.resolution).toBe('raw');
    const ours = valuesByPoolAndTime(body);
    const duck = await duckAvgByPool(30);
    expect(ours.size).toBe(2 * 240);
    for (const [k, v] of ours) expect(v, k).toBeCloseTo(duck.get(k)!, 12);
  });

  it('switches to 1m rollups at a 1m step and to 1h rollups at a 1h step, with equal answers', async () => {
    for (const [step, resolution] of [
      [60, '1m'],
      [300, '1m'],
      [3600, '1h'],
    ] as const) {
      const { body } = await get('/api/v1/query_range', { query: 'avg(cpu.load) by (pool)', ...range(step) });
      expect(body.vigil.resolution, `step ${step}`).toBe(resolution);
      const ours = valuesByPoolAndTime(body);
      const duck = await duckAvgByPool(step);
      expect(ours.size).toBe((2 * HOURS * 3600) / step);
      for (const [k, v] of ours) expect(v, `${k} step ${step}`).toBeCloseTo(duck.get(k)!, 12);
    }
  });

  it('computes max, count and counter increase from rollups like DuckDB does from raw', async () => {
    const { body } = await get('/api/v1/query_range', { query: 'max(cpu.load)', ...range(3600) });
    const duck = await archive.run(`SELECT hour, max(value) AS v FROM raw WHERE name = 'cpu.load' GROUP BY hour ORDER BY hour`);
    expect(body.data.result).toHaveLength(1);
    expect(body.data.result[0].values.map((p: [number, string]) => Number(p[1]))).toEqual(duck.rows.map((r) => Number(r.v)));
    const count = await get('/api/v1/query_range', { query: 'count(cpu.load) by (pool)', ...range(600) });
    for (const s of count.body.data.result) for (const [, v] of s.values) expect(Number(v)).toBe(2 * 60);
    // The counter grows by (h + 1) per 10 s; its increase over 10 minutes, summed over a pool's hosts.
    const inc = await get('/api/v1/query_range', { query: 'sum(increase(http.requests)) by (pool)', ...range(600) });
    expect(inc.body.vigil.resolution).toBe('1m');
    const byPool = Object.fromEntries(inc.body.data.result.map((s: any) => [s.metric.pool, Number(s.values[3][1])]));
    expect(byPool.a).toBeCloseTo(60 * (1 + 2), 6);
    expect(byPool.b).toBeCloseTo(60 * (3 + 4), 6);
  });

  it('reads raw samples for quantiles whatever the step', async () => {
    const { body } = await get('/api/v1/query_range', { query: 'p50(cpu.load) by (pool)', ...range(600) });
    expect(body.vigil.resolution).toBe('raw');
    expect(body.data.result).toHaveLength(2);
  });

  it('answers an instant query with a vector at the window end', async () => {
    const t = T0 / 1000 + 1800;
    const { status, body } = await get('/api/v1/query', { query: 'avg(cpu.load{pool="a"})', time: t, window: '5m' });
    expect(status).toBe(200);
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result).toHaveLength(1);
    const duck = await duckAvgByPool(300);
    expect(body.data.result[0].value[0]).toBe(t);
    expect(Number(body.data.result[0].value[1])).toBeCloseTo(duck.get(`a|${t}`)!, 12);
  });

  it('gives 400 with the position of a parse error', async () => {
    const { status, body } = await get('/api/v1/query_range', { query: 'avg(cpu.load by (pool)', ...range(60) });
    expect(status).toBe(400);
    expect(body.status).toBe('error');
    expect(body.errorType).toBe('bad_data');
    expect(body.error).toMatch(/^query:1:\d+: /);
    expect(body.position).toBeGreaterThan(0);
    expect(body.position).toBeLessThanOrEqual('avg(cpu.load by (pool)'.length);
    const unknown = await get('/api/v1/query', { query: 'frobnicate(cpu.load)' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.position).toBe(0);
  });

  it('gives 400 for bad parameters', async () => {
    expect((await get('/api/v1/query_range', { query: 'avg(cpu.load)', start: 'yesterday', end: 1, step: 60 })).status).toBe(400);
    expect((await get('/api/v1/query_range', { query: 'avg(cpu.load)', start: 1, end: 2, step: '-5' })).status).toBe(400);
    expect((await get('/api/v1/query_range', { query: 'avg(cpu.load)', start: 10, end: 2, step: 1 })).status).toBe(400);
  });

  it('gives 422 past the series and points limits', async () => {
    const series = await get('/api/v1/query_range', { query: 'avg(cpu.load) by (host) + avg(http.requests) by (host)', ...range(3600) });
    expect(series.status).toBe(422);
    expect(series.body.errorType).toBe('execution');
    expect(series.body.error).toMatch(/more than 6 series/);
    const points = await get('/api/v1/query_range', { query: 'avg(cpu.load)', ...range(1) });
    expect(points.status).toBe(422);
    expect(points.body.error).toMatch(/more than 5000 points/);
  });

  it('lists series, label names and label values', async () => {
    const window = { start: T0 / 1000, end: T0 / 1000 + 3600 };
    const series = await get('/api/v1/series', { 'match[]': 'cpu.load{pool="b"}', ...window });
    expect(series.status).toBe(200);
    expect(series.body.data.map((s: any) => s.host).sort()).toEqual(['db1', 'db2']);
    expect(series.body.data[0].__name__).toBe('cpu.load');
    const labels = await get('/api/v1/labels', window);
    expect(labels.body.data).toEqual(['__name__', 'env', 'host', 'pool']);
    const values = await get('/api/v1/label/host/values', window);
    expect(values.body.data).toEqual(['db1', 'db2', 'web1', 'web2']);
    expect((await get('/api/v1/series', window)).status).toBe(400);
  });
});

describe('the head', () => {
  it('adds samples the archive does not hold yet, without counting any twice', async () => {
    const head = new Head();
    const table = new SeriesTable();
    const after = T0 + HOURS * 3_600_000;
    // Head data for the hour after the archive ends, and one sample inside the archive's range
    // that must not be counted because the head only covers from its first sample on.
    head.append(decodedBatchOf(table, [{ name: 'cpu.load', labels: { env: 'prod', pool: 'a', host: 'web1' }, samples: [[after, 0.25], [after + 30_000, 0.75]] }]));
    const source = new CombinedSource(new ArchiveSource(archive), head);
    const local = createHttpServer({ port: 0, host: '127.0.0.1' });
    await registerQueryRoutes(local.app, { source, now: () => after + 3_600_000 });
    await local.listen();
    try {
      const res = await fetch(`${local.url()}/api/v1/query_range?query=${encodeURIComponent('avg(cpu.load{host="web1"})')}&start=${after / 1000}&end=${(after + 60_000) / 1000}&step=60`);
      const body = (await res.json()) as any;
      const values = body.data.result[0].values;
      const duck = await archive.run(`SELECT avg(value) AS v FROM raw WHERE name = 'cpu.load' AND labels['host'] = 'web1' AND epoch_ms("timestamp") >= ${after - 60_000}`);
      expect(values).toEqual([
        [(after) / 1000, String(Number(duck.rows[0]!.v))],
        [(after + 60_000) / 1000, '0.5'],
      ]);
    } finally {
      await local.close();
    }
  });
});
