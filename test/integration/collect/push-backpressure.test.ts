import { afterAll, describe, expect, it } from 'vitest';
import { startPushServer } from '../../../src/collect/push/push-server.js';
import { createKafka, embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { SampleBatchPublisher } from '../../../src/kafka/publisher.js';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import type { SampleBatch } from '../../../src/model/types.js';
import { useMockStack } from '../../support/stack.js';
import { waitFor } from '../../collect/support/helpers.js';

// librdkafka's mock: its brokerDown/brokerUp is the fault this test is about.
const stack = useMockStack({ partitions: 2 });
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('push backpressure with the real publisher', () => {
  it('answers 503 + Retry-After while Kafka is unreachable and the buffer is full; loses nothing it accepted', async () => {
    const topic = stack.config.topics.metrics;
    const publisher = new SampleBatchPublisher({
      kafka: createKafka(stack.brokers, 'push-backpressure'),
      serde: sampleBatchSerde({ registry: stack.registryUrl }),
      topic,
      name: 'push-test',
      maxInFlightBytes: 32 * 1024,
    });
    cleanups.push(() => publisher.close());
    const server = await startPushServer({ publisher, tokens: ['t'], maxBodyBytes: 1 << 20, maxSeriesPerRequest: 10_000, port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const post = (i: number) =>
      fetch(`${server.url}/api/v2/write?precision=ms`, {
        method: 'POST',
        headers: { authorization: 'Token t' },
        body: Array.from({ length: 200 }, (_, k) => `bp,host=h${k % 10} req=${i},k=${k} ${1_700_000_000_000 + i}`).join('\n'),
      });
    // Registers the schema and connects while the broker is up.
    expect((await post(0)).status).toBe(204);
    await publisher.flush();

    stack.kafka.brokerDown(1);
    // Requests go in one after the other; one that does not answer within 300 ms is waiting for room
    // in the publisher (it is answered once Kafka is back). Once one waits, the next are refused.
    const accepted = [0];
    const waiting: Array<Promise<void>> = [];
    let refused: { index: number; res: Response } | undefined;
    for (let i = 1; i < 200 && !refused; i++) {
      const pending = post(i);
      const res = await Promise.race([pending, new Promise<undefined>((r) => setTimeout(() => r(undefined), 300))]);
      if (res === undefined) {
        waiting.push(pending.then((late) => {
          expect(late.status).toBe(204);
          accepted.push(i);
        }));
      } else if (res.status === 204) accepted.push(i);
      else refused = { index: i, res };
    }
    expect(refused?.res.status).toBe(503);
    expect(refused?.res.headers.get('retry-after')).toBe('1');
    expect(await refused!.res.json()).toEqual({ code: 'unavailable', message: 'publisher saturated: retry later' });
    expect(waiting.length).toBeGreaterThan(0);
    stack.kafka.brokerUp(1);
    await Promise.all(waiting);
    await publisher.flush();

    const serde = sampleBatchSerde({ registry: stack.registryUrl });
    const consumer = createKafka(stack.brokers, 'push-backpressure-reader').consumer({ groupId: 'push-backpressure-reader', ...embeddedConsumerDefaults });
    cleanups.push(() => consumer.disconnect());
    const seen = new Map<number, number>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const batch = (await serde.decode(message.value)) as SampleBatch;
        for (const s of batch.samples) if (s.name === 'bp_req') seen.set(s.value, (seen.get(s.value) ?? 0) + 1);
      },
    });
    await waitFor(() => accepted.every((i) => (seen.get(i) ?? 0) >= 200), 30_000, 'every accepted sample');
    // The refused request wrote nothing.
    expect(seen.get(refused!.index)).toBeUndefined();
  });
});
