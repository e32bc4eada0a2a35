/**
 * Record and request sizes of a rollup task on a broker whose limit is the default ~1 MiB
 * (message.max.bytes): issue 12 item 3. The runtime runs on the in-process FakeKafka, which records
 * every producer request, so the sizes asserted are those a real broker would receive.
 */
import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { TopologyRuntime } from '../../src/topology/runtime.js';
import { MemoryRegistryClient } from '../../src/topology/memory-registry.js';
import { buildRollup1mTopology } from '../../src/topology/rollup/rollup-topology.js';
import { messageBytes } from '../../src/topology/internals/record-sender.js';
import { memoryStorageFactory } from '../../src/state/task-storage.js';
import { rollupBatchSerde, sampleBatchSerde } from '../../src/model/serde.js';
import type { RollupBatch } from '../../src/model/types.js';
import { FakeKafka } from './support/fake-kafka.js';

const LIMIT = 1024 * 1024;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
const runtimes: TopologyRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop();
});

/** `sources` sources with `perSource` series each, every label value `labelBytes` long, one scrape at `t`. */
async function publish(kafka: FakeKafka, registry: MemoryRegistryClient, o: { sources: number; perSource: number; labelBytes: number; t: number }) {
  const serde = sampleBatchSerde({ registry });
  for (let s = 0; s < o.sources; s++) {
    const samples = Array.from({ length: o.perSource }, (_, m) => ({ name: 'load', labels: { m: String(m), big: `${m}`.padEnd(o.labelBytes, 'x') }, timestamp: o.t, value: m, kind: 'GAUGE' as const }));
    kafka.append('metrics', 0, `host=h${s}`, await serde.encode('metrics', { source: { host: `h${s}` }, samples }));
  }
}

function start(kafka: FakeKafka, registry: MemoryRegistryClient, storage = memoryStorageFactory()) {
  const runtime = new TopologyRuntime({
    kafka: kafka as unknown as Kafka,
    topology: buildRollup1mTopology({ registry, graceMs: 0, maxFutureMs: Infinity }),
    storage,
    incarnation: 'i',
    commitIntervalMs: 1e12,
    punctuateIntervalMs: 60_000,
    maxMessageBytes: LIMIT,
  });
  runtimes.push(runtime);
  return runtime;
}

/** Largest request (uncompressed bytes, as the broker checks each batch of it) and largest record. */
function sizes(kafka: FakeKafka, topic?: string) {
  let request = 0;
  let record = 0;
  for (const r of kafka.requests) {
    let bytes = 0;
    for (const tm of r.topicMessages) {
      if (topic && tm.topic !== topic) continue;
      for (const m of tm.messages) {
        const n = messageBytes({ key: m.key as Buffer | null, value: m.value as Buffer | null, headers: m.headers as Record<string, string> | undefined });
        bytes += n;
        record = Math.max(record, n);
      }
    }
    request = Math.max(request, bytes);
  }
  return { request, record };
}

