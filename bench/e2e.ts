/**
 * `npm run bench -- e2e [--samples 3000000] [--partitions 8] [--commit-interval-ms 1000] [--kafka broker|mock]`
 *
 * On a real Apache Kafka broker (a temporary one started here; `--kafka mock` for librdkafka's mock):
 * SampleBatch records (100 samples each) are published to `metrics`, then consumed from the same topic
 * (a) by a bare kafkajs consumer group that decodes them with avsc and commits its offsets (the baseline),
 * (b) by Vigil's engine running the 1m rollup topology (decode, windows, LevelDB commits, changelog and
 * rollup sends, offset commits). Each side is timed from its first record consumed until ITS GROUP'S
 * COMMITTED OFFSETS cover the whole input (read back from the broker), so the engine's commit work is
 * inside the clock. Last line JSON: samples_per_s (Vigil), baseline_per_s, ratio, and the commit interval.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { configSchema } from '../src/config/config.js';
import { startStack } from '../src/dev/stack.js';
import { createKafka, embeddedConsumerDefaults } from '../src/kafka/client.js';
import { avroTypes } from '../src/model/avro-schemas.js';
import { sampleBatchSerde } from '../src/model/serde.js';
import type { SampleBatch } from '../src/model/types.js';
import { Engine } from '../src/engine/engine.js';
import { rollupModule } from '../src/engine/rollup-module.js';
import { arg } from './support/harness.js';

const SAMPLES = Number(arg('samples', '3000000'));
const PARTITIONS = Number(arg('partitions', '8'));
const COMMIT_INTERVAL_MS = Number(arg('commit-interval-ms', '1000'));
const KIND = arg('kafka', 'broker') as 'broker' | 'mock';
const PER_SOURCE = 100;
const SOURCES = 1000; // 100k series
const RECORDS = Math.ceil(SAMPLES / PER_SOURCE);
const T0 = 1_700_000_000_000;

/** Resolves with the time at which `groupId`'s committed offsets on `topic` reach `ends` (polled every 20 ms). */
async function committedThrough(kafka: Kafka, groupId: string, topic: string, ends: Map<number, string>): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      if (t && t.partitions.every((p) => BigInt(p.offset) >= BigInt(ends.get(p.partition) ?? '0'))) return performance.now();
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await admin.disconnect();
  }
}

const base = configSchema.parse({ kafka: { partitions: PARTITIONS, embedded: KIND } });
const stateDir = mkdtempSync(join(tmpdir(), 'vigil-bench-e2e-'));
const stack = await startStack({ partitions: PARTITIONS, kafkaDataDir: null, config: { ...base, kafka: { ...base.kafka, brokers: undefined }, schemaRegistry: { ...base.schemaRegistry, url: undefined }, state: { dir: stateDir } } });
const kafka = createKafka(stack.brokers, 'bench-e2e');
let result: object | undefined;
try {
  const topic = base.topics.metrics;
  const serde = sampleBatchSerde({ registry: stack.registryUrl });
  const id = await serde.schemaId(topic);
  const producer = kafka.producer({ idempotent: KIND === 'broker' });
  await producer.connect();
  let bytes = 0;
  for (let r = 0; r < RECORDS; r += 500) {
    const messages = [];
    for (let k = r; k < Math.min(RECORDS, r + 500); k++) {
      const s = k % SOURCES;
      const t = T0 + Math.floor(k / SOURCES) * 10_000;
      const samples = [];
      for (let m = 0; m < PER_SOURCE; m++) samples.push({ name: `metric_${m % 20}`, labels: { idx: String(m) }, timestamp: t, value: m + k, kind: 'GAUGE' as const });
      const batch: SampleBatch = { source: { host: `h${s}` }, samples };
      const value = serde.encodeWithId(id, batch);
      bytes += value.length;
      messages.push({ key: `host=h${s}`, value, partition: s % PARTITIONS });
    }
    await producer.send({ topic, messages, acks: -1 });
  }
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
  await admin.disconnect();
  console.log(`published ${RECORDS} records (${SAMPLES} samples, ${(bytes / 2 ** 20).toFixed(1)} MiB) to ${PARTITIONS} partitions of a ${KIND === 'broker' ? 'real Kafka broker' : 'librdkafka mock'}`);

  // (a) baseline: a bare kafkajs group consuming + decoding with avsc, committing after each batch (kafkajs's default)
  const type = avroTypes().sampleBatch;
  let samples = 0;
  let first = 0;
  const consumer = kafka.consumer({ groupId: 'bench-e2e-baseline', ...(KIND === 'mock' ? embeddedConsumerDefaults : {}) });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const baselineDone = committedThrough(kafka, 'bench-e2e-baseline', topic, ends);
  void consumer.run({
    eachBatch: async ({ batch }) => {
      if (!first) first = performance.now();
      for (const m of batch.messages) samples += (type.fromBuffer(m.value!.subarray(5)) as SampleBatch).samples.length;
    },
  });
  const last = await baselineDone;
  await consumer.disconnect();
  const baseline = samples / ((last - first) / 1000);
  console.log(`baseline kafkajs consume + avsc decode, until committed: ${Math.round(last - first)} ms, ${Math.round(baseline)} samples/s`);

  // (b) Vigil's rollup topology through the engine, until its committed offsets cover the input
  const engine = new Engine({ config: stack.config, modules: [rollupModule({ hourly: false })], embedded: KIND === 'mock', httpPort: null, commitIntervalMs: COMMIT_INTERVAL_MS });
  const app = `${base.kafka.clientId}-rollup-1m`;
  const vigilDone = committedThrough(kafka, app, topic, ends);
  await engine.start();
  const runtime = engine.runtime(app)!;
  while (runtime.processed === 0) await new Promise((r) => setTimeout(r, 2));
  const vFirst = performance.now();
  const vLast = await vigilDone;
  console.log(`vigil: ${Math.round(vLast - vFirst)} ms until committed, ${Math.round(runtime.busyMs)} ms processing, ${Math.round(runtime.commitWaitMs)} ms waiting for commit IO`);
  await engine.stop();
  const vigil = (RECORDS * PER_SOURCE) / ((vLast - vFirst) / 1000);
  console.log(`vigil engine (rollup 1m, commits every ${COMMIT_INTERVAL_MS} ms): ${Math.round(vigil)} samples/s`);
  result = {
    bench: 'e2e',
    samples_per_s: Math.round(vigil),
    baseline: 'kafkajs consume + avsc decode (committed)',
    baseline_per_s: Math.round(baseline),
    ratio: Number((vigil / baseline).toFixed(3)),
    samples: RECORDS * PER_SOURCE,
    partitions: PARTITIONS,
    kafka: KIND,
    commit_interval_ms: COMMIT_INTERVAL_MS,
  };
} finally {
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
// After the stack's shutdown logs, so the JSON is the last line.
console.log(JSON.stringify(result));
