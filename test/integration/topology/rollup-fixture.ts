/**
 * Shared by the rollup integration tests and `npm run chaos -- rollup`: a fixed SampleBatch input,
 * the oracle (the same topology run uninterrupted in the TopologyTestDriver, partition by partition),
 * publishing to Kafka, and collecting + verifying rollup outputs by output id (header vigil.id).
 */
import type { Kafka } from 'kafkajs';
import { sampleBatchSerde, rollupBatchSerde } from '../../../src/model/serde.js';
import type { RollupBatch, SampleBatch } from '../../../src/model/types.js';
import { MemoryRegistryClient } from '../../../src/topology/memory-registry.js';
import { TopologyTestDriver } from '../../../src/topology/test-driver.js';
import { buildRollup1hTopology, buildRollup1mTopology } from '../../../src/topology/rollup/rollup-topology.js';

export interface FixtureRecord {
  partition: number;
  key: string;
  batch: SampleBatch;
}

export const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

/** `sources` sources (keys spread over `partitions`), `perSource` series each, one scrape every `intervalMs` (10 s). */
export function fixtureInput(options: { sources: number; perSource: number; scrapes: number; partitions: number; intervalMs?: number }): FixtureRecord[] {
  const out: FixtureRecord[] = [];
  const interval = options.intervalMs ?? 10_000;
  for (let i = 0; i < options.scrapes; i++) {
    for (let s = 0; s < options.sources; s++) {
      const samples = [];
      for (let m = 0; m < options.perSource; m++) {
        const counter = m % 3 === 0;
        // counters reset now and then; gauges wander
        const value = counter ? ((i * (m + 1)) % 97) + s : Math.sin(i + m + s) * 100;
        samples.push({ name: counter ? `req_total` : `load`, labels: { m: String(m) }, timestamp: T0 + i * interval + s, value, kind: counter ? ('COUNTER' as const) : ('GAUGE' as const) });
      }
      out.push({ partition: s % options.partitions, key: `host=h${s}`, batch: { source: { host: `h${s}` }, samples } });
    }
  }
  return out;
}

/** The uninterrupted run's outputs: id -> RollupBatch. */
export async function oracle(input: FixtureRecord[], graceMs: number): Promise<Map<string, RollupBatch>> {
  const registry = new MemoryRegistryClient();
  const samples = sampleBatchSerde({ registry });
  const rollups = rollupBatchSerde({ registry });
  const driver = new TopologyTestDriver(buildRollup1mTopology({ registry, graceMs }), { wallClockStart: Date.now() });
  for (const r of input) await driver.pipeRawAsync('metrics', Buffer.from(r.key), await samples.encode('metrics', r.batch), 0, { partition: r.partition });
  const out = new Map<string, RollupBatch>();
  for (const m of driver.history.get('metrics.rollup.1m') ?? []) out.set(m.headers!['vigil.id']!, (await rollups.decode(m.value)) as RollupBatch);
  driver.close();
  return out;
}

/**
 * Both rollups of an uninterrupted run: the 1m topology over the input, partition by partition, and
 * the 1h topology over its 1m records (in their order per partition), in the TopologyTestDriver.
 */
export async function oracleRollups(input: FixtureRecord[], graceMs: number): Promise<{ m1: RollupBatch[]; h1: RollupBatch[] }> {
  const registry = new MemoryRegistryClient();
  const samples = sampleBatchSerde({ registry });
  const rollups = rollupBatchSerde({ registry });
  const d1m = new TopologyTestDriver(buildRollup1mTopology({ registry, graceMs }), { wallClockStart: Date.now() });
  for (const r of input) await d1m.pipeRawAsync('metrics', Buffer.from(r.key), await samples.encode('metrics', r.batch), 0, { partition: r.partition });
  const d1h = new TopologyTestDriver(buildRollup1hTopology({ registry }), { wallClockStart: Date.now() });
  const m1: RollupBatch[] = [];
  for (const m of d1m.history.get('metrics.rollup.1m') ?? []) {
    m1.push((await rollups.decode(m.value)) as RollupBatch);
    await d1h.pipeRawAsync('metrics.rollup.1m', m.key, m.value, m.timestamp ?? 0, { partition: m.partition ?? 0 });
  }
  const h1: RollupBatch[] = [];
  for (const m of d1h.history.get('metrics.rollup.1h') ?? []) h1.push((await rollups.decode(m.value)) as RollupBatch);
  d1m.close();
  d1h.close();
  return { m1, h1 };
}

