/**
 * Feeds the head from the `metrics` topic: a consumer group of its own per process (so every
 * engine instance's head sees all partitions), starting at the offsets of the head's retention
 * (Kafka's offsets for a timestamp: now - retention - lookback), not at the start of what Kafka
 * retains. Dead letters are the engine's business; here an undecodable record is only skipped (the
 * engine routes it to `metrics.dlq`). The head is trimmed every `trimEveryMs`.
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
  now?: () => number;
  /** Default 10 s. */
  trimEveryMs?: number;
}

/** Samples this much older than the retention are still read, for the lookback of the oldest steps. */
const MARGIN_MS = 5 * 60_000;

/**
 * Per partition, the first offset whose record is at or after `since` (ms); none where no record
 * is. A broker that ignores the timestamp of a ListOffsets request (librdkafka's mock answers the
 * end for any time) is detected by asking for time 0, which must give the first offset: then every
 * partition starts at its first offset, and the head's trimming bounds what it keeps.
 */
export async function offsetsSince(kafka: Kafka, topic: string, since: number, logger?: Logger): Promise<Array<{ partition: number; offset: string }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [bounds, atZero, found] = [await admin.fetchTopicOffsets(topic), await admin.fetchTopicOffsetsByTimestamp(topic, 0), await admin.fetchTopicOffsetsByTimestamp(topic, since)];
    const ignoresTime = bounds.some((b) => b.low !== b.high && atZero.find((z) => z.partition === b.partition)?.offset !== b.low);
    if (ignoresTime) {
      logger?.warn({ topic }, 'the broker does not look offsets up by time: the query head reads the topic from its start');
      return bounds.map((b) => ({ partition: b.partition, offset: b.low }));
    }
    return found.filter((o) => o.offset !== '-1').map((o) => ({ partition: o.partition, offset: o.offset }));
  } finally {
    await admin.disconnect();
  }
}

export async function startHeadFeeder(options: HeadFeederOptions): Promise<ResilientConsumer> {
  const now = options.now ?? Date.now;
  const decoder = new SampleBatchDecoder({ registry: options.registryUrl });
  const start = await offsetsSince(options.kafka, options.topic, now() - options.head.retention - MARGIN_MS, options.logger);
  let trimmedAt = now();
  const feeder = await startResilientConsumer(options.kafka, {
    config: { ...(options.consumer ?? {}), groupId: `vigil-query-head-${randomUUID()}` },
    // Partitions without a record in the window start at their end (a fresh group's default).
    subscribe: { topics: [options.topic], fromBeginning: false },
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
        if (now() - trimmedAt >= (options.trimEveryMs ?? 10_000)) {
          trimmedAt = now();
          options.head.trim();
        }
      },
    },
  });
  for (const { partition, offset } of start) feeder.consumer.seek({ topic: options.topic, partition, offset });
  return feeder;
}
