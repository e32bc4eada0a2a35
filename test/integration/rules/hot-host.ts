/** The input both rules integration tests publish: one host of two running hot for four minutes. */
import type { Kafka } from 'kafkajs';
import { sampleBatchSerde } from '../../../src/model/serde.js';
import type { SampleBatch } from '../../../src/model/types.js';

/** Time of the first sample (a minute boundary). */
export const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

/**
 * Publishes 12 minutes of 10 s `cpu.load` scrapes of hosts a and b to `topic` (two sources, so
 * two partitions), source labels `{ host, ...source }`; host a is hot (0.97) from minute 2 to 6.
 */
export async function publishHotHost(kafka: Kafka, registryUrl: string, source: Record<string, string>, topic = 'metrics'): Promise<void> {
  const serde = sampleBatchSerde({ registry: registryUrl });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 72; i++) {
    const t = T0 + i * 10_000;
    for (const host of ['a', 'b']) {
      const hot = host === 'a' && t >= T0 + 120_000 && t < T0 + 360_000;
      const batch: SampleBatch = { source: { host, ...source }, samples: [{ name: 'cpu.load', labels: {}, timestamp: t, value: hot ? 0.97 : 0.4, kind: 'GAUGE' }] };
      messages.push({ key: `host=${host}`, value: await serde.encode(topic, batch) });
    }
  }
  await producer.send({ topic, messages, acks: -1 });
  await producer.disconnect();
}
