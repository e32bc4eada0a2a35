import { describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '../../../src/kafka/client.js';
import { SampleBatchPublisher } from '../../../src/kafka/publisher.js';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import { contractSchema } from '../../../src/model/avro-schemas.js';
import type { RegistryClient } from '../../../src/model/registry-client.js';
import type { SampleBatch, Sample } from '../../../src/model/types.js';
import { useEmbeddedKafka } from '../../support/stack.js';
import { kcatRecords } from './kcat-records.js';

/** An in-process registry: this test is about Kafka outages, not the registry. */
const registry: RegistryClient = {
  register: async () => 1,
  schemaById: async () => contractSchema('sample-batch').text,
};

function samples(host: number, tick: number): Sample[] {
  return Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, labels: {}, timestamp: tick * 1000, value: host * 1000 + tick, kind: 'GAUGE' }));
}

describe('SampleBatchPublisher against the embedded Kafka', () => {
  const cluster = useEmbeddedKafka({ brokers: 1 });

  it('rides out a broker outage longer than kafkajs gives a request, losing nothing', async () => {
    await ensureTopics(cluster.bootstrapServers, [{ name: 'metrics', partitions: 2 }]);
    // kafkajs alone gives up after ~0.3 s here; the publisher's own retry budget must cover the rest.
    const kafka = createKafka(cluster.bootstrapServers, 'test-outage', { retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 } });
    const publisher = new SampleBatchPublisher({
      kafka,
      serde: sampleBatchSerde({ registry }),
      topic: 'metrics',
      maxInFlightBytes: 64 * 1024,
      retryBackoffMs: 100,
      retryBudgetMs: 60_000,
    });
    try {
      const published = new Set<string>();
      const publish = async (tick: number) => {
        for (let host = 0; host < 10; host++) {
          await publisher.publish({ host: `h${host}`, pool: 'p' }, samples(host, tick));
          published.add(`${host}/${tick}`);
        }
      };
      for (let tick = 0; tick < 5; tick++) await publish(tick);
      await publisher.flush();
      cluster.brokerDown(1);
      const during = (async () => {
        for (let tick = 5; tick < 60; tick++) await publish(tick);
      })();
      await new Promise((r) => setTimeout(r, 4000));
      // The buffer filled up and publish() is waiting rather than dropping.
      expect(publisher.saturated).toBe(true);
      expect(published.size).toBeLessThan(600);
      expect(publisher.stats.retries).toBeGreaterThan(0);
      cluster.brokerUp(1);
      await during;
      await publisher.flush();
      expect(publisher.stats).toMatchObject({ failedRecords: 0, bufferedBytes: 0 });
      expect(publisher.stats.records).toBeGreaterThanOrEqual(600);

      const stored = new Set<string>();
      const { type } = contractSchema('sample-batch');
      for (const r of await kcatRecords(cluster.bootstrapServers, 'metrics')) {
        const batch = type.fromBuffer(r.value.subarray(5)) as SampleBatch;
        stored.add(`${batch.source.host!.slice(1)}/${batch.samples[0]!.timestamp / 1000}`);
      }
      expect([...published].filter((k) => !stored.has(k))).toEqual([]);
    } finally {
      await publisher.close();
    }
  });
});
