/**
 * Kafka-side helpers for the archive's integration tests: publish known SampleBatch records, and count
 * what a consumer group has committed (the rows of the records below its committed offsets), to
 * compare with the rows found in the archive's files.
 */
import type { Kafka } from 'kafkajs';
import { embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { rollupBatchSerde, sampleBatchSerde } from '../../../src/model/serde.js';
import type { SampleBatch } from '../../../src/model/types.js';
import { readBack } from '../../sinks/archive/archive-fixtures.js';

/** `hosts` x `ticks` records of `metrics` samples each, one record per host per 10 s tick from `t0`. */
export function sampleRecords(t0: number, hosts: number, ticks: number, metrics: number): { key: string; value: SampleBatch }[] {
  const out: { key: string; value: SampleBatch }[] = [];
  for (let tick = 0; tick < ticks; tick++) {
    for (let h = 0; h < hosts; h++) {
      const host = `h${String(h).padStart(3, '0')}`;
      const samples = Array.from({ length: metrics }, (_, m) => ({
        name: m % 2 === 0 ? `test.gauge_${m}` : `test.counter_${m}`,
        labels: {},
        timestamp: t0 + tick * 10_000 + h,
        value: m % 2 === 0 ? Math.round((50 + 40 * Math.sin(tick / 7 + h + m)) * 100) / 100 : tick * (m + 1) + h,
        kind: m % 2 === 0 ? ('GAUGE' as const) : ('COUNTER' as const),
      }));
      out.push({ key: `pool=p1,host=${host}`, value: { source: { pool: 'p1', host }, samples } });
    }
  }
  return out;
}

/** Publishes SampleBatch records to `topic` in chunks. */
export async function publishSamples(kafka: Kafka, registryUrl: string, topic: string, records: { key: string; value: SampleBatch }[]): Promise<void> {
  const serde = sampleBatchSerde({ registry: registryUrl });
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 200) {
      const chunk = records.slice(i, i + 200);
      await producer.send({ topic, messages: await Promise.all(chunk.map(async (r) => ({ key: r.key, value: await serde.encode(topic, r.value) }))) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Per partition, the offset `groupId` committed on `topic` (partitions with no commit are left out). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(committed!.partitions.filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** Per partition, the end offset of `topic`. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Rows (samples of SampleBatch records, rollups of RollupBatch records) in the records of `topic` below
 * `before` (partition -> offset), read from the beginning with a consumer group of its own.
 */
export async function rowsBelow(kafka: Kafka, registryUrl: string, topic: string, kind: 'samples' | 'rollups', before: Map<number, number>): Promise<number> {
  const wanted = [...before].filter(([, offset]) => offset > 0);
  if (wanted.length === 0) return 0;
  const samples = sampleBatchSerde({ registry: registryUrl });
  const rollups = rollupBatchSerde({ registry: registryUrl });
  const consumer = kafka.consumer({ groupId: `count-${topic}-${Date.now()}-${Math.random()}`, ...embeddedConsumerDefaults });
  const next = new Map<number, number>();
  let rows = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const limit = before.get(batch.partition) ?? 0;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset >= limit) break;
          rows += kind === 'samples' ? (await samples.decode(m.value)).samples.length : (await rollups.decode(m.value)).rollups.length;
          next.set(batch.partition, offset + 1);
        }
        if (wanted.every(([p, offset]) => (next.get(p) ?? 0) >= offset)) done();
      },
    });
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out reading ${topic}`)), 60_000))]);
  } finally {
    await consumer.disconnect();
  }
  return rows;
}

/** Rows of one resolution in a local archive, and how many distinct (series, time) they hold. */
export async function archiveRows(root: string, resolution: 'raw' | '1m' | '1h'): Promise<{ n: number; distinct: number }> {
  const time = resolution === 'raw' ? '"timestamp"' : '"start"';
  try {
    const r = await readBack(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT (series_id, ${time}))::INTEGER AS distinct FROM read_parquet('${root}/resolution=${resolution}/**/*.parquet')`,
    );
    return r[0] as { n: number; distinct: number };
  } catch (err) {
    if (/No files found/i.test((err as Error).message)) return { n: 0, distinct: 0 };
    throw err;
  }
}
