import { describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.js';
import { kcatConsumeAll } from '../../support/kcat.js';
import { useEmbeddedKafka } from '../../support/stack.js';

const PRODUCE = 0;
const LEADER_NOT_AVAILABLE = 5;
const MESSAGE_TOO_LARGE = 10;

describe('fault injection on the embedded Kafka', () => {
  const cluster = useEmbeddedKafka({ brokers: 3 });

  it('loses no acknowledged record when a broker goes down and comes back within 5 s', async () => {
    // The mock places leaders at random; take down the leader of partition 0. Leaders never move.
    cluster.createTopic('outage', 3);
    const kafka = createKafka(cluster.bootstrapServers, 'test-outage');
    const admin = kafka.admin();
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: ['outage'] });
    await admin.disconnect();
    const victim = topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader;
    const producer = kafka.producer();
    await producer.connect();
    const acked: string[] = [];
    const failed: string[] = [];
    let slowestSendMs = 0;
    let seq = 0;
    const sendBatches = async (until: () => boolean) => {
      while (!until()) {
        const batch = Array.from({ length: 30 }, () => {
          const n = seq++;
          return { key: `key-${n % 50}`, value: `record-${n}-${'x'.repeat(n % 40)}` };
        });
        const t0 = performance.now();
        try {
          await producer.send({ topic: 'outage', messages: batch });
          slowestSendMs = Math.max(slowestSendMs, performance.now() - t0);
          acked.push(...batch.map((m) => `${m.key}|${m.value}`));
        } catch {
          failed.push(...batch.map((m) => m.value));
        }
      }
    };

    let phase: 'before' | 'down' | 'after' = 'before';
    const producing = sendBatches(() => phase === 'after' && seq >= 3000);
    while (seq < 600) await new Promise((r) => setTimeout(r, 10));
    cluster.brokerDown(victim);
    phase = 'down';
    const ackedAtDown = acked.length;
    await new Promise((r) => setTimeout(r, 3000));
    cluster.brokerUp(victim);
    phase = 'after';
    await producing;
    await producer.disconnect();

    expect(failed).toEqual([]);
    expect(acked.length).toBe(seq);
    // Some send really waited for the broker to come back.
    expect(slowestSendMs).toBeGreaterThan(1500);
    expect(acked.length).toBeGreaterThan(ackedAtDown);
    const stored = await kcatConsumeAll(cluster.bootstrapServers, 'outage');
    const storedSet = new Set(stored.map((r) => `${r.key}|${r.value}`));
    // Every acknowledged record is there, byte for byte; nothing else is (retries may only duplicate).
    expect(acked.filter((r) => !storedSet.has(r))).toEqual([]);
    expect(storedSet.size).toBe(acked.length);
    expect(new Set(stored.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
  });

  it('retries through injected retriable errors and reports a non-retriable one', async () => {
    cluster.createTopic('errors', 1);
    const producer = createKafka(cluster.bootstrapServers, 'test-errors').producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'errors', messages: [{ value: 'warm-up' }] });
      cluster.pushRequestErrors(PRODUCE, [LEADER_NOT_AVAILABLE, LEADER_NOT_AVAILABLE]);
      const t0 = performance.now();
      await producer.send({ topic: 'errors', messages: [{ value: 'after-retries' }] });
      expect(performance.now() - t0).toBeGreaterThan(200); // two retries with backoff

      cluster.pushRequestErrors(PRODUCE, [MESSAGE_TOO_LARGE]);
      await expect(producer.send({ topic: 'errors', messages: [{ value: 'rejected' }] })).rejects.toMatchObject({
        type: 'MESSAGE_TOO_LARGE',
      });
    } finally {
      await producer.disconnect();
    }
    expect((await kcatConsumeAll(cluster.bootstrapServers, 'errors')).map((r) => r.value)).toEqual(['warm-up', 'after-retries']);
  });

  it('delays every response of a broker by the set round-trip time', async () => {
    cluster.createTopic('slow', 3);
    const admin = createKafka(cluster.bootstrapServers, 'test-rtt').admin();
    await admin.connect();
    try {
      const timed = async () => {
        const t0 = performance.now();
        for (let i = 0; i < 3; i++) await admin.fetchTopicOffsets('slow');
        return (performance.now() - t0) / 3;
      };
      await timed();
      for (const id of cluster.brokerIds) cluster.setBrokerRtt(id, 250);
      expect(await timed()).toBeGreaterThanOrEqual(240);
      for (const id of cluster.brokerIds) cluster.setBrokerRtt(id, 0);
      expect(await timed()).toBeLessThan(200);
    } finally {
      await admin.disconnect();
    }
  });
});
