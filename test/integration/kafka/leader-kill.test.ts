/**
 * Broker failure on a real 3-node KRaft cluster (replication factor 3, min.insync.replicas 2): the leader
 * of a partition is killed with SIGKILL while records are produced and consumed.
 * - No acknowledged record is lost (every record whose send resolved is read back by an independent
 *   consumer, kcat), and producing carries on after a leader election.
 * - A consumer group carries on: it receives every acknowledged record.
 * - The engine carries on: its 1m rollups equal an uninterrupted run.
 * (On librdkafka's mock kafkajs lost 4 of 10,000 acknowledged records when a leader moved: see the note in
 * docs/kafka.md; this is the same scenario on the broker users run.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaCluster, type KafkaCluster } from '../../../src/dev/kafka-cluster.js';
import { startStack, type Stack } from '../../../src/dev/stack.js';
import { createKafka, ensureTopics, embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';
import { kcatConsumeAll } from '../../support/kcat.js';
import { testConfig } from '../../support/stack.js';
import { until } from '../../support/until.js';
import { collect, fixtureInput, oracle, publish, verify } from '../topology/rollup-fixture.js';

let cluster: KafkaCluster;
beforeAll(async () => {
  cluster = await startKafkaCluster({ nodes: 3, heapMb: 384 });
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
});

async function leaderOf(topic: string, partition: number): Promise<number> {
  const admin = createKafka(cluster.bootstrapServers, 'test-leader').admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
  } finally {
    await admin.disconnect();
  }
}

describe('a 3-node Kafka cluster losing a partition leader to SIGKILL', () => {
  it('loses no acknowledged record; producer and consumer group carry on', async () => {
    const topic = 'leader-kill';
    await ensureTopics(cluster.bootstrapServers, [{ name: topic, partitions: 3 }]);
    const kafka = createKafka(cluster.bootstrapServers, 'test-leader-kill');
    const received = new Set<string>();
    const consumer = kafka.consumer({ groupId: 'leader-kill-readers', ...embeddedConsumerDefaults });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.add(message.value!.toString()) });

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: string[] = [];
    const failed: string[] = [];
    let seq = 0;
    let stop = false;
    const producing = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 20 }, () => {
          const n = seq++;
          return { key: `key-${n % 60}`, value: `record-${n}` };
        });
        try {
          await producer.send({ topic, acks: -1, messages: batch });
          acked.push(...batch.map((m) => m.value));
        } catch {
          failed.push(...batch.map((m) => m.value));
        }
      }
    })();

    await until(() => acked.length >= 2000, 60_000, '2,000 acknowledged records');
    const victim = await leaderOf(topic, 0);
    await cluster.kill(victim);
    const ackedAtKill = acked.length;
    await until(() => acked.length >= ackedAtKill + 3000, 90_000, '3,000 more records acknowledged after the kill');
    expect(await leaderOf(topic, 0)).not.toBe(victim);
    await cluster.restart(victim);
    await until(() => acked.length >= ackedAtKill + 5000, 90_000, 'records acknowledged after the node came back');
    stop = true;
    await producing;
    await producer.disconnect();

    const stored = new Set((await kcatConsumeAll(cluster.bootstrapServers, topic)).map((r) => r.value));
    const lost = acked.filter((v) => !stored.has(v));
    const waited = await until(() => acked.every((v) => received.has(v)), 90_000, 'the consumer group to receive every acknowledged record').then(
      () => '',
      (err: Error) => err.message,
    );
    const notReceived = acked.filter((v) => !received.has(v));
    await consumer.disconnect();
    process.stdout.write(
      `leader kill: node ${victim} killed, ${acked.length} acknowledged, ${failed.length} failed sends, ${lost.length} acknowledged records lost, ` +
        `${notReceived.length} not received by the group${notReceived.length ? ` (e.g. ${notReceived.slice(0, 5).join(', ')})` : ''}\n`,
    );
    expect(lost).toEqual([]);
    expect(failed).toEqual([]);
    expect(waited).toBe('');
  }, 300_000);

  it('the engine carries on through the kill: its rollups equal an uninterrupted run', async () => {
    const config = { ...testConfig(), kafka: { ...testConfig().kafka, brokers: cluster.bootstrapServers } };
    let stack: Stack | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'vigil-leader-kill-'));
    let engine: Engine | undefined;
    try {
      stack = await startStack({ config, partitions: 2 });
      const input = fixtureInput({ sources: 4, perSource: 10, scrapes: 60, partitions: 2 });
      const expected = await oracle(input, 10_000);
      const kafka = createKafka(stack.brokers, 'leader-kill-engine');
      const out = await collect(kafka, stack.registryUrl, config.topics.rollup1m);
      engine = new Engine({ config: { ...stack.config, state: { dir } }, modules: [rollupModule({ hourly: false })], httpPort: null, commitIntervalMs: 200 });
      await engine.start();
      const app = `${config.kafka.clientId}-rollup-1m`;
      const half = input.length / 2;
      await publish(kafka, stack.registryUrl, input.slice(0, half), { perTick: 8, tickMs: 50 }, config.topics.metrics);
      const victim = await leaderOf(config.topics.metrics, 0);
      await cluster.kill(victim);
      await publish(kafka, stack.registryUrl, input.slice(half), { perTick: 8, tickMs: 50 }, config.topics.metrics);
      await until(() => (engine!.runtime(app)?.processed ?? 0) >= input.length, 120_000, 'the engine to process every record');
      expect(await out.waitFor(expected.size, 60_000)).toBe(true);
      await out.stop();
      expect(verify(expected, out.seen)).toMatchObject({ missing: 0, different: 0, unexpected: 0, conflicting_duplicates: 0, ok: true });
      await cluster.restart(victim);
    } finally {
      await engine?.stop();
      await stack?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
