import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { Counter, Registry } from 'prom-client';
import { createKafka, embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import type { SampleBatch } from '../../../src/model/types.js';
import { spawnVigil, type Child } from '../../support/child-process.js';
import { stackEnv, useStack } from '../../support/stack.js';
import { remoteWriteBody, startServer, waitFor, type TestServer } from '../../collect/support/helpers.js';

const stack = useStack({ partitions: 2 });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('vigil collect (process) end to end through Kafka', () => {
  it('publishes scraped and pushed samples to the metrics topic, decodable and equal', async () => {
    const register = new Registry();
    new Counter({ name: 'orders_total', help: 'orders', labelNames: ['shop'], registers: [register] }).inc({ shop: 'north' }, 5);
    const exporter: TestServer = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': register.contentType });
      res.end(await register.metrics());
    });
    cleanups.push(() => exporter.close());
    const dir = mkdtempSync(join(tmpdir(), 'vigil-collect-cli-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sd = join(dir, 'targets.yml');
    writeFileSync(sd, `- targets: ["${exporter.address}"]\n  labels:\n    pool: p1\n`);
    const port = await freePort();

    const child: Child = spawnVigil(['collect', '--file-sd', sd, '--job', 'shop', '--interval', '1s', '--status-interval', '1s'], {
      ...stackEnv(stack, dir),
      VIGIL_PUSH_TOKENS: 'tok-1,tok-2',
      VIGIL_HTTP_PORT: String(port),
      VIGIL_LOG_LEVEL: 'warn',
    });
    cleanups.push(() => child.stop('SIGKILL'));
    await waitFor(() => /running as .*push endpoint on/.test(child.stderr()), 60_000, `collect to start; stderr: ${child.stderr()}`);

    const pushedAt = Date.now() - 1000;
    const writeApi = new InfluxDB({ url: `http://127.0.0.1:${port}`, token: 'tok-2' }).getWriteApi('org', 'bucket', 'ms', { maxRetries: 0 });
    writeApi.writePoint(new Point('cpu').tag('host', 'web1').tag('core', '0').floatField('usage', 42.25).timestamp(new Date(pushedAt)));
    await writeApi.close();
    const body = await remoteWriteBody({
      timeseries: [{ labels: [{ name: '__name__', value: 'rw_metric' }, { name: 'job', value: 'agent' }], samples: [{ value: 7, timestamp: pushedAt }] }],
    });
    const rw = await fetch(`http://127.0.0.1:${port}/api/v1/write`, {
      method: 'POST',
      body,
      headers: { authorization: 'Bearer tok-1', 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' },
    });
    expect(rw.status).toBe(204);

    const serde = sampleBatchSerde({ registry: stack.registryUrl });
    const consumer = createKafka(stack.brokers, 'collect-e2e-reader').consumer({ groupId: `${stack.config.kafka.clientId}-reader`, ...embeddedConsumerDefaults });
    cleanups.push(() => consumer.disconnect());
    const batches: Array<{ key: string; value: SampleBatch }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic: stack.config.topics.metrics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        batches.push({ key: message.key!.toString(), value: (await serde.decode(message.value)) as SampleBatch });
      },
    });
    const pushed = await waitFor(() => batches.find((b) => b.value.samples.some((s) => s.name === 'cpu_usage')), 30_000, 'the pushed sample');
    expect(pushed).toEqual({
      key: 'host=web1',
      value: { source: { host: 'web1' }, samples: [{ name: 'cpu_usage', labels: { core: '0' }, timestamp: pushedAt, value: 42.25, kind: 'UNKNOWN' }] },
    });
    const remote = await waitFor(() => batches.find((b) => b.value.samples.some((s) => s.name === 'rw_metric')), 30_000, 'the remote_write sample');
    expect(remote.value).toEqual({ source: { job: 'agent' }, samples: [{ name: 'rw_metric', labels: {}, timestamp: pushedAt, value: 7, kind: 'UNKNOWN' }] });
    const scraped = await waitFor(() => batches.find((b) => b.value.samples.some((s) => s.name === 'orders_total')), 30_000, 'a scrape');
    expect(scraped.key).toBe(`instance=${exporter.address},job=shop,pool=p1`);
    expect(scraped.value.source).toEqual({ instance: exporter.address, job: 'shop', pool: 'p1' });
    expect(scraped.value.samples.find((s) => s.name === 'orders_total')).toMatchObject({ labels: { shop: 'north' }, value: 5, kind: 'COUNTER' });
    expect(scraped.value.samples.find((s) => s.name === 'up')).toMatchObject({ value: 1, kind: 'GAUGE' });

    await waitFor(() => /targets=1 owned=1 members=1 up=1/.test(child.stderr()), 10_000, 'a status line');
    expect(await child.stop('SIGTERM')).toBe(0);
  });
});

describe('vigil collect push port', () => {
  it('exits 1 with a clear message when VIGIL_HTTP_PORT is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawnVigil(['collect', '--no-shard'], {
        ...stackEnv(stack, mkdtempSync(join(tmpdir(), 'vigil-collect-port-'))),
        VIGIL_PUSH_TOKENS: 't',
        VIGIL_HTTP_PORT: String(port),
        VIGIL_LOG_LEVEL: 'silent',
      });
      await child.stop('SIGCONT', 60_000);
      expect(child.stderr()).toContain(`vigil: cannot serve the push endpoint: port ${port} is in use`);
      expect(child.proc.exitCode).toBe(1);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
