import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InfluxDB, Point, HttpError, setLogger } from '@influxdata/influxdb-client';
import { startPushServer } from '../../src/collect/push/push-server.js';
import { BackpressureError, type SamplePublisher } from '../../src/collect/sample-publisher.js';
import { STALE_NAN, isStaleMarker } from '../../src/collect/stale-marker.js';
import type { Sample } from '../../src/model/types.js';

import { remoteWriteBody } from './support/helpers.js';

class RecordingPublisher implements SamplePublisher {
  batches: Array<{ source: Record<string, string>; samples: Sample[] }> = [];
  saturated = false;
  failWith: Error | undefined;
  async publish(source: Record<string, string>, samples: Sample[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.batches.push({ source, samples });
  }
  all(): Array<Sample & { source: Record<string, string> }> {
    return this.batches.flatMap((b) => b.samples.map((s) => ({ ...s, source: b.source })));
  }
}

// The client logs refused writes to the console; the tests assert on them instead.
setLogger({ error: () => undefined, warn: () => undefined });

const TOKEN = 'secret-token';
const NOW = 1_700_000_000_000;
let server: Awaited<ReturnType<typeof startPushServer>>;
const publisher = new RecordingPublisher();

beforeAll(async () => {
  server = await startPushServer({
    publisher,
    tokens: ['other', TOKEN],
    maxBodyBytes: 64 * 1024,
    maxSeriesPerRequest: 50,
    port: 0,
    host: '127.0.0.1',
    now: () => NOW,
  });
});
afterAll(async () => server.close());
beforeEach(() => {
  publisher.batches = [];
  publisher.saturated = false;
  publisher.failWith = undefined;
});

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
}

