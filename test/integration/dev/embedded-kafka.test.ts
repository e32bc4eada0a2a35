import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type EachMessagePayload } from 'kafkajs';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../../src/dev/embedded-kafka.js';

describe('embedded Kafka with kafkajs', () => {
  let cluster: EmbeddedKafka;
  let kafka: Kafka;
  beforeAll(async () => {
    cluster = await startEmbeddedKafka({ brokers: 3 });
    kafka = new Kafka({ brokers: cluster.bootstrapServers.split(','), clientId: 'test', logLevel: logLevel.NOTHING });
  });
  afterAll(() => cluster?.stop());

  it('produces and consumes keyed records on every partition, in order per partition', async () => {
    cluster.createTopic('roundtrip', 3);
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 17}`, value: `v${i}` }));
    await producer.send({ topic: 'roundtrip', messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'g-roundtrip', sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
    const got: EachMessagePayload[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'roundtrip', fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async (payload) => {
          got.push(payload);
          if (got.length === sent.length) resolve();
        },
      });
    });
    await done;
    await consumer.disconnect();

    expect(new Set(got.map((p) => p.partition))).toEqual(new Set([0, 1, 2]));
    expect(got.map((p) => p.message.value!.toString()).sort()).toEqual(sent.map((m) => m.value).sort());
    for (const partition of [0, 1, 2]) {
      const values = got.filter((p) => p.partition === partition).map((p) => Number(p.message.value!.toString().slice(1)));
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
    // Same key, same partition.
    const byKey = new Map<string, Set<number>>();
    for (const p of got) byKey.set(p.message.key!.toString(), (byKey.get(p.message.key!.toString()) ?? new Set()).add(p.partition));
    for (const partitions of byKey.values()) expect(partitions.size).toBe(1);
  });
});
