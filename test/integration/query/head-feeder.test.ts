/**
 * The head feeder on a real Kafka broker. Issue 13, defect 10: every process's query head read the
 * whole `metrics` topic from its start. Now it starts at the offsets of its retention.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import { componentLogger } from '../../../src/obs/logger.js';
import { Head } from '../../../src/query/head.js';
import { startHeadFeeder } from '../../../src/query/head-feeder.js';
import type { ResilientConsumer } from '../../../src/kafka/client.js';
import { useStack } from '../../support/stack.js';
import { until } from '../../support/until.js';

const stack = useStack({ partitions: 2 });
let feeder: ResilientConsumer | undefined;
afterEach(async () => {
  await feeder?.stop();
  feeder = undefined;
});

describe('head feeder', () => {
  // On a broker that looks offsets up by time the old records are never read; on the embedded
  // Kafka (it cannot) they are read and trimmed: either way the head holds its retention only.
  it('keeps only its retention of metrics (starting at the offsets of the retention where the broker can look them up)', async () => {
    const kafka = createKafka(stack.brokers, 'head-feeder-test');
    const serde = sampleBatchSerde({ registry: stack.registryUrl });
    const now = Date.now();
    const producer = kafka.producer();
    await producer.connect();
    const record = async (host: string, ageMs: number, partition: number) => ({
      key: `host=${host}`,
      partition,
      // The record's Kafka timestamp is when it was produced; the samples carry the same time.
      timestamp: String(now - ageMs),
      value: await serde.encode(stack.config.topics.metrics, { source: { host }, samples: [{ name: 'feeder_load', labels: {}, timestamp: now - ageMs, value: 1, kind: 'GAUGE' }] }),
    });
    try {
      await producer.send({ topic: stack.config.topics.metrics, acks: -1, messages: [await record('old0', 3 * 3_600_000, 0), await record('old1', 3 * 3_600_000, 1), await record('recent0', 10 * 60_000, 0), await record('recent1', 20 * 60_000, 1)] });
    } finally {
      await producer.disconnect();
    }
    const head = new Head({ retentionMs: 3_600_000 });
    feeder = await startHeadFeeder({ kafka, topic: stack.config.topics.metrics, registryUrl: stack.registryUrl, head, consumer: { sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 }, logger: componentLogger('test'), trimEveryMs: 0 });
    const hosts = () => head.series(0, now + 1).then((all) => all.map((s) => s.labels.host!).sort());
    // The recent records come last in their partitions: once both are in, each batch was trimmed.
    let seen: string[] = [];
    await until(() => (void hosts().then((h) => (seen = h)), seen.includes('recent0') && seen.includes('recent1')), 30_000, 'the recent records in the head');
    expect(await hosts()).toEqual(['recent0', 'recent1']);
  });
});
