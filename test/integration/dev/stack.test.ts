import { describe, expect, it } from 'vitest';
import { startStack, stackTopics } from '../../../src/dev/stack.js';
import { startEmbeddedKafka } from '../../../src/dev/embedded-kafka.js';
import { createKafka } from '../../../src/kafka/client.js';
import { testConfig, useStack } from '../../support/stack.js';

async function topicPartitions(brokers: string): Promise<Map<string, number>> {
  const admin = createKafka(brokers, 'test-stack').admin();
  await admin.connect();
  try {
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    return new Map(topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

describe('startStack, embedded', () => {
  const stack = useStack({ partitions: 3 });

  it('creates every Vigil topic with the asked partitions, _schemas with one', async () => {
    expect(Object.fromEntries(await topicPartitions(stack.brokers))).toEqual({
      metrics: 3,
      'metrics.dlq': 3,
      'metrics.late': 3,
      'metrics.rollup.1m': 3,
      'metrics.rollup.1h': 3,
      alerts: 3,
      'alerts.dlq': 3,
      silences: 3,
      _schemas: 1,
    });
  });

  it('serves the schema registry and exposes the embedded Kafka', async () => {
    const res = await fetch(`${stack.registryUrl}/subjects`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(stack.brokers).toBe(stack.kafka.bootstrapServers);
    expect(stack.config.kafka.brokers).toBe(stack.brokers);
    expect(stack.config.schemaRegistry.url).toBe(stack.registryUrl);
  });
});

describe('startStack with KAFKA_BROKERS and SCHEMA_REGISTRY_URL set', () => {
  const outer = useStack();

  it('starts nothing, ensures the topics on that cluster, and leaves it running on stop', async () => {
    const config = testConfig({ topics: { metrics: 'other-metrics' } });
    config.kafka.brokers = outer.brokers;
    config.schemaRegistry.url = outer.registryUrl;
    const stack = await startStack({ config, partitions: 2 });
    expect(stack.kafka).toBeUndefined();
    expect(stack.brokers).toBe(outer.brokers);
    expect(stack.registryUrl).toBe(outer.registryUrl);
    expect((await topicPartitions(outer.brokers)).get('other-metrics')).toBe(2);
    await stack.stop();
    expect((await fetch(`${outer.registryUrl}/subjects`)).status).toBe(200);
    expect(() => outer.kafka.createTopic('still-up', 1)).not.toThrow();
  });

  it('starts only the registry when only KAFKA_BROKERS is set', async () => {
    const kafka = await startEmbeddedKafka();
    try {
      const config = testConfig();
      config.kafka.brokers = kafka.bootstrapServers;
      const stack = await startStack({ config });
      expect(stack.kafka).toBeUndefined();
      expect(stack.registryUrl).not.toBe(outer.registryUrl);
      expect((await fetch(`${stack.registryUrl}/subjects`)).status).toBe(200);
      await stack.stop();
      await expect(fetch(`${stack.registryUrl}/subjects`)).rejects.toThrow();
    } finally {
      await kafka.stop();
    }
  });
});

describe('stackTopics', () => {
  it('follows config.topics and does not repeat the recorded-rules topic', () => {
    const names = stackTopics(testConfig({ topics: { alerts: 'my-alerts' } }), 5).map((t) => `${t.name}:${t.partitions}`);
    expect(names).toEqual([
      'metrics:5',
      'metrics.dlq:5',
      'metrics.late:5',
      'metrics.rollup.1m:5',
      'metrics.rollup.1h:5',
      'my-alerts:5',
      'alerts.dlq:5',
      'silences:5',
      '_schemas:1',
    ]);
  });
});