describe('InfluxDB line protocol', () => {
  it('accepts points written by @influxdata/influxdb-client (v2, gzip) and maps fields to samples', async () => {
    const writeApi = new InfluxDB({ url: server.url, token: TOKEN }).getWriteApi('org', 'bucket', 'ms', {
      maxRetries: 0,
      gzipThreshold: 0,
      batchSize: 1000,
    });
    writeApi.writePoint(
      new Point('cpu').tag('host', 'web 1').tag('core', 'c=0,1').floatField('usage_idle', 97.5).intField('ctx', 12).booleanField('ok', true).stringField('note', 'x y').timestamp(new Date(NOW - 5000)),
    );
    writeApi.writePoint(new Point('temp').tag('pool', 'a').floatField('value', -1.5).timestamp(new Date(NOW - 1000)));
    await writeApi.close();
    const samples = publisher.all();
    expect(samples).toEqual([
      { source: { host: 'web 1' }, name: 'cpu_ctx', labels: { core: 'c=0,1' }, timestamp: NOW - 5000, value: 12, kind: 'UNKNOWN' },
      { source: { host: 'web 1' }, name: 'cpu_ok', labels: { core: 'c=0,1' }, timestamp: NOW - 5000, value: 1, kind: 'UNKNOWN' },
      { source: { host: 'web 1' }, name: 'cpu_usage_idle', labels: { core: 'c=0,1' }, timestamp: NOW - 5000, value: 97.5, kind: 'UNKNOWN' },
      { source: { pool: 'a' }, name: 'temp', labels: {}, timestamp: NOW - 1000, value: -1.5, kind: 'UNKNOWN' },
    ]);
  });

  it('handles precision, comments, escapes, missing timestamps and the v1 u/p parameters', async () => {
    const body = ['# a comment', '', 'disk_io,host=h1,dev=sd\\ a\\,b\\=c reads=5i,ratio=0.5 1700000000', '  mem,host=h1 used=3u', 'load,host=h1 x=1e3,s="a \\"q\\" b" -5'].join('\n');
    const res = await post('/write?db=x&precision=s&u=me&p=secret-token', body);
    expect(res.status).toBe(204);
    const ns = await post('/api/v2/write', 'load,host=h1 x=1e3 1700000000123456789\n', { authorization: `Token ${TOKEN}` });
    expect(ns.status).toBe(204);
    const us = await post('/api/v2/write?precision=us', 'load,host=h1 x=2 1700000000123456', { authorization: `Token ${TOKEN}` });
    expect(us.status).toBe(204);
    expect(publisher.all().map((s) => [s.source, s.name, s.labels, s.value, s.timestamp])).toEqual([
      [{ host: 'h1' }, 'disk_io_reads', { dev: 'sd a,b=c' }, 5, 1_700_000_000_000],
      [{ host: 'h1' }, 'disk_io_ratio', { dev: 'sd a,b=c' }, 0.5, 1_700_000_000_000],
      [{ host: 'h1' }, 'mem_used', {}, 3, NOW],
      [{ host: 'h1' }, 'load_x', {}, 1000, -5000],
      [{ host: 'h1' }, 'load_x', {}, 1000, 1_700_000_000_123],
      [{ host: 'h1' }, 'load_x', {}, 2, 1_700_000_000_123],
    ]);
  });

  it('rejects a body with bad lines: 400 lists each line, nothing is written', async () => {
    const body = ['ok,host=a v=1', 'bad,host=a', 'ok2,host=a v=abc', 'ok3 v=1 12x', 'disk\\ io v=1'].join('\n');
    const res = await post('/api/v2/write?org=o&bucket=b', body, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { code: string; message: string; line: number; errors: Array<{ line: number; message: string }> };
    expect(json.code).toBe('invalid');
    expect(json.line).toBe(2);
    expect(json.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(json.errors[0]!.message).toBe('missing fields: "bad,host=a"');
    expect(json.errors[1]!.message).toContain('invalid value for field "v": abc');
    expect(json.message).toMatch(/^unable to parse: 3 bad lines: line 2: missing fields/);
    expect(publisher.batches).toEqual([]);
    // Valid syntax but an invalid metric name: also a per-line 400.
    const named = await post('/write', 'ok v=1\ndisk\\ io v=1', { authorization: `Token ${TOKEN}` });
    expect(named.status).toBe(400);
    expect(await named.json()).toMatchObject({ errors: [{ line: 2, message: 'Invalid metric name: "disk io_v"' }] });
    expect(publisher.batches).toEqual([]);
    const precision = await post('/api/v2/write?precision=h', 'a v=1', { authorization: `Token ${TOKEN}` });
    expect(precision.status).toBe(400);
  });

  it('answers 401 without a token and 403 with a wrong one (v1, v2, remote_write)', async () => {
    for (const path of ['/write', '/api/v2/write', '/api/v1/write']) {
      const none = await post(path, 'a v=1');
      expect(none.status).toBe(401);
      const wrong = await post(path, 'a v=1', { authorization: 'Token nope' });
      expect(wrong.status).toBe(403);
    }
    expect((await post('/write?u=x&p=nope', 'a v=1')).status).toBe(403);
    const basic = Buffer.from(`user:${TOKEN}`).toString('base64');
    expect((await post('/write', 'a v=1', { authorization: `Basic ${basic}` })).status).toBe(204);
    const v2 = await post('/api/v2/write', 'a v=1', { authorization: 'Token nope' });
    expect(await v2.json()).toEqual({ code: 'forbidden', message: 'token not accepted' });
    const viaClient = new InfluxDB({ url: server.url, token: 'wrong' }).getWriteApi('o', 'b', 'ns', { maxRetries: 0 });
    viaClient.writeRecord('a v=1');
    const err = await viaClient.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).statusCode).toBe(403);
  });

  it('answers 413 for oversize bodies, plain or gzip-bombed, and 429 past the series limit', async () => {
    const big = 'm,host=a v=1\n'.repeat(6000);
    const res = await post('/api/v2/write', big, { authorization: `Token ${TOKEN}` });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'request too large' });
    const bomb = gzipSync(Buffer.from(big));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const gz = await post('/api/v2/write', bomb, { authorization: `Token ${TOKEN}`, 'content-encoding': 'gzip' });
    expect(gz.status).toBe(413);
    const many = Array.from({ length: 51 }, (_, i) => `m,host=h${i} v=1`).join('\n');
    const limited = await post('/api/v2/write', many, { authorization: `Token ${TOKEN}` });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const repeated = Array.from({ length: 60 }, (_, i) => `m,host=h1 v=${i} ${i}`).join('\n');
    expect((await post('/api/v2/write', repeated, { authorization: `Token ${TOKEN}` })).status).toBe(204);
    expect(publisher.all()).toHaveLength(60);
  });

  it('answers 503 with Retry-After when the publisher is saturated, writing nothing', async () => {
    publisher.saturated = true;
    const res = await post('/api/v2/write', 'a v=1', { authorization: `Token ${TOKEN}` });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    publisher.saturated = false;
    publisher.failWith = new BackpressureError('queue full', 3);
    const res2 = await post('/write', 'a v=1', { authorization: `Token ${TOKEN}` });
    expect(res2.status).toBe(503);
    expect(res2.headers.get('retry-after')).toBe('3');
    expect(await res2.json()).toEqual({ error: 'publisher saturated: queue full' });
    expect(publisher.batches).toEqual([]);
  });
});

