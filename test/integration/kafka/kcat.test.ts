import { describe, expect, it } from 'vitest';
import { createKafka, embeddedConsumerDefaults, ensureTopics } from '../../../src/kafka/client.js';
import { kcatConsumeAll, kcatProduce } from '../../support/kcat.js';
import { sharedKafkaBrokers, uniqueName } from '../../support/kafka.js';

describe('kcat and kafkajs through a real Kafka broker', () => {
  const cluster = { get bootstrapServers() { return sharedKafkaBrokers(); } };

  it('kafkajs produces, kcat consumes', async () => {
    const topic = uniqueName('to-kcat');
    await ensureTopics(cluster.bootstrapServers, [{ name: topic, partitions: 3 }]);
    const producer = createKafka(cluster.bootstrapServers, 'test-kcat').producer();
    await producer.connect();
    const sent = Array.from({ length: 90 }, (_, i) => ({ key: `host${i % 30}`, value: `sample-${i}` }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const got = await kcatConsumeAll(cluster.bootstrapServers, topic);
    expect(got.map((r) => `${r.key}=${r.value}`).sort()).toEqual(sent.map((r) => `${r.key}=${r.value}`).sort());
    expect(new Set(got.map((r) => r.partition)).size).toBe(3);
  });

  it('kcat produces, kafkajs consumes', async () => {
    const topic = uniqueName('from-kcat');
    await ensureTopics(cluster.bootstrapServers, [{ name: topic, partitions: 2 }]);
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    await kcatProduce(cluster.bootstrapServers, topic, sent);

    const consumer = createKafka(cluster.bootstrapServers, 'test-kcat').consumer({ groupId: uniqueName('g-from-kcat'), ...embeddedConsumerDefaults });
    const got: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push(`${message.key}=${message.value}`);
            if (got.length === sent.length) resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    expect(got.sort()).toEqual(sent.map((r) => `${r.key}=${r.value}`).sort());
  });
});
