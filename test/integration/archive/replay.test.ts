/**
 * The archive writer on Kafka is idempotent for replays (issue 13, defect 2), with an S3 archive
 * (s3rver): the engine's replay of rollup records at new offsets (same `vigil.id`, same content), and
 * the archive's own re-reading of records whose files were stored but whose offsets were never
 * committed, leave the rows of a run without any replay.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../../src/kafka/client.js';
import { rollupBatchSerde } from '../../../src/model/serde.js';
import type { Rollup } from '../../../src/model/types.js';
import { startArchiver } from '../../../src/sinks/archive/archive-writer.js';
import { S3Store } from '../../../src/sinks/archive/storage/s3-store.js';
import { useStack } from '../../support/stack.js';
import { readBack } from '../../sinks/archive/archive-fixtures.js';
import { rollupRecords } from '../../sinks/archive/sink-fixtures.js';
import { committedOffsets, endOffsets, publishSamples, sampleRecords } from './archive-kafka-fixtures.js';
import { useS3 } from './s3rver-helper.js';

const stack = useStack({ partitions: 2 });
const s3 = useS3();

const T0 = Date.UTC(2026, 10, 25, 10, 40);

/** Publishes rollup records as the engine does: keyed by host, with the engine's deterministic `vigil.id`. */
async function publishRollups(kafka: Kafka, records: Rollup[][]): Promise<void> {
  const topic = stack.config.topics.rollup1m;
  const serde = rollupBatchSerde({ registry: stack.registryUrl });
  const producer = kafka.producer();
  await producer.connect();
  const messages = await Promise.all(
    records.map(async (rollups) => {
      const host = rollups[0]!.labels.host!;
      return {
        key: `host=${host}`,
        value: await serde.encode(topic, { resolution_ms: 60_000, rollups }),
        headers: { 'vigil.id': `rollup/60000/${rollups[0]!.start}/host=${host}/0` },
      };
    }),
  );
  await producer.send({ topic, messages });
  await producer.disconnect();
}

/** Runs an archiver until everything on the topics is in files with its offsets committed, then stops it. */
async function archiveEverything(kafka: Kafka, store: S3Store, groupId: string): Promise<void> {
  const archiver = await startArchiver(stack.config, { kafka, store, groupId, tickMs: 200 });
  const t = stack.config.topics;
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      await archiver.flushAll();
      let done = true;
      for (const topic of [t.metrics, t.rollup1m]) {
        const ends = await endOffsets(kafka, topic);
        const committed = await committedOffsets(kafka, groupId, topic);
        for (const [p, end] of ends) if (end > 0 && committed.get(p) !== end) done = false;
      }
      if (done) break;
      if (Date.now() > deadline) throw new Error('timed out waiting for the archiver to commit everything');
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await archiver.stop();
  }
}

async function rows(store: S3Store): Promise<{ raw: Record<string, unknown>[]; m1: Record<string, unknown>[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-s3-replay-'));
  try {
    for (const o of await store.list('')) await store.getFile(o.key, join(dir, o.key));
    const raw = await readBack(`SELECT name, labels['host'] AS host, epoch_ms("timestamp")::DOUBLE AS ts, value FROM read_parquet('${dir}/resolution=raw/**/*.parquet') ORDER BY ALL`);
    const m1 = await readBack(
      `SELECT name, labels['host'] AS host, epoch_ms("start")::DOUBLE AS start, "count", "sum", "min", "max", "first", "last", "increase" FROM read_parquet('${dir}/resolution=1m/**/*.parquet') ORDER BY ALL`,
    );
    return { raw, m1 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('archive writer replays on Kafka', () => {
  it('rollups replayed at new offsets and records re-read after lost commits leave the rows of a run without replay', async () => {
    const kafka = createKafka(stack.brokers, 'archive-replay-test');
    const store = new S3Store({ url: `s3://${s3().bucket}/replay`, endpoint: s3().endpoint, client: s3().client });
    const rollups = rollupRecords(40, 3, 4, T0); // 10:40 .. 11:19, 120 records, 480 rows
    const samples = sampleRecords(T0, 4, 30, 5); // 600 samples
    await publishSamples(kafka, stack.registryUrl, stack.config.topics.metrics, samples);
    await publishRollups(kafka, rollups.slice(0, 70));
    await archiveEverything(kafka, store, `${stack.config.kafka.clientId}-archive-1`);
    const before = await rows(store);
    expect(before.raw.length).toBe(600);
    expect(before.m1.length).toBe(280);

    // The engine crashed and re-sends its last commit's records, then goes on. And the archive
    // "crashed" after storing its files but before any commit: a group with no commits re-reads
    // every record from offset 0.
    await publishRollups(kafka, [...rollups.slice(55, 70), ...rollups.slice(70)]);
    await archiveEverything(kafka, store, `${stack.config.kafka.clientId}-archive-2`);

    const after = await rows(store);
    expect(after.raw).toEqual(before.raw);
    const expected = rollups.flat().map((r) => ({ name: r.name, host: r.labels.host, start: r.start, count: BigInt(r.count), sum: r.sum, min: r.min, max: r.max, first: r.first, last: r.last, increase: r.increase }));
    const order = (a: Record<string, unknown>, b: Record<string, unknown>) => JSON.stringify([a.name, a.host, a.start]).localeCompare(JSON.stringify([b.name, b.host, b.start]));
    expect([...after.m1].sort(order)).toEqual(expected.sort(order));
    await store.close();
  });
});
