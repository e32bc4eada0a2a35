import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeriesTable } from '../../src/model/decoded-batch.js';
import { KIND_COUNTER } from '../../src/model/types.js';
import { Head } from '../../src/query/head.js';
import { registerQueryRoutes } from '../../src/query/query-routes.js';
import { STALE_NAN } from '../../src/collect/stale-marker.js';
import { decodedBatchOf } from '../support/decoded-batch.js';

// Ten minutes of a counter and a gauge for two instances, every 15 s, plus a dotted Vigil metric.
const T0 = Date.UTC(2026, 0, 1, 12);
const N = 40;
const at = (i: number) => T0 + i * 15_000;

let app: FastifyInstance;

beforeAll(async () => {
  const head = new Head();
  const table = new SeriesTable();
  for (const instance of ['a', 'b']) {
    const k = instance === 'a' ? 1 : 2;
    head.append(decodedBatchOf(table, [
      { name: 'http_requests_total', labels: { job: 'api', instance }, samples: Array.from({ length: N }, (_, i) => [at(i), i * 10 * k]), kind: KIND_COUNTER },
      { name: 'temperature', labels: { job: 'api', instance }, samples: Array.from({ length: N }, (_, i): [number, number] => [at(i), 20 + k]) },
      { name: 'cpu.load', labels: { pool: 'p', instance }, samples: Array.from({ length: N }, (_, i): [number, number] => [at(i), k]) },
    ]));
  }
  // A series that ended with a stale marker at i = 20.
  head.append(decodedBatchOf(table, [{ name: 'gone', labels: { job: 'api' }, samples: [[at(19), 5], [at(20), STALE_NAN]] }]));
  app = Fastify();
  await registerQueryRoutes(app, { source: head, now: () => at(N - 1), limits: { maxSeries: 5, maxSamples: 100_000 }, metadata: () => head.metricTypes() });
  await app.ready();
});

afterAll(() => app.close());

const get = async (url: string, query: Record<string, string | string[]>) => {
  const res = await app.inject({ method: 'GET', url, query });
  return { status: res.statusCode, body: res.json() };
};
const postForm = async (url: string, form: string) => {
  const res = await app.inject({ method: 'POST', url, payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.statusCode, body: res.json() };
};
const s = (ms: number) => String(ms / 1000);

describe('PromQL on /api/v1/query and /api/v1/query_range', () => {
  it('answers an instant query by GET and by a form POST (what Grafana and promtool send) with the same vector', async () => {
    const query = 'sum by (job) (rate(http_requests_total[1m]))';
    const byGet = await get('/api/v1/query', { query, time: s(at(30)) });
    const byPost = await postForm('/api/v1/query', `query=${encodeURIComponent(query)}&time=${s(at(30))}`);
    expect(byGet.status).toBe(200);
    expect(byPost.body).toEqual(byGet.body);
    expect(byGet.body.data.resultType).toBe('vector');
    // 10/15 s and 20/15 s per instance: 2 per second.
    expect(byGet.body.data.result).toEqual([{ metric: { job: 'api' }, value: [at(30) / 1000, '2'] }]);
  });

  it('answers 1+1 (Grafana\'s "Save & test") as a scalar', async () => {
    const r = await get('/api/v1/query', { query: '1+1', time: '100' });
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [100, '2'] } });
  });

  it('answers a range query as a matrix sorted by labels, values as Prometheus strings', async () => {
    const r = await postForm('/api/v1/query_range', new URLSearchParams({ query: 'temperature', start: s(at(10)), end: s(at(12)), step: '15' }).toString());
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({
      resultType: 'matrix',
      result: [
        { metric: { __name__: 'temperature', instance: 'a', job: 'api' }, values: [10, 11, 12].map((i) => [at(i) / 1000, '21']) },
        { metric: { __name__: 'temperature', instance: 'b', job: 'api' }, values: [10, 11, 12].map((i) => [at(i) / 1000, '22']) },
      ],
    });
  });

  it('ends a series at its stale marker instead of looking back 5 minutes', async () => {
    expect((await get('/api/v1/query', { query: 'gone', time: s(at(19)) })).body.data.result).toHaveLength(1);
    expect((await get('/api/v1/query', { query: 'gone', time: s(at(21)) })).body.data.result).toEqual([]);
  });

  it('reads Vigil metric names with dots as {__name__="..."} or quoted', async () => {
    const a = await get('/api/v1/query', { query: 'sum({__name__="cpu.load"})', time: s(at(5)) });
    const b = await get('/api/v1/query', { query: 'sum({"cpu.load", pool="p"})', time: s(at(5)) });
    expect(a.body.data.result).toEqual([{ metric: {}, value: [at(5) / 1000, '3'] }]);
    expect(b.body.data).toEqual(a.body.data);
  });

  it('answers Vigil-language queries with lang=vigil, and ones PromQL cannot parse with a warning', async () => {
    const forced = await get('/api/v1/query_range', { query: 'avg(temperature) by (job)', lang: 'vigil', start: s(at(4)), end: s(at(8)), step: '60' });
    expect(forced.status).toBe(200);
    expect(forced.body.vigil.resolution).toBe('1m');
    const fallback = await get('/api/v1/query_range', { query: 'avg(cpu.load) by (pool)', start: s(at(4)), end: s(at(8)), step: '60' });
    expect(fallback.status).toBe(200);
    expect(fallback.body.warnings[0]).toMatch(/evaluated in the Vigil rules language/);
    expect(fallback.body.data.result[0].values[0][1]).toBe('1.5');
    const refused = await get('/api/v1/query_range', { query: 'avg(cpu.load) by (pool)', lang: 'promql', start: s(at(4)), end: s(at(8)), step: '60' });
    expect(refused.status).toBe(400);
  });

  it('gives Prometheus error bodies: 400 bad_data with the position, 422 execution past limits or unsupported', async () => {
    const bad = await get('/api/v1/query', { query: 'rate(http_requests_total[5m]', time: '100' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(bad.body.error).toMatch(/^1:29: parse error: unexpected end of input$/);
    expect(bad.body.position).toBe(28);
    const type = await get('/api/v1/query', { query: 'rate(http_requests_total)', time: '100' });
    expect(type.body.error).toBe('1:6: parse error: expected type range vector in call to function "rate", got instant vector');
    const range = await get('/api/v1/query_range', { query: 'http_requests_total[5m]', start: '0', end: '100', step: '10' });
    expect(range.body.error).toMatch(/invalid expression type "range vector" for range query/);
    const unsupported = await get('/api/v1/query', { query: 'limitk(1, temperature)', time: '100' });
    expect(unsupported.status).toBe(422);
    expect(unsupported.body.errorType).toBe('execution');
    expect(unsupported.body.error).toMatch(/not supported: aggregation "limitk"/);
    const series = await get('/api/v1/query', { query: '{instance=~"a|b"}', time: s(at(10)) });
    expect(series.status).toBe(422);
    expect(series.body.error).toMatch(/more than 5 series \(query.maxSeries\)/);
    const held = await get('/api/v1/query_range', { query: 'temperature * 2 + temperature * 3', start: s(at(0)), end: s(at(N - 1)), step: '0.06' });
    expect(held.status).toBe(422);
    expect(held.body.error).toMatch(/query processing would load too many samples into memory in query execution \(more than 100000, query.maxSamples\)/);
    const tooMany = await get('/api/v1/query_range', { query: 'sum(temperature)', start: s(at(0)), end: s(at(N - 1)), step: '0.001' });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatch(/exceeded maximum resolution of 11000 points/);
  });

  it('stops at the timeout with 503 errorType timeout', async () => {
    const r = await get('/api/v1/query_range', { query: 'quantile_over_time(0.5, temperature[10m])', start: s(at(0)), end: s(at(N - 1)), step: '0.06', timeout: '1ms' });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'error', errorType: 'timeout' });
  });
});

