/**
 * `clusterIncarnation`: which life of the Kafka cluster a client is talking to. Import from ./client.js.
 *
 * The embedded Kafka forgets every topic and offset when its process ends, while LevelDB state (windows,
 * alert state, stored input offsets) survives. A component stores the incarnation next to its offsets and,
 * when it changes, drops the stored input offsets (keeping the rest), so nothing new is skipped as
 * "already processed".
 *
 * Embedded Kafka: `<clusterId>/<incarnation>`, the incarnation being the random id each start announces
 * in its beacon topic (embedded-beacon.ts); the mock's own cluster id is derived from a heap address and
 * may repeat across starts. Real cluster: its cluster id, which stays the same for the life of the cluster.
 */
import type { Kafka } from 'kafkajs';
import { findBeacon } from './embedded-beacon.js';

/** The incarnation id of the cluster `kafka` points at: stable for one cluster life, new for a new one. */
export async function clusterIncarnation(kafka: Kafka): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { clusterId } = await admin.describeCluster();
    const beacon = findBeacon(await admin.listTopics());
    return beacon ? `${clusterId}/${beacon.incarnation}` : clusterId;
  } finally {
    await admin.disconnect();
  }
}