describe('probes', () => {
  it('answers /ping and /health without a token, as InfluxDB does', async () => {
    const ping = await fetch(`${server.url}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toBeTruthy();
    const health = await fetch(`${server.url}/health`);
    expect(await health.json()).toMatchObject({ status: 'pass' });
    expect((await post('/write', 'a v=1')).status).toBe(401);
  });
});

describe('own metrics', () => {
  it('serves GET /metrics without a token, counting push requests', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/vigil_push_requests_total\{api="v2",code="204"\} \d+/);
  });
});

describe('Prometheus remote_write 1.0', () => {
  const encode = remoteWriteBody;
  const headers = {
    authorization: `Bearer ${TOKEN}`,
    'content-type': 'application/x-protobuf',
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': '0.1.0',
  };

  it('decodes series, metadata kinds and stale markers', async () => {
    const body = await encode({
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'http_requests_total' },
            { name: 'job', value: 'api' },
            { name: 'instance', value: 'h1:9090' },
            { name: 'code', value: '200' },
          ],
          samples: [
            { value: 5, timestamp: NOW - 15000 },
            { value: STALE_NAN, timestamp: NOW },
          ],
        },
        { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'api' }], samples: [{ value: 1, timestamp: NOW }] },
      ],
      metadata: [{ type: 1, metricFamilyName: 'http_requests_total', help: 'x' }],
    });
    const res = await fetch(`${server.url}/api/v1/write`, { method: 'POST', body, headers });
    expect(res.status).toBe(204);
    const samples = publisher.all();
    expect(samples.map((s) => [s.source, s.name, s.labels, s.timestamp, s.kind])).toEqual([
      [{ job: 'api', instance: 'h1:9090' }, 'http_requests_total', { code: '200' }, NOW - 15000, 'COUNTER'],
      [{ job: 'api', instance: 'h1:9090' }, 'http_requests_total', { code: '200' }, NOW, 'COUNTER'],
      [{ job: 'api' }, 'up', {}, NOW, 'UNKNOWN'],
    ]);
    expect(samples[0]!.value).toBe(5);
    expect(isStaleMarker(samples[1]!.value)).toBe(true);
  });

  it('rejects bad snappy, bad protobuf, series without a name and oversize bodies', async () => {
    const garbage = await fetch(`${server.url}/api/v1/write`, { method: 'POST', body: Buffer.from([0x05, 1, 2]), headers });
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/^invalid snappy block/);
    const noName = await encode({ timeseries: [{ labels: [{ name: 'job', value: 'x' }], samples: [{ value: 1, timestamp: NOW }] }] });
    const res = await fetch(`${server.url}/api/v1/write`, { method: 'POST', body: noName, headers });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('line 1: time series without a __name__ label');
    const huge = await encode({
      timeseries: [{ labels: [{ name: '__name__', value: 'a' }, { name: 'x', value: 'y'.repeat(100_000) }], samples: [{ value: 1, timestamp: 1 }] }],
    });
    expect(huge.length).toBeLessThan(64 * 1024);
    const tooBig = await fetch(`${server.url}/api/v1/write`, { method: 'POST', body: huge, headers });
    expect(tooBig.status).toBe(413);
    expect(publisher.batches).toEqual([]);
  });
});
