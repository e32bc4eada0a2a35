/**
 * `ensureTopics`: make sure topics exist with (at least) the wanted partition counts, on a real cluster
 * and on the embedded Kafka alike, from any process. Import from ./client.js.
 *
 * Real cluster: admin createTopics (compacted topics get cleanup.policy=compact).
 * Embedded Kafka (librdkafka mock): it has no CreateTopics request and auto-creates unknown topics with
 * 4 partitions, so topics are created through the control endpoint its owning process serves, found via
 * the beacon topic (why and how: embedded-beacon.ts). The lookup uses only all-topics Metadata requests,
 * which never auto-create a topic behind our back.
 */
import type { Admin } from 'kafkajs';
import { createKafka } from './create-kafka.js';
import { findBeacon, type EmbeddedBeacon } from './embedded-beacon.js';
import { embeddedControl } from './embedded-control-client.js';
import { componentLogger } from '../obs/logger.js';

/** A topic a component needs. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Log compaction (real clusters only: the embedded Kafka never compacts). */
  compacted?: boolean;
}

/** What `ensureTopics` found or did for one topic. */
export interface EnsuredTopic {
  name: string;
  /** The topic's actual partition count (may exceed the wanted one; never less without a warning). */
  partitions: number;
  /** It was missing and this call created it (a concurrent creator on a real cluster may have won). */
  created: boolean;
}

/** Topics could not be created or checked; the message says which and why. */
export class TopicSetupError extends Error {
  readonly code = 'TOPIC_SETUP';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TopicSetupError';
  }
}

/**
 * Creates the missing topics of `topics` on the cluster at `brokers` and returns every topic's actual
 * partition count. Idempotent and safe to run concurrently from several processes. An existing topic with
 * fewer partitions than wanted is left as it is (adding partitions would move keys) and logged as a warning.
 */
export async function ensureTopics(brokers: string | readonly string[], topics: readonly TopicSpec[]): Promise<EnsuredTopic[]> {
  for (const t of topics) validate(t);
  if (topics.length === 0) return [];
  let admin: Admin;
  try {
    admin = createKafka(brokers, 'vigil-ensure-topics').admin();
  } catch (err) {
    throw new TopicSetupError((err as Error).message, { cause: err });
  }
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    const created = new Set<string>();
    if (missing.length > 0) {
      const beacon = findBeacon([...existing]);
      const names = beacon ? await createEmbedded(beacon, missing) : await createReal(admin, missing);
      for (const n of names) created.add(n);
    }
    return await describe(admin, topics, created);
  } catch (err) {
    if (err instanceof TopicSetupError) throw err;
    throw new TopicSetupError(`cannot set up topics ${topics.map((t) => `"${t.name}"`).join(', ')}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await admin.disconnect();
  }
}

function validate(t: TopicSpec): void {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(t.name)) {
    throw new TopicSetupError(`invalid topic name "${t.name}": use 1 to 249 of [a-zA-Z0-9._-]`);
  }
  if (!Number.isInteger(t.partitions) || t.partitions < 1) {
    throw new TopicSetupError(`topic "${t.name}": partitions must be a positive integer, got ${t.partitions}`);
  }
}

async function createEmbedded(beacon: EmbeddedBeacon, missing: readonly TopicSpec[]): Promise<string[]> {
  try {
    return await embeddedControl(beacon).createTopics(missing);
  } catch (err) {
    throw new TopicSetupError(`cannot create topics on the embedded Kafka: ${(err as Error).message}`, { cause: err });
  }
}

async function createReal(admin: Admin, missing: readonly TopicSpec[]): Promise<string[]> {
  const { controller, brokers } = await admin.describeCluster();
  if (controller === null || !brokers.some((b) => b.nodeId === controller)) {
    throw new TopicSetupError(
      `cannot create topics ${missing.map((t) => `"${t.name}"`).join(', ')}: the cluster reports no usable controller ` +
        '(a librdkafka mock cluster not started by Vigil?); create them beforehand',
    );
  }
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      ...(t.compacted ? { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] } : {}),
    })),
  });
  // createTopics returns false when another process won the race; the metadata check below still holds.
  return missing.map((t) => t.name);
}

async function describe(admin: Admin, topics: readonly TopicSpec[], created: ReadonlySet<string>): Promise<EnsuredTopic[]> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
  const counts = new Map(metadata.map((m) => [m.name, m.partitions.length]));
  const log = componentLogger('kafka-topics');
  return topics.map((t) => {
    const partitions = counts.get(t.name) ?? 0;
    if (partitions < t.partitions) {
      log.warn({ topic: t.name, wanted: t.partitions, actual: partitions }, 'topic has fewer partitions than wanted');
    }
    return { name: t.name, partitions, created: created.has(t.name) };
  });
}
