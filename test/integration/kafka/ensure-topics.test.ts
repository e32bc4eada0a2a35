import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../../src/dev/embedded-kafka.js';
import { clusterIncarnation, connectEmbeddedControl, createKafka, ensureTopics, TopicSetupError } from '../../../src/kafka/client.js';
import { spawnTs, type Child } from '../../support/child-process.js';
import { sharedKafkaBrokers, uniqueName } from '../../support/kafka.js';

const TOPIC = 2; // kafkajs ConfigResourceTypes.TOPIC

async function topicConfig(brokers: string, topic: string, names: string[]): Promise<Record<string, string>> {
  const admin = createKafka(brokers, 'test-configs').admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: topic, configNames: names }] });
    return Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}

describe('ensureTopics on a real Kafka broker', () => {
  it('creates topics with partitions, replication, compaction and configs, then is a no-op', async () => {
    const brokers = sharedKafkaBrokers();
    const metrics = uniqueName('metrics');
    const changelog = uniqueName('changelog');
    const specs = [
      { name: metrics, partitions: 3, configs: { 'retention.ms': '3600000' } },
      { name: changelog, partitions: 2, compacted: true },
    ];
    expect(await ensureTopics(brokers, specs)).toEqual([
      { name: metrics, partitions: 3, created: true },
      { name: changelog, partitions: 2, created: true },
    ]);
    expect(await topicConfig(brokers, metrics, ['cleanup.policy', 'retention.ms', 'min.insync.replicas'])).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': '3600000',
      'min.insync.replicas': '1',
    });
    expect((await topicConfig(brokers, changelog, ['cleanup.policy']))['cleanup.policy']).toBe('compact');
    expect(await ensureTopics(brokers, specs)).toEqual([
      { name: metrics, partitions: 3, created: false },
      { name: changelog, partitions: 2, created: false },
    ]);
  });

  it('refuses a topic that exists uncompacted where compaction is needed, naming the fix', async () => {
    const brokers = sharedKafkaBrokers();
    const name = uniqueName('changelog');
    await ensureTopics(brokers, [{ name, partitions: 1 }]);
    const err = await ensureTopics(brokers, [{ name, partitions: 1, compacted: true }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TopicSetupError);
    expect((err as Error).message).toContain(`topic "${name}" has cleanup.policy=delete, Vigil needs compact`);
    expect((err as Error).message).toContain(`kafka-configs.sh --alter --entity-type topics --entity-name ${name} --add-config cleanup.policy=compact`);
  });

  it('uses a topic whose retention differs (a warning), and refuses a replication factor above the broker count', async () => {
    const brokers = sharedKafkaBrokers();
    const name = uniqueName('metrics');
    await ensureTopics(brokers, [{ name, partitions: 1, configs: { 'retention.ms': '1000000' } }]);
    expect(await ensureTopics(brokers, [{ name, partitions: 1, configs: { 'retention.ms': '2000000' } }])).toEqual([{ name, partitions: 1, created: false }]);
    await expect(ensureTopics(brokers, [{ name: uniqueName('x'), partitions: 1 }], { replicationFactor: 3 })).rejects.toThrow(
      /replication factor 3 needs at least 3 brokers; the cluster has 1/,
    );
  });

  it('names the cluster id as its incarnation', async () => {
    const kafka = createKafka(sharedKafkaBrokers(), 'test-incarnation');
    const admin = kafka.admin();
    await admin.connect();
    const { clusterId } = await admin.describeCluster();
    await admin.disconnect();
    expect(await clusterIncarnation(kafka)).toBe(clusterId);
  });
});

