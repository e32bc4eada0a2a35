/**
 * patches/kafkajs+2.2.4.patch: kafkajs' admin.fetchTopicOffsets (and ...ByTimestamp) must ride out a
 * partition leader's death like the producer does.
 *
 * Unpatched, they retry only UNKNOWN_TOPIC_OR_PARTITION and give up at once on a connection error or
 * NOT_LEADER, i.e. for the seconds a dead leader stays in the metadata. On a real 3-node cluster that made
 * the schema registry answer 500 ("connect ECONNREFUSED") right after a broker was killed
 * (test/integration/kafka/leader-kill.test.ts). Patched, they refresh the metadata and retry.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const createAdmin = require('kafkajs/src/admin') as (options: unknown) => {
  fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; high: string; low: string }>>;
  fetchTopicOffsetsByTimestamp(topic: string, ts?: number): Promise<Array<{ partition: number; offset: string }>>;
};
const { KafkaJSConnectionError } = require('kafkajs/src/errors') as { KafkaJSConnectionError: new (message: string, props?: unknown) => Error };
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };

const silentLogger = { namespace: () => silentLogger, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const NOT_LEADER = 6;

/** A cluster whose first two offset look-ups fail: the dead leader refuses connections, then has moved. */
function flakyCluster() {
  let calls = 0;
  let refreshes = 0;
  const cluster = {
    addTargetTopic: async () => undefined,
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => {
      refreshes++;
    },
    findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }],
    fetchTopicsOffset: async () => {
      calls++;
      if (calls === 1) throw new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
      if (calls === 2) throw createErrorFromCode(NOT_LEADER);
      return [{ topic: 't', partitions: [{ partition: 0, offset: '42' }] }];
    },
  };
  return { cluster, refreshes: () => refreshes };
}

describe('kafkajs admin offsets (patched)', () => {
  it('fetchTopicOffsets retries a connection error and NOT_LEADER after refreshing the metadata', async () => {
    const { cluster, refreshes } = flakyCluster();
    const admin = createAdmin({ logger: silentLogger, retry: { initialRetryTime: 1, retries: 5 }, cluster });
    expect(await admin.fetchTopicOffsets('t')).toEqual([{ partition: 0, offset: '42', high: '42', low: '42' }]);
    expect(refreshes()).toBe(2);
  });

  it('fetchTopicOffsetsByTimestamp too', async () => {
    const { cluster } = flakyCluster();
    const admin = createAdmin({ logger: silentLogger, retry: { initialRetryTime: 1, retries: 5 }, cluster });
    expect(await admin.fetchTopicOffsetsByTimestamp('t', 0)).toEqual([{ partition: 0, offset: '42' }]);
  });
});
