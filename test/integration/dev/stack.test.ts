import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, stackTopics } from '../../../src/dev/stack.js';
import { createKafka } from '../../../src/kafka/client.js';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import { sharedBrokerConfig, testConfig, useStack } from '../../support/stack.js';
import { sharedKafkaBrokers } from '../../support/kafka.js';

const TOPIC = 2; // kafkajs ConfigResourceTypes.TOPIC

async function topicLayout(brokers: string, prefix: string): Promise<Record<string, string>> {
  const admin = createKafka(brokers, 'test-stack').admin();
  await admin.connect();
  try {
    const names = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: TOPIC, name, configNames: ['cleanup.policy', 'retention.ms'] })),
    });
    const configs = new Map(resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]))]));
    return Object.fromEntries(
      topics.map((t) => {
        const c = configs.get(t.name)!;
        const policy = c['cleanup.policy'] === 'compact' ? 'compact' : `retention ${Number(c['retention.ms']) / 86_400_000}d`;
        return [t.name.slice(prefix.length), `${t.partitions.length} partitions, ${policy}`];
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

describe('startStack on a real Kafka', () => {
  const stack = useStack({ partitions: 3 });

  it('creates every Vigil topic with the asked partitions and retention; silences and _schemas compacted with one', async () => {
    const ns = `${stack.config.kafka.clientId}.`;
    expect(await topicLayout(stack.brokers, ns)).toEqual({
      metrics: '3 partitions, retention 7d',
      'metrics.dlq': '3 partitions, retention 7d',
      'metrics.late': '3 partitions, retention 7d',
      'metrics.rollup.1m': '3 partitions, retention 7d',
      'metrics.rollup.1h': '3 partitions, retention 7d',
      alerts: '3 partitions, retention 7d',
      'alerts.dlq': '3 partitions, retention 7d',
      silences: '1 partitions, compact',
      _schemas: '1 partitions, compact',
    });
  });

  it('serves the schema registry and hands the components a config pointing at both', async () => {
    const res = await fetch(`${stack.registryUrl}/subjects`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
    expect(stack.brokers).toBe(sharedKafkaBrokers());
    expect(stack.kafka).toBeUndefined();
    expect(stack.cluster).toBeUndefined();
    expect(stack.config.kafka.brokers).toBe(stack.brokers);
    expect(stack.config.schemaRegistry.url).toBe(stack.registryUrl);
  });

  it('with SCHEMA_REGISTRY_URL set too, starts nothing, ensures the topics there, and leaves both running on stop', async () => {
    const config = sharedBrokerConfig(testConfig());
    config.schemaRegistry.url = stack.registryUrl;
    const other = await startStack({ config, partitions: 2 });
    expect(other.kafka).toBeUndefined();
    expect(other.cluster).toBeUndefined();
    expect(other.registryUrl).toBe(stack.registryUrl);
    expect((await topicLayout(stack.brokers, `${config.kafka.clientId}.`)).metrics).toBe('2 partitions, retention 7d');
    await other.stop();
    expect((await fetch(`${stack.registryUrl}/subjects`)).status).toBe(200);
  });
});

describe('startStack, embedded broker', () => {
  it('starts a real broker in kafka.dataDir, refuses a second one there; a second start finds its topics and the registry its schema ids', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-stack-broker-'));
    const config = testConfig();
    try {
      const first = await startStack({ config, kafkaDataDir: dataDir, partitions: 2 });
      let id: number;
      try {
        expect(first.cluster).toBeDefined();
        expect(first.kafka).toBeUndefined();
        id = await sampleBatchSerde({ registry: first.registryUrl }).schemaId(config.topics.metrics);
        // One broker per data directory: a second stack there is refused, naming the process that has it.
        await expect(startStack({ config, kafkaDataDir: dataDir })).rejects.toThrow(`the Kafka data directory ${dataDir} is in use by process ${process.pid}`);
      } finally {
        await first.stop();
      }
      const second = await startStack({ config, kafkaDataDir: dataDir, partitions: 2 });
      try {
        expect(second.cluster!.clusterId).toBe(first.cluster!.clusterId);
        const subject = (await (await fetch(`${second.registryUrl}/subjects/${config.topics.metrics}-value/versions/latest`)).json()) as { id: number };
        expect(subject.id).toBe(id);
        expect((await topicLayout(second.brokers, `${config.kafka.clientId}.`)).metrics).toBe('2 partitions, retention 7d');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('runs the in-process mock with kafka.embedded: mock', async () => {
    const stack = await startStack({ config: testConfig({ kafka: { embedded: 'mock' } }) });
    try {
      expect(stack.kafka).toBeDefined();
      expect(stack.cluster).toBeUndefined();
      expect(stack.brokers).toBe(stack.kafka!.bootstrapServers);
    } finally {
      await stack.stop();
    }
  });
});

describe('stackTopics', () => {
  it('follows config.topics and does not repeat the recorded-rules topic', () => {
    const config = testConfig({ topics: { alerts: 'my-alerts' } }, 'ns');
    expect(stackTopics(config, 5).map((t) => `${t.name}:${t.partitions}${t.compacted ? ':compacted' : ''}`)).toEqual([
      'ns.metrics:5',
      'ns.metrics.dlq:5',
      'ns.metrics.late:5',
      'ns.metrics.rollup.1m:5',
      'ns.metrics.rollup.1h:5',
      'my-alerts:5',
      'ns.alerts.dlq:5',
      'ns.silences:1:compacted',
      'ns._schemas:1:compacted',
    ]);
  });
});
