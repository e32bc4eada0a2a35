/**
 * patches/kafkajs+2.2.4.patch: kafkajs' producer must not acknowledge records it never wrote after a leader
 * moved (tulios/kafkajs PR #1798, never released).
 *
 * Unpatched, sendMessages remembers which BROKERS answered across retries. When a request to broker A fails
 * (NOT_LEADER: partition 0 moved to broker B) while B's request for partition 2 succeeded, the retry re-sends
 * only to brokers without an answer (A, which now leads nothing of 0), and partition 0's records, now led by
 * B, are never sent: send() resolves and the records are lost. Seen on a real 3-node cluster: 5-6 of ~25,000
 * acknowledged records missing after a leader was killed (test/integration/kafka/leader-kill.test.ts).
 * The patched sendMessages remembers which PARTITIONS were written, groups the messages once, and sends
 * every partition not yet written to its current leader.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const createSendMessages = require('kafkajs/src/producer/sendMessages') as (options: unknown) => (args: unknown) => Promise<Array<{ topicName: string; partition: number; errorCode: number }>>;
const { KafkaJSProtocolError } = require('kafkajs/src/errors') as { KafkaJSProtocolError: new (e: unknown) => Error };
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };

const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const NOT_LEADER = 6;

/** Two brokers; partition 0 moves from broker 1 to broker 2 after the first attempt. */
function fakeCluster() {
  const written: Array<{ broker: number; partition: number; values: string[] }> = [];
  let attempt = 0;
  const leaders = () => (attempt === 0 ? { 0: 1, 1: 1, 2: 2 } : { 0: 2, 1: 1, 2: 2 }) as Record<number, number>;
  const broker = (nodeId: number) => ({
    nodeId,
    produce: async ({ topicData }: { topicData: Array<{ topic: string; partitions: Array<{ partition: number; messages: Array<{ value: string }> }> }> }) => {
      const parts = topicData[0]!.partitions;
      // Broker 1 lost partition 0 in the first attempt: the whole request fails, as kafkajs' response parser does.
      if (nodeId === 1 && attempt === 0 && parts.some((p) => p.partition === 0)) throw createErrorFromCode(NOT_LEADER);
      for (const p of parts) written.push({ broker: nodeId, partition: p.partition, values: p.messages.map((m) => m.value) });
      return { topics: [{ topicName: 't', partitions: parts.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) }] };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const cluster = {
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => {
      attempt++;
    },
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    findTopicPartitionMetadata: () => [0, 1, 2].map((partitionId) => ({ partitionId, leader: leaders()[partitionId] })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (out[leaders()[p]!] ??= []).push(p);
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: number | string }) => brokers.get(Number(nodeId)),
  };
  return { cluster, written };
}

const eosManager = {
  isTransactional: () => false,
  acquireBrokerLock: async () => undefined,
  releaseBrokerLock: async () => undefined,
  getSequence: () => 0,
  updateSequence: () => undefined,
  getProducerId: () => -1,
  getProducerEpoch: () => 0,
};

/** A retrier that runs the function again on a thrown error (kafkajs' retrier, without the delays). */
const retrier = async <T>(fn: (bail: (e: Error) => never, retryCount: number, retryTime: number) => Promise<T>): Promise<T> => {
  for (let i = 0; ; i++) {
    try {
      return await fn((e) => {
        throw e;
      }, i, 0);
    } catch (e) {
      if (i >= 5) throw e;
    }
  }
};

describe('kafkajs sendMessages (patched)', () => {
  it('writes every partition after a leader moved between attempts, and only once', async () => {
    const { cluster, written } = fakeCluster();
    const send = createSendMessages({
      logger: silentLogger,
      cluster,
      eosManager,
      retrier,
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    });
    const messages = [0, 1, 2].flatMap((partition) => [0, 1].map((i) => ({ partition, value: `p${partition}-${i}` })));
    const result = await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages }] });

    const byPartition = new Map<number, string[]>();
    for (const w of written) byPartition.set(w.partition, [...(byPartition.get(w.partition) ?? []), ...w.values]);
    expect(byPartition.get(0)).toEqual(['p0-0', 'p0-1']); // unpatched: undefined (never sent, yet acknowledged)
    expect(byPartition.get(1)).toEqual(['p1-0', 'p1-1']);
    expect(byPartition.get(2)).toEqual(['p2-0', 'p2-1']); // written once: not re-sent after its success
    expect(written.find((w) => w.partition === 0)!.broker).toBe(2);
    expect(result.map((r) => r.partition).sort()).toEqual([0, 1, 2]);
    expect(KafkaJSProtocolError).toBeDefined();
  });
});