async function partitionCount(brokers: string, topic: string): Promise<number> {
  const admin = createKafka(brokers, 'test-metadata').admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

describe('ensureTopics and clusterIncarnation on the mock, same process', () => {
  let cluster: EmbeddedKafka;
  beforeAll(async () => {
    cluster = await startEmbeddedKafka({ brokers: 2 });
  });
  afterAll(() => cluster?.stop());

  it('creates missing topics with their partition counts, then is a no-op', async () => {
    const specs = [
      { name: 'metrics', partitions: 8 },
      { name: '_schemas', partitions: 1, compacted: true },
    ];
    expect(await ensureTopics(cluster.bootstrapServers, specs)).toEqual([
      { name: 'metrics', partitions: 8, created: true },
      { name: '_schemas', partitions: 1, created: true },
    ]);
    expect(await partitionCount(cluster.bootstrapServers, 'metrics')).toBe(8);
    expect(await ensureTopics(cluster.bootstrapServers, specs)).toEqual([
      { name: 'metrics', partitions: 8, created: false },
      { name: '_schemas', partitions: 1, created: false },
    ]);
  });

  it('reports the real count of a topic the mock auto-created with 4 partitions', async () => {
    const producer = createKafka(cluster.bootstrapServers, 'test-auto').producer();
    await producer.connect();
    await producer.send({ topic: 'auto-created', messages: [{ value: 'x' }] });
    await producer.disconnect();
    expect(await ensureTopics(cluster.bootstrapServers, [{ name: 'auto-created', partitions: 12 }])).toEqual([
      { name: 'auto-created', partitions: 4, created: false },
    ]);
  });

  it('rejects bad specs with TopicSetupError', async () => {
    await expect(ensureTopics(cluster.bootstrapServers, [{ name: 'a b', partitions: 1 }])).rejects.toThrow(TopicSetupError);
    await expect(ensureTopics(cluster.bootstrapServers, [{ name: 'x', partitions: 0 }])).rejects.toThrow(/positive integer/);
  });

  it('gives the same incarnation for the same cluster and a different one for a new cluster', async () => {
    const kafka = createKafka(cluster.bootstrapServers, 'test-incarnation');
    const first = await clusterIncarnation(kafka);
    expect(first).toMatch(new RegExp(`/${cluster.incarnation}$`));
    expect(await clusterIncarnation(kafka)).toBe(first);
    const other = await startEmbeddedKafka();
    try {
      expect(await clusterIncarnation(createKafka(other.bootstrapServers, 'test-incarnation'))).not.toBe(first);
    } finally {
      await other.stop();
    }
  });

  it('explains why it cannot create topics on a mock without the control endpoint', async () => {
    const bare = await startEmbeddedKafka({ control: false });
    try {
      await expect(ensureTopics(bare.bootstrapServers, [{ name: 'metrics', partitions: 8 }])).rejects.toThrow(
        /no usable controller/,
      );
      expect(await connectEmbeddedControl(bare.bootstrapServers)).toBeUndefined();
    } finally {
      await bare.stop();
    }
  });
});

describe('ensureTopics against an embedded Kafka owned by another process', () => {
  let child: Child;
  let bootstrap: string;
  let incarnation: string;
  beforeAll(async () => {
    child = spawnTs('test/support/embedded-kafka-child.ts');
    bootstrap = (await child.waitFor(/BOOTSTRAP=(\S+)\n/))[1]!;
    incarnation = (await child.waitFor(/INCARNATION=(\S+)\n/))[1]!;
  });
  afterAll(async () => {
    if (child) expect(await child.stop()).toBe(0);
  });

  it('creates topics with partition counts through the control endpoint found in the cluster', async () => {
    const result = await ensureTopics(bootstrap, [
      { name: 'metrics', partitions: 6 },
      { name: 'alerts', partitions: 2 },
    ]);
    expect(result.map((t) => [t.name, t.partitions, t.created])).toEqual([
      ['metrics', 6, true],
      ['alerts', 2, true],
    ]);
    expect(await partitionCount(bootstrap, 'metrics')).toBe(6);
    expect(await clusterIncarnation(createKafka(bootstrap, 'test-incarnation'))).toMatch(new RegExp(`/${incarnation}$`));
  });
});
