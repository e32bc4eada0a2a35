import { describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { createKafka, embeddedConsumerDefaults, startResilientConsumer, type ResilientConsumer } from '../../../src/kafka/client.js';
import { useEmbeddedKafka } from '../../support/stack.js';

const SYNC_GROUP = 14;
const INVALID_REQUEST = 42;
const TOPIC = 'grouped';
const ALL = [0, 1, 2, 3];
// Half the embedded session: the mock waits sessionTimeout - 1 s per rebalance, so this halves the test's time.
const QUICK_GROUP = { ...embeddedConsumerDefaults, sessionTimeout: 3000, heartbeatInterval: 500, rebalanceTimeout: 6000 };

/** Polls `cond` every 50 ms until true (the group protocol gives no single event to await for "balanced"). */
async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Member {
  handle: ResilientConsumer;
  assigned: number[];
  values: Set<string>;
}

describe('a consumer group of two on the embedded Kafka', () => {
  const cluster = useEmbeddedKafka();

  it('splits the partitions, survives the SyncGroup crash, and gives everything to the one left', async () => {
    cluster.createTopic(TOPIC, ALL.length);
    const kafka = createKafka(cluster.bootstrapServers, 'test-group');
    const producer = kafka.producer();
    await producer.connect();
    const produce = async (from: number, n: number) => {
      await producer.send({
        topic: TOPIC,
        messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })),
      });
    };

    const join = async (): Promise<Member> => {
      const member: Member = { handle: undefined as unknown as ResilientConsumer, assigned: [], values: new Set() };
      member.handle = await startResilientConsumer(kafka, {
        config: { groupId: 'g-two', ...QUICK_GROUP },
        subscribe: { topics: [TOPIC], fromBeginning: true },
        run: { eachMessage: async ({ message }) => void member.values.add(message.value!.toString()) },
        onConsumer: (consumer: Consumer) => {
          consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
            member.assigned = [...(payload.memberAssignment[TOPIC] ?? [])].sort();
          });
        },
        restartDelayMs: 50,
      });
      return member;
    };

    const a = await join();
    try {
      await until(() => a.assigned.length === ALL.length, 'the first member to own every partition');
      // Make the next SyncGroup fail as the mock's race does: kafkajs would stop that member for good.
      cluster.pushRequestErrors(SYNC_GROUP, [INVALID_REQUEST]);
      const b = await join();
      try {
        const balanced = () =>
          a.assigned.length > 0 &&
          b.assigned.length > 0 &&
          [...a.assigned, ...b.assigned].sort().join() === ALL.join();
        await until(balanced, 'both members to share the partitions');
        expect(a.handle.restarts + b.handle.restarts).toBeGreaterThanOrEqual(1);

        await produce(0, 200);
        await until(() => a.values.size + b.values.size >= 200, 'both members to consume the first 200 records');
        expect(a.values.size).toBeGreaterThan(0);
        expect(b.values.size).toBeGreaterThan(0);
        expect(new Set([...a.values, ...b.values]).size).toBe(200);
      } finally {
        await b.handle.stop();
        await b.handle.stop();
      }

      await until(() => a.assigned.join() === ALL.join(), 'the remaining member to own every partition again');
      await produce(200, 100);
      await until(() => [...a.values].filter((v) => Number(v.slice(1)) >= 200).length === 100, 'the remaining member to consume the rest');
    } finally {
      await a.handle.stop();
      await producer.disconnect();
    }
  });
});