describe('record sizes on a 1 MiB broker', () => {
  it('20,000 series: every request and every record of a commit stays under the limit; changelog requests are compressed', async () => {
    const kafka = new FakeKafka();
    const registry = new MemoryRegistryClient();
    await publish(kafka, registry, { sources: 20, perSource: 1000, labelBytes: 8, t: T0 });
    const runtime = start(kafka, registry);
    await runtime.start();
    await until(() => runtime.processed === 20, 10_000, '20 records');
    await runtime.commitAll();
    const { request, record } = sizes(kafka);
    const changelog = kafka.records('vigil-rollup-1m-changelog');
    expect(changelog.length).toBeGreaterThan(20);
    expect(request).toBeLessThanOrEqual(LIMIT);
    expect(record).toBeLessThanOrEqual(LIMIT);
    expect(kafka.requests.filter((r) => r.topicMessages.some((t) => t.topic === 'vigil-rollup-1m-changelog')).every((r) => r.compression === 1)).toBe(true);
  });

  it('state larger than a record (series with 2 KiB labels) is written in parts and restored whole elsewhere; outputs are cut by bytes', async () => {
    const kafka = new FakeKafka();
    const registry = new MemoryRegistryClient();
    await publish(kafka, registry, { sources: 3, perSource: 600, labelBytes: 2000, t: T0 });
    const a = start(kafka, registry);
    await a.start();
    await until(() => a.processed === 3, 10_000, 'first scrape');
    await a.commitAll();
    await a.stop();
    expect(sizes(kafka).record).toBeLessThanOrEqual(LIMIT);
    expect(kafka.records('vigil-rollup-1m-changelog').some((r) => r.key!.toString().startsWith('\u0000part\u0000'))).toBe(true);
    // another instance without local state restores the task from the changelog and closes the window
    await publish(kafka, registry, { sources: 3, perSource: 600, labelBytes: 2000, t: T0 + 60_000 });
    const b = start(kafka, registry);
    await b.start();
    await until(() => b.processed === 3, 10_000, 'second scrape');
    await b.commitAll();
    const out = kafka.records('metrics.rollup.1m');
    const serde = rollupBatchSerde({ registry });
    const rollups = (await Promise.all(out.map(async (r) => ((await serde.decode(r.value)) as RollupBatch).rollups))).flat();
    expect(rollups.filter((r) => r.start === T0)).toHaveLength(1800);
    expect(rollups.every((r) => r.count === 1)).toBe(true);
    expect(out.length).toBeGreaterThan(3); // 600 rollups of ~2 KiB per source do not fit one record
    // stamped with the write time, not the (old) window time: time-based retention must not delete them
    expect(out.every((r) => Number(r.timestamp) > Date.now() - 600_000)).toBe(true);
    expect(sizes(kafka).record).toBeLessThanOrEqual(LIMIT);
    expect(sizes(kafka).request).toBeLessThanOrEqual(LIMIT);
  });
});

describe('RecordSender', () => {
  it('sends every message of interleaved topics, in order per topic, each request under the byte bound', async () => {
    const { RecordSender } = await import('../../src/topology/internals/record-sender.js');
    const kafka = new FakeKafka();
    const sender = new RecordSender(() => kafka.producer(), { maxRequestBytes: 64 * 1024, compressed: (t) => t === 'cl' });
    const messages = Array.from({ length: 300 }, (_, i) => ({ topic: ['out', 'late', 'cl'][i % 3]!, message: { key: Buffer.from(String(i)), value: Buffer.alloc(1000, i % 256), partition: 0 } }));
    const last = await sender.send(messages);
    for (const topic of ['out', 'late', 'cl']) {
      expect(kafka.records(topic).map((r) => Number(r.key!.toString()))).toEqual(messages.filter((m) => m.topic === topic).map((m) => Number(m.message.key.toString())));
    }
    expect(last.get('cl/0')).toBe(99n);
    expect(sender.stats.largestRequestBytes).toBeLessThanOrEqual(64 * 1024);
    expect(kafka.requests.every((r) => new Set(r.topicMessages.map((t) => t.topic)).size === r.topicMessages.length)).toBe(true);
  });
});

describe('side records', () => {
  it('a late or dead-letter copy of an input record too large to carry with its headers keeps its coordinates, not its value', async () => {
    const { StreamsBuilder, TopologyTestDriver, stringSerde, jsonSerde } = await import('../../src/topology/index.js');
    const b = new StreamsBuilder({ applicationId: 'side' });
    b.stream('in', { key: stringSerde, value: jsonSerde<unknown>() }).process(() => ({
      ctx: null as never as import('../../src/topology/api.js').ProcessorContext,
      init(ctx: import('../../src/topology/api.js').ProcessorContext) {
        this.ctx = ctx;
      },
      process() {
        this.ctx.sendToSideTopic('metrics.dlq', 'undecodable', null, Buffer.alloc(LIMIT - 100, 1));
        this.ctx.sendToSideTopic('metrics.dlq', 'undecodable', null, Buffer.alloc(1000, 1));
      },
    }));
    const d = new TopologyTestDriver(b.build());
    d.createInputTopic('in', stringSerde, jsonSerde<unknown>()).pipeInput('k', 1, 0);
    const [big, small] = d.peekRaw('metrics.dlq');
    expect(big!.value).toBeNull();
    expect(big!.headers).toMatchObject({ 'vigil.offset': '0', 'vigil.value_omitted': `too large for one record (${LIMIT - 100} bytes)` });
    expect(small!.value!.length).toBe(1000);
    d.close();
  });
});
