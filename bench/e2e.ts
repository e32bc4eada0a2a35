/**
 * `npm run bench -- e2e [--samples 1500000] [--partitions 16] [--commit-interval-ms 5000]`
 *
 * Through the embedded Kafka: SampleBatch records (100 samples each) are published to `metrics`, then
 * consumed (a) by a bare kafkajs consumer that only decodes them with avsc (the baseline) and (b) by
 * Vigil's engine running the 1m rollup topology (decode, windows, LevelDB commits, changelog and rollup
 * outputs). Both rates are measured from the first to the last record consumed. The mock keeps ~5 MiB per
 * partition, so the input is spread over enough partitions to stay below it. Last line JSON: samples_per_s
 * (Vigil), baseline_per_s, ratio (goal >= 0.7).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../src/config/config.js';
import { startStack } from '../src/dev/stack.js';
import { createKafka, embeddedConsumerDefaults } from '../src/kafka/client.js';
import { avroTypes } from '../src/model/avro-schemas.js';
import { sampleBatchSerde } from '../src/model/serde.js';
import type { SampleBatch } from '../src/model/types.js';
import { Engine } from '../src/engine/engine.js';
import { rollupModule } from '../src/engine/rollup-module.js';
import { arg } from './support/harness.js';

const SAMPLES = Number(arg('samples', '1500000'));
const PARTITIONS = Number(arg('partitions', '16'));
// The runtime's default commit interval; shorter intervals put more commits inside the measured run.
const COMMIT_INTERVAL_MS = Number(arg('commit-interval-ms', '5000'));
const PER_SOURCE = 100;
const SOURCES = 1000; // 100k series
const RECORDS = Math.ceil(SAMPLES / PER_SOURCE);
const T0 = 1_700_000_000_000;

const base = configSchema.parse({ kafka: { partitions: PARTITIONS } });
const stateDir = mkdtempSync(join(tmpdir(), 'vigil-bench-e2e-'));
const stack = await startStack({ partitions: PARTITIONS, config: { ...base, kafka: { ...base.kafka, brokers: undefined }, schemaRegistry: { url: undefined }, state: { dir: stateDir } } });
const kafka = createKafka(stack.brokers, 'bench-e2e');
let result: object | undefined;
try {
  const serde = sampleBatchSerde({ registry: stack.registryUrl });
  const id = await serde.schemaId('metrics');
  const producer = kafka.producer();
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
    await producer.send({ topic: 'metrics', messages, acks: -1 });
  }
  await producer.disconnect();
  console.log(`published ${RECORDS} records (${SAMPLES} samples, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${(bytes / PARTITIONS / 2 ** 20).toFixed(2)} MiB per partition)`);

  // (a) baseline: bare kafkajs consume + avsc decode
  const type = avroTypes().sampleBatch;
  let seen = 0;
  let samples = 0;
  let first = 0;
  let last = 0;
  const consumer = kafka.consumer({ groupId: 'bench-e2e-baseline', ...embeddedConsumerDefaults });
  await consumer.connect();
  await consumer.subscribe({ topics: ['metrics'], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (!first) first = performance.now();
        for (const m of batch.messages) samples += (type.fromBuffer(m.value!.subarray(5)) as SampleBatch).samples.length;
        seen += batch.messages.length;
        last = performance.now();
        if (seen >= RECORDS) resolve();
      },
    });
  });
  await consumer.disconnect();
  const baseline = samples / ((last - first) / 1000);
  console.log(`baseline kafkajs consume + avsc decode: ${Math.round(baseline)} samples/s`);

  // (b) Vigil's rollup topology through the engine
  const engine = new Engine({ config: stack.config, modules: [rollupModule({ hourly: false })], embedded: true, httpPort: null, commitIntervalMs: COMMIT_INTERVAL_MS });
  await engine.start();
  const runtime = engine.runtime('vigil-rollup-1m')!;
  let vFirst = 0;
  while (runtime.processed === 0) await new Promise((r) => setTimeout(r, 5));
  vFirst = performance.now();
  let vLast = vFirst;
  let prev = runtime.processed;
  while (runtime.processed < RECORDS) {
    await new Promise((r) => setTimeout(r, 5));
    if (runtime.processed !== prev) {
      prev = runtime.processed;
      vLast = performance.now();
    }
  }
  vLast = performance.now();
  console.log(`vigil: ${Math.round(vLast - vFirst)} ms wall, ${Math.round(runtime.busyMs)} ms processing, ${Math.round(runtime.commitWaitMs)} ms waiting for commit IO`);
  await engine.stop();
  const vigil = (RECORDS * PER_SOURCE) / ((vLast - vFirst) / 1000);
  console.log(`vigil engine (rollup 1m, LevelDB commits every ${COMMIT_INTERVAL_MS} ms): ${Math.round(vigil)} samples/s`);
  result = ({ bench: 'e2e', samples_per_s: Math.round(vigil), baseline: 'kafkajs consume + avsc decode', baseline_per_s: Math.round(baseline), ratio: Number((vigil / baseline).toFixed(3)), samples: RECORDS * PER_SOURCE, partitions: PARTITIONS });
} finally {
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
// After the stack's shutdown logs, so the JSON is the last line.
console.log(JSON.stringify(result));
