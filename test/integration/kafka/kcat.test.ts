import { describe, expect, it } from 'vitest';
import { createKafka, embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { kcatConsumeAll, kcatProduce } from '../../support/kcat.js';
import { useEmbeddedKafka } from '../../support/stack.js';

describe('kcat and kafkajs through the embedded Kafka', () => {
  const cluster = useEmbeddedKafka({ brokers: 2 });

  it('kafkajs produces, kcat consumes', async () => {
    cluster.createTopic('to-kcat', 3);
    const producer = createKafka(cluster.bootstrapServers, 'test-kcat').producer();
    await producer.connect();
    const sent = Array.from({ length: 90 }, (_, i) => ({ key: `host${i % 30}`, value: `sample-${i}` }));
    await producer.send({ topic: 'to-kcat', messages: sent });
    await producer.disconnect();

    const got = await kcatConsumeAll(cluster.bootstrapServers, 'to-kcat');
    expect(got.map((r) => `${r.key}=${r.value}`).sort()).toEqual(sent.map((r) => `${r.key}=${r.value}`).sort());
    expect(new Set(got.map((r) => r.partition)).size).toBe(3);
  });

  it('kcat produces, kafkajs consumes', async () => {
    cluster.createTopic('from-kcat', 2);
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    await kcatProduce(cluster.bootstrapServers, 'from-kcat', sent);

    const consumer = createKafka(cluster.bootstrapServers, 'test-kcat').consumer({ groupId: 'g-from-kcat', ...embeddedConsumerDefaults });
    const got: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'from-kcat', fromBeginning: true });
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
