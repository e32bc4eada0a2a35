/**
 * How a client in ANY process finds the control endpoint of an embedded Kafka (librdkafka mock).
 *
 * The problem: the mock implements no CreateTopics request (admin createTopics fails) and its only
 * topic-creation API is an in-process C call; a Metadata request for an unknown topic auto-creates it
 * with a fixed 4 partitions (librdkafka 2.0.2 hard-codes `defaults.partition_cnt = 4`, with no setting).
 * So a `vigil run` started against a `vigil stack` in another process could not get `metrics` with 8
 * partitions, and the user must set nothing but KAFKA_BROKERS.
 *
 * The solution: the process that owns the mock serves a tiny HTTP control endpoint on 127.0.0.1 (the
 * mock's listeners are loopback-only too, so clients are on the same host) and announces it IN the
 * cluster as an empty topic named `__vigil_embedded-<incarnation>-<port>`. A client reads it with one
 * Metadata request for all topics (admin.listTopics, which never auto-creates) and creates topics by
 * POSTing to the endpoint. A real cluster has no such topic, so the same code uses admin createTopics
 * there. The incarnation (random per start) also tells clients that the cluster is a new one, because
 * the mock forgets every topic and offset when its process ends (see cluster-incarnation.ts).
 */

/** Prefix of the beacon topic; the double underscore marks it internal, like __consumer_offsets. */
export const EMBEDDED_BEACON_PREFIX = '__vigil_embedded-';

const BEACON = /^__vigil_embedded-([0-9a-f]{16})-(\d{1,5})$/;

/** Where to reach the control endpoint of an embedded cluster. */
export interface EmbeddedBeacon {
  /** Random id of this start of the embedded cluster (16 hex digits). */
  incarnation: string;
  /** Base URL of the control endpoint, e.g. http://127.0.0.1:41234 */
  url: string;
}

/** The beacon topic name for an incarnation and control port. */
export function beaconTopic(incarnation: string, port: number): string {
  const name = `${EMBEDDED_BEACON_PREFIX}${incarnation}-${port}`;
  if (!BEACON.test(name)) throw new Error(`invalid beacon: incarnation "${incarnation}", port ${port}`);
  return name;
}

/** Finds the beacon among a cluster's topic names; undefined for a cluster that has none (a real one). */
export function findBeacon(topics: readonly string[]): EmbeddedBeacon | undefined {
  for (const topic of topics) {
    const m = BEACON.exec(topic);
    if (m) return { incarnation: m[1]!, url: `http://127.0.0.1:${m[2]}` };
  }
  return undefined;
}

/** True for topics that Vigil uses to describe the embedded cluster itself (hide them from listings). */
export function isBeaconTopic(topic: string): boolean {
  return topic.startsWith(EMBEDDED_BEACON_PREFIX);
}