/** Every record of `topic` as a consumer reads it (own group, from the beginning), replays included. */
export async function collectAll(kafka: Kafka, registryUrl: string, topic: string) {
  const serde = rollupBatchSerde({ registry: registryUrl });
  const records: RollupBatch[] = [];
  const consumer = kafka.consumer({ groupId: `collector-${Date.now()}-${Math.random()}`, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void records.push((await serde.decode(message.value)) as RollupBatch) });
  return { records, stop: () => consumer.disconnect() };
}

/** Publishes the input in order (optionally paced: `perTick` records every `tickMs`). */
export async function publish(kafka: Kafka, registryUrl: string, input: FixtureRecord[], pace?: { perTick: number; tickMs: number }, topic = 'metrics'): Promise<void> {
  const serde = sampleBatchSerde({ registry: registryUrl });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const step = pace?.perTick ?? input.length;
    for (let i = 0; i < input.length; i += step) {
      const part = input.slice(i, i + step);
      const messages = await Promise.all(part.map(async (r) => ({ key: r.key, value: await serde.encode(topic, r.batch), partition: r.partition })));
      await producer.send({ topic, messages, acks: -1 });
      if (pace) await new Promise((r) => setTimeout(r, pace.tickMs));
    }
  } finally {
    await producer.disconnect();
  }
}

/** Collects every record of `topic` (own group, from the beginning) until stopped. */
export async function collect(kafka: Kafka, registryUrl: string, topic: string) {
  const serde = rollupBatchSerde({ registry: registryUrl });
  const seen = new Map<string, { value: RollupBatch; copies: number; conflicts: number }>();
  let records = 0;
  const consumer = kafka.consumer({ groupId: `collector-${Date.now()}-${Math.random()}`, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records++;
      const id = message.headers?.['vigil.id']?.toString() ?? '';
      const value = (await serde.decode(message.value)) as RollupBatch;
      const prev = seen.get(id);
      if (!prev) seen.set(id, { value, copies: 1, conflicts: 0 });
      else {
        prev.copies++;
        if (JSON.stringify(prev.value) !== JSON.stringify(value)) prev.conflicts++;
      }
    },
  });
  return {
    seen,
    records: () => records,
    async waitFor(n: number, timeoutMs: number) {
      const end = Date.now() + timeoutMs;
      while (seen.size < n && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      return seen.size >= n;
    },
    stop: () => consumer.disconnect(),
  };
}

/** Compares collected outputs with the oracle: the verifier's counts. */
export function verify(expected: Map<string, RollupBatch>, seen: Map<string, { value: RollupBatch; copies: number; conflicts: number }>) {
  let missing = 0;
  let different = 0;
  let unexpected = 0;
  let duplicates = 0;
  let conflicts = 0;
  for (const [id, value] of expected) {
    const got = seen.get(id);
    if (!got) missing++;
    else if (JSON.stringify(got.value) !== JSON.stringify(value)) different++;
  }
  for (const [id, s] of seen) {
    if (!expected.has(id)) unexpected++;
    duplicates += s.copies - 1;
    conflicts += s.conflicts;
  }
  const rollups = [...expected.values()].reduce((n, b) => n + b.rollups.length, 0);
  return { expected_records: expected.size, expected_rollups: rollups, received_ids: seen.size, missing, different, unexpected, duplicates_same_content: duplicates - conflicts, conflicting_duplicates: conflicts, ok: missing === 0 && different === 0 && unexpected === 0 && conflicts === 0 };
}
