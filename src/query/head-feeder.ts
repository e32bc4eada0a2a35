/**
 * Feeds the head from the `metrics` topic: a consumer group of its own per process (so every
 * engine instance's head sees all partitions), reading from the start of what Kafka retains and
 * keeping only what is newer than the head's retention. Dead letters are the engine's business;
 * here an undecodable record is only skipped (the engine routes it to `metrics.dlq`).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { startResilientConsumer, type ResilientConsumer } from '../kafka/client.js';
import { SampleBatchDecoder } from '../model/sample-batch-decoder.js';
import type { Logger } from '../obs/logger.js';
import type { Head } from './head.js';

export interface HeadFeederOptions {
  kafka: Kafka;
  topic: string;
  registryUrl: string;
  head: Head;
  consumer?: Record<string, unknown>;
  logger: Logger;
}

export async function startHeadFeeder(options: HeadFeederOptions): Promise<ResilientConsumer> {
  const decoder = new SampleBatchDecoder({ registry: options.registryUrl });
  let sinceTrim = 0;
  return startResilientConsumer(options.kafka, {
    config: { ...(options.consumer ?? {}), groupId: `vigil-query-head-${randomUUID()}` },
    subscribe: { topics: [options.topic], fromBeginning: true },
    run: {
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          try {
            const { batch: decoded } = await decoder.decode({ topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value });
            options.head.append(decoded);
          } catch (err) {
            options.logger.debug({ err, offset: message.offset }, 'head: record skipped');
          }
        }
        if (++sinceTrim >= 100) {
          sinceTrim = 0;
          options.head.trim();
        }
      },
    },
  });
}
