/**
 * Measures what a 1m rollup task's commits send: `node --import tsx test/integration/topology/commit-sizes.ts
 * [--series N] [--brokers HOST:PORT] [--max-message-bytes B]`. Scrapes N series (1000 per source) four
 * times 30 s apart, commits after each, and prints per commit the bytes, requests, largest request and
 * largest record the runtime sent (uncompressed, as the broker checks each batch), then one JSON line.
 * Without --brokers it runs on the in-process FakeKafka (same requests, no broker); with one, on it.
 */
import type { Kafka } from 'kafkajs';
import { TopologyRuntime } from '../../../src/topology/runtime.js';
import { MemoryRegistryClient } from '../../../src/topology/memory-registry.js';
import { buildRollup1mTopology } from '../../../src/topology/rollup/rollup-topology.js';
import { memoryStorageFactory } from '../../../src/state/task-storage.js';
import { createKafka, ensureTopics } from '../../../src/kafka/client.js';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import { FakeKafka } from '../../topology/support/fake-kafka.js';
import { until } from '../../support/until.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : def);
const series = Number(opt('series', '100000'));
const brokers = opt('brokers', '');
const maxMessageBytes = Number(opt('max-message-bytes', String(1024 * 1024)));
const run = `${Date.now()}`;
const input = brokers ? `sizes-${run}-metrics` : 'metrics';
const registry = new MemoryRegistryClient();
const serde = sampleBatchSerde({ registry });
const fake = brokers ? null : new FakeKafka();
const kafka = brokers ? createKafka(brokers, 'commit-sizes') : (fake as unknown as Kafka);
const T0 = Date.now() - (Date.now() % 60_000) - 120_000;
const sources = Math.ceil(series / 1000);

async function scrape(t: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let s = 0; s < sources; s++) {
    const samples = Array.from({ length: 1000 }, (_, m) => ({ name: `metric_${m % 20}`, labels: { idx: String(m) }, timestamp: t, value: (s * 7 + m) % 1000, kind: m % 4 === 0 ? ('COUNTER' as const) : ('GAUGE' as const) }));
    await producer.send({ topic: input, messages: [{ key: `host=h${s}`, value: await serde.encode(input, { source: { host: `h${s}` }, samples }), partition: 0 }], acks: -1 });
  }
  await producer.disconnect();
}

const runtime = new TopologyRuntime({
  kafka,
  topology: buildRollup1mTopology({ registry, applicationId: `sizes-${run}`, inputTopic: input, outputTopic: `${input}.rollup.1m`, graceMs: 10_000, maxRecordBytes: maxMessageBytes }),
  storage: memoryStorageFactory(),
  incarnation: 'sizes',
  commitIntervalMs: 1e12,
  consumer: { maxBytesPerPartition: 64 * 1024 * 1024 },
  maxMessageBytes,
});
const commits: Array<Record<string, number>> = [];
// a KRaft broker answers a first produce to an unknown topic with UNKNOWN_TOPIC_OR_PARTITION: create them
if (brokers) await ensureTopics(brokers, [{ name: input, partitions: 1 }, { name: `${input}.rollup.1m`, partitions: 1 }, { name: 'metrics.late', partitions: 1 }, { name: 'metrics.dlq', partitions: 1 }, { name: `sizes-${run}-changelog`, partitions: 1, compacted: true }]);
try {
  await runtime.start();
  for (let i = 0; i < 4; i++) {
    await scrape(T0 + i * 30_000);
    await until(() => runtime.processed === sources * (i + 1), 300_000, `scrape ${i + 1} processed`);
    const before = { ...runtime.sender.stats };
    runtime.sender.stats.largestRequestBytes = 0;
    runtime.sender.stats.largestRecordBytes = 0;
    const t0 = performance.now();
    const summary = await runtime.commitAll();
    if (summary.failed) throw new Error(`commit ${i + 1} failed`);
    const s = runtime.sender.stats;
    commits.push({ commit: i + 1, bytes: s.bytes - before.bytes, requests: s.requests - before.requests, largest_request: s.largestRequestBytes, largest_record: s.largestRecordBytes, ms: Math.round(performance.now() - t0) });
    console.log(`commit ${i + 1}: ${commits.at(-1)!.bytes} bytes in ${commits.at(-1)!.requests} requests, largest request ${s.largestRequestBytes}, largest record ${s.largestRecordBytes}, ${commits.at(-1)!.ms} ms`);
  }
} finally {
  await runtime.stop();
}
const max = (k: string) => Math.max(...commits.map((c) => c[k]!));
console.log(JSON.stringify({ series, broker: brokers ? 'kafka' : 'fake', max_message_bytes: maxMessageBytes, bytes_per_commit_max: max('bytes'), largest_request: max('largest_request'), largest_record: max('largest_record'), ok: max('largest_request') <= maxMessageBytes }));
