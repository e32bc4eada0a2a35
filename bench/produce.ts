/**
 * `npm run bench -- produce [--pools 10] [--hosts 100] [--metrics 100] [--duration 2m] [--partitions 8]`
 *
 * `vigil produce --fast` (the CLI, as users run it: the simulated fleet, SampleBatch encoding, the
 * idempotent publisher) into a real Apache Kafka broker started here, against the baseline of a bare kafkajs
 * idempotent producer sending the same records (the same bytes, pre-encoded, in the publisher's 1 MiB
 * requests, two at a time) to another topic of the same broker. Both are timed until every record is
 * acknowledged (acks=-1). Last line JSON: samples_per_s (vigil produce), baseline_per_s, ratio.
 */
import { spawn } from 'node:child_process';
import { configSchema } from '../src/config/config.js';
import { startStack } from '../src/dev/stack.js';
import { createKafka, ensureTopics, streamTopicSpec } from '../src/kafka/client.js';
import { fleetSetup } from '../src/fleet/fleet-setup.js';
import { FleetRunner } from '../src/fleet/fleet-runner.js';
import { sampleBatchSerde } from '../src/model/serde.js';
import { sourceKey } from '../src/kafka/publisher.js';
import { arg } from './support/harness.js';

const POOLS = arg('pools', '10');
const HOSTS = arg('hosts', '100');
const METRICS = arg('metrics', '100');
const DURATION = arg('duration', '2m');
const PARTITIONS = Number(arg('partitions', '8'));
const START = '2026-01-01T00:00:00Z';
const REQUEST_BYTES = 1024 * 1024;

const base = configSchema.parse({ kafka: { partitions: PARTITIONS } });
const stack = await startStack({ partitions: PARTITIONS, kafkaDataDir: null, config: { ...base, kafka: { ...base.kafka, brokers: undefined }, schemaRegistry: { ...base.schemaRegistry, url: undefined } } });
let result: object | undefined;
try {
  // The same fleet, encoded the way the publisher encodes it (one record per host and tick), untimed.
  const setup = fleetSetup({ pools: POOLS, hosts: HOSTS, metrics: METRICS, duration: DURATION, start: START, faults: 'default', asFastAsPossible: true }, Date.now());
  const serde = sampleBatchSerde({ registry: stack.registryUrl });
  const baselineTopic = 'bench-produce-baseline';
  await ensureTopics(stack.brokers, [streamTopicSpec(stack.config, baselineTopic)]);
  const id = await serde.schemaId(baselineTopic);
  const records: Array<{ key: string; value: Buffer }> = [];
  let samples = 0;
  await new FleetRunner({
    model: setup.model,
    startTime: setup.startTime,
    intervalMs: setup.intervalMs,
    speed: Infinity,
    durationMs: setup.durationMs,
    sink: (tick) => {
      records.push({ key: sourceKey(tick.host.source), value: serde.encodeWithId(id, { source: tick.host.source, samples: tick.samples }) });
      samples += tick.samples.length;
    },
  }).run();
  const bytes = records.reduce((n, r) => n + r.value.length + r.key.length, 0);
  console.log(`fleet ${POOLS}x${HOSTS}x${METRICS} over ${DURATION}: ${records.length} records, ${samples} samples, ${(bytes / 2 ** 20).toFixed(1)} MiB`);

  // (a) baseline: bare kafkajs, idempotent, the same records in 1 MiB requests, two in flight (two producers)
  const kafka = createKafka(stack.brokers, 'bench-produce');
  const producers = [kafka.producer({ idempotent: true, maxInFlightRequests: 1 }), kafka.producer({ idempotent: true, maxInFlightRequests: 1 })];
  await Promise.all(producers.map((p) => p.connect()));
  const requests: Array<typeof records> = [];
  for (let i = 0, size = 0, cur: typeof records = []; i < records.length; i++) {
    const r = records[i]!;
    if (cur.length && size + r.value.length + r.key.length > REQUEST_BYTES) {
      requests.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(r);
    size += r.value.length + r.key.length;
    if (i === records.length - 1) requests.push(cur);
  }
  const b0 = performance.now();
  let next = 0;
  await Promise.all(
    producers.map(async (p) => {
      while (next < requests.length) await p.send({ topic: baselineTopic, acks: -1, messages: requests[next++]! });
    }),
  );
  const bMs = performance.now() - b0;
  await Promise.all(producers.map((p) => p.disconnect()));
  const baseline = samples / (bMs / 1000);
  console.log(`baseline kafkajs idempotent producer: ${Math.round(bMs)} ms, ${Math.round(baseline)} samples/s`);

  // (b) vigil produce --fast, the CLI, into the stack's metrics topic
  const args = ['bin/vigil.js', 'produce', '--fast', '--pools', POOLS, '--hosts', HOSTS, '--metrics', METRICS, '--duration', DURATION, '--start', START, '--status-interval', '1'];
  const child = spawn(process.execPath, args, { env: { ...process.env, KAFKA_BROKERS: stack.brokers, SCHEMA_REGISTRY_URL: stack.registryUrl, VIGIL_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    process.stderr.write(d);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`vigil produce exited with ${code}`);
  const m = /done in (\S+) \| ([\d,]+) samples in ([\d,]+) records .*\| ([\d,]+) samples\/s/.exec(stderr);
  if (!m) throw new Error(`no summary line from vigil produce:\n${stderr.slice(-2000)}`);
  const vigil = Number(m[4]!.replace(/,/g, ''));
  if (Number(m[2]!.replace(/,/g, '')) !== samples) throw new Error(`vigil produce sent ${m[2]} samples, the baseline ${samples}`);
  result = { bench: 'produce', samples_per_s: vigil, baseline: 'kafkajs idempotent producer, same records pre-encoded', baseline_per_s: Math.round(baseline), ratio: Number((vigil / baseline).toFixed(3)), samples, records: records.length, partitions: PARTITIONS, kafka: 'broker' };
} finally {
  await stack.stop();
}
console.log(JSON.stringify(result));
