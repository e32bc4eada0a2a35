import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../../src/dev/embedded-kafka.js';
import { createKafka, embeddedConsumerDefaults, startResilientConsumer, type ResilientConsumer } from '../../../src/kafka/client.js';

const SYNC_GROUP = 14;
const INVALID_REQUEST = 42;

describe('startResilientConsumer', () => {
  let cluster: EmbeddedKafka;
  let kafka: Kafka;
  beforeAll(async () => {
    cluster = await startEmbeddedKafka();
    kafka = createKafka(cluster.bootstrapServers, 'test-resilient');
    cluster.createTopic('crashy', 2);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'crashy', messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
  });
  afterAll(() => cluster?.stop());

  it('a plain kafkajs consumer dies for good on SyncGroup INVALID_REQUEST (the mock quirk)', async () => {
    cluster.pushRequestErrors(SYNC_GROUP, [INVALID_REQUEST]);
    const consumer = kafka.consumer({ groupId: 'g-plain', ...embeddedConsumerDefaults });
    const crashed = new Promise<{ restart: boolean; error: Error }>((resolve) => consumer.on(consumer.events.CRASH, (e) => resolve(e.payload)));
    await consumer.connect();
    await consumer.subscribe({ topic: 'crashy', fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    const payload = await crashed;
    expect(payload.restart).toBe(false);
    expect((payload.error as { type?: string }).type).toBe('INVALID_REQUEST');
    await consumer.disconnect();
  });

  // Replacement after the crash, with two members and full consumption: consumer-group.test.ts.

  it('does not start a replacement once stopped', async () => {
    cluster.pushRequestErrors(SYNC_GROUP, [INVALID_REQUEST]);
    let consumed = 0;
    let connected = false;
    let stopping: Promise<void> | undefined;
    const replaced = new Promise<void>((resolve) => {
      void startResilientConsumer(kafka, {
        config: { groupId: 'g-stop-during-restart', ...embeddedConsumerDefaults },
        subscribe: { topics: ['crashy'], fromBeginning: true },
        run: { eachMessage: async () => void consumed++ },
        restartDelayMs: 10,
        onConsumer: (consumer, generation) => {
          if (generation === 1) {
            consumer.on(consumer.events.CONNECT, () => void (connected = true));
            consumer.on(consumer.events.DISCONNECT, () => void (connected = false));
            stopping = handle.then((h) => h.stop());
            resolve();
          }
        },
      }).then((h) => resolveHandle(h));
    });
    let resolveHandle!: (h: ResilientConsumer) => void;
    const handle = new Promise<ResilientConsumer>((resolve) => (resolveHandle = resolve));
    await replaced;
    await stopping;
    const rc = await handle;
    await new Promise((r) => setTimeout(r, 500)); // a replacement left running would be connected by now
    expect(rc.restarts).toBe(1);
    expect(connected).toBe(false);
    expect(consumed).toBe(0);
  });

  it('gives up after more than maxRestarts crashes in a row and reports it', async () => {
    cluster.pushRequestErrors(SYNC_GROUP, [INVALID_REQUEST]);
    const fatal = new Promise<Error>((resolve) => {
      void startResilientConsumer(kafka, {
        config: { groupId: 'g-fatal', ...embeddedConsumerDefaults },
        subscribe: { topics: ['crashy'] },
        run: { eachMessage: async () => {} },
        maxRestarts: 0,
        restartDelayMs: 10,
        onFatal: resolve,
      });
    });
    expect(((await fatal) as { type?: string }).type).toBe('INVALID_REQUEST');
    cluster.clearRequestErrors(SYNC_GROUP);
  });
});