describe('series, labels, label values, metadata, exemplars, buildinfo', () => {
  it('lists series of match[] selectors (repeated form keys) in [start, end]', async () => {
    const form = `match[]=${encodeURIComponent('temperature{instance="a"}')}&match[]=gone&start=${s(at(0))}&end=${s(at(N))}`;
    const r = await postForm('/api/v1/series', form);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual(expect.arrayContaining([{ __name__: 'temperature', job: 'api', instance: 'a' }, { __name__: 'gone', job: 'api' }]));
    expect(r.body.data).toHaveLength(2);
    const vigil = await get('/api/v1/series', { 'match[]': 'cpu.load{instance="b"}', start: s(at(0)), end: s(at(N)) });
    expect(vigil.body.data).toEqual([{ __name__: 'cpu.load', pool: 'p', instance: 'b' }]);
    expect((await get('/api/v1/series', {})).body).toMatchObject({ status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
  });

  it('lists label names and values, optionally of match[]', async () => {
    const window = { start: s(at(0)), end: s(at(N)) };
    expect((await get('/api/v1/labels', window)).body.data).toEqual(['__name__', 'instance', 'job', 'pool']);
    expect((await get('/api/v1/labels', { ...window, 'match[]': 'gone' })).body.data).toEqual(['__name__', 'job']);
    expect((await get('/api/v1/label/__name__/values', window)).body.data).toEqual(['cpu.load', 'gone', 'http_requests_total', 'temperature']);
    expect((await get('/api/v1/label/instance/values', { ...window, 'match[]': 'temperature' })).body.data).toEqual(['a', 'b']);
    expect((await get('/api/v1/label/bad-name/values', window)).status).toBe(400);
  });

  it('answers metadata, query_exemplars (none) and buildinfo in Prometheus shapes', async () => {
    const meta = (await get('/api/v1/metadata', {})).body;
    expect(meta.data.http_requests_total).toEqual([{ type: 'counter', help: '', unit: '' }]);
    expect((await get('/api/v1/query_exemplars', { query: 'temperature', start: '0', end: '1' })).body).toEqual({ status: 'success', data: [] });
    const build = (await get('/api/v1/status/buildinfo', {})).body;
    expect(build.data.version).toBe('2.42.0');
    expect((await get('/api/v1/rules', {})).body).toEqual({ status: 'success', data: { groups: [] }, vigil: { errors: [], lastReload: null } });
    expect((await get('/api/v1/alerts', {})).body).toEqual({ status: 'success', data: { alerts: [] } });
  });
});
