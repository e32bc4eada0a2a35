/**
 * The archive writer end to end: Avro records on the embedded Kafka -> its own consumer group ->
 * Parquet objects in S3 (s3rver) -> read back by DuckDB, equal to what was published; offsets
 * committed only up to what is durable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { rollupBatchSerde, sampleBatchSerde } from '../../../src/model/serde.js';
import type { RollupBatch, SampleBatch } from '../../../src/model/types.js';
import { startArchiver } from '../../../src/sinks/archive/archive-writer.js';
import { S3Store } from '../../../src/sinks/archive/storage/s3-store.js';
import { useStack } from '../../support/stack.js';
import { readBack } from '../../sinks/archive/archive-fixtures.js';
import { startS3, type TestS3 } from './s3rver-helper.js';

const stack = useStack({ partitions: 2 });
let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});

const T0 = Date.UTC(2026, 10, 25, 10, 0);

function sampleBatches(): { key: string; value: SampleBatch }[] {
  const out: { key: string; value: SampleBatch }[] = [];
  for (let tick = 0; tick < 30; tick++) {
    for (const host of ['h1', 'h2', 'h3']) {
      out.push({
        key: `pool=p1,host=${host}`,
        value: {
          source: { pool: 'p1', host },
          samples: [
            { name: 'cpu.load', labels: {}, timestamp: T0 + tick * 10_000, value: tick / 7 + host.length, kind: 'GAUGE' },
            { name: 'http.requests', labels: { code: '200' }, timestamp: T0 + tick * 10_000, value: tick * 13, kind: 'COUNTER' },
          ],
        },
      });
    }
  }
  return out;
}

describe('archive writer on Kafka', () => {
  it('archives raw samples and rollups to S3 and commits what is durable', async () => {
    const config = stack.config;
    const kafka = createKafka(stack.brokers, 'archive-test');
    const producer = kafka.producer();
    await producer.connect();
    const samples = sampleBatchSerde({ registry: stack.registryUrl });
    const rollups = rollupBatchSerde({ registry: stack.registryUrl });
    const batches = sampleBatches();
    await producer.send({
      topic: config.topics.metrics,
      messages: await Promise.all(batches.map(async (b) => ({ key: b.key, value: await samples.encode(config.topics.metrics, b.value) }))),
    });
    const rollup: RollupBatch = {
      resolution_ms: 60_000,
      rollups: [
        { name: 'cpu.load', labels: { host: 'h1', pool: 'p1' }, start: T0, count: 6, sum: 3, min: 0, max: 1, first: 0, last: 1, increase: null },
        { name: 'http.requests', labels: { code: '200', host: 'h1', pool: 'p1' }, start: T0, count: 6, sum: 390, min: 0, max: 65, first: 0, last: 65, increase: 65 },
      ],
    };
    await producer.send({ topic: config.topics.rollup1m, messages: [{ key: 'pool=p1,host=h1', value: await rollups.encode(config.topics.rollup1m, rollup) }] });
    await producer.send({ topic: config.topics.rollup1m, messages: [{ key: 'pool=p1,host=h1', value: Buffer.from('not avro') }] });
    await producer.disconnect();

    const store = new S3Store({ url: `s3://${s3.bucket}/vigil`, endpoint: s3.endpoint, client: s3.client });
    const groupId = `${config.kafka.clientId}-archive-test`;
    const archiver = await startArchiver(config, { kafka, store, groupId, tickMs: 200 });
    // Wait until every record was consumed (buffered), then write everything.
    const admin = kafka.admin();
    await admin.connect();
    const deadline = Date.now() + 30_000;
    let objects = await store.list('');
    while (Date.now() < deadline) {
      await archiver.flushAll();
      objects = await store.list('');
      const rows = objects.length ? await countRows(store) : 0;
      if (rows === batches.length * 2 + 2) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    await archiver.stop();

    expect(objects.every((o) => /^resolution=(raw|1m)\/date=2026-11-25\/hour=10\/part-\d-\d+-\d+\.parquet$/.test(o.key))).toBe(true);
    const local = await download(store);
    const raw = await readBack(
      `SELECT name, labels['host'] AS host, epoch_ms("timestamp")::DOUBLE AS ts, value FROM read_parquet('${local}/resolution=raw/**/*.parquet', hive_partitioning = true) ORDER BY ALL`,
    );
    const expected = batches
      .flatMap((b) => b.value.samples.map((s) => ({ name: s.name, host: b.value.source.host!, ts: s.timestamp, value: s.value })))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.host < b.host ? -1 : a.host > b.host ? 1 : a.ts - b.ts));
    expect(raw).toEqual(expected);
    const got1m = await readBack(`SELECT name, "increase", "count" FROM read_parquet('${local}/resolution=1m/**/*.parquet') ORDER BY name`);
    expect(got1m).toEqual([
      { name: 'cpu.load', increase: null, count: 6n },
      { name: 'http.requests', increase: 65, count: 6n },
    ]);

    // Committed offsets reach the end of each partition (the bad rollup record included: counted, not blocking).
    for (const topic of [config.topics.metrics, config.topics.rollup1m]) {
      const ends = await admin.fetchTopicOffsets(topic);
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of committed[0]!.partitions) {
        const end = ends.find((e) => e.partition === p.partition)!.offset;
        // An empty partition has nothing to commit (-1).
        expect(p.offset).toBe(end === '0' ? '-1' : end);
      }
    }
    await admin.disconnect();
    await store.close();
    await rm(local, { recursive: true, force: true });
  });
});

async function download(store: S3Store): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-s3-dl-'));
  for (const o of await store.list('')) await store.getFile(o.key, join(dir, o.key));
  return dir;
}

async function countRows(store: S3Store): Promise<number> {
  const dir = await download(store);
  const r = await readBack(`SELECT count(*)::INTEGER AS n FROM read_parquet('${dir}/**/*.parquet')`);
  await rm(dir, { recursive: true, force: true });
  return r[0]!.n as number;
}
