/**
 * `ensureTopics`: make sure topics exist with the partitions, replication and settings Vigil needs, on a
 * real cluster and on the embedded mock alike, from any process. Import from ./client.js.
 *
 * Real cluster: admin createTopics with the replication factor, `min.insync.replicas`, `cleanup.policy` and
 * the spec's configs; then every topic (new or old) is checked against them: a topic that exists with
 * settings Vigil cannot work with (not compacted where it must be, fewer replicas or a lower
 * `min.insync.replicas` than wanted) fails with TopicSetupError naming each problem and its fix; other
 * differences (retention, fewer partitions) are logged as warnings and the topic is used as it is.
 * Embedded mock (librdkafka): it has no CreateTopics request and auto-creates unknown topics with 4
 * partitions, so topics are created through the control endpoint its owning process serves, found via
 * the beacon topic (embedded-beacon.ts); it has no configs, replication or compaction to check.
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { createKafka } from './create-kafka.js';
import { findBeacon, type EmbeddedBeacon } from './embedded-beacon.js';
import { embeddedControl } from './embedded-control-client.js';
import { componentLogger } from '../obs/logger.js';

/** A topic a component needs. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Log compaction (cleanup.policy=compact; otherwise delete). */
  compacted?: boolean;
  /** Further topic configs (e.g. retention.ms, max.message.bytes); checked with a warning on existing topics. */
  configs?: Readonly<Record<string, string>>;
}

/** Replication of the topics a call creates. */
export interface TopicPolicy {
  /** Default: the cluster's broker count, at most 3. */
  replicationFactor?: number;
  /** Default: the replication factor - 1, at least 1. */
  minInsyncReplicas?: number;
}

/** What `ensureTopics` found or did for one topic. */
export interface EnsuredTopic {
  name: string;
  /** The topic's actual partition count (may exceed the wanted one; never less without a warning). */
  partitions: number;
  /** It was missing and this call created it (a concurrent creator on a real cluster may have won). */
  created: boolean;
}

/** Topics could not be created or checked, or exist with settings Vigil cannot use; the message says which and why. */
export class TopicSetupError extends Error {
  readonly code = 'TOPIC_SETUP';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TopicSetupError';
  }
}

const TOPIC_RESOURCE = 2; // kafkajs ConfigResourceTypes.TOPIC

/**
 * Creates the missing topics of `topics` on the cluster at `brokers`, checks the settings of all of them,
 * and returns every topic's actual partition count. Idempotent and safe to run concurrently from several
 * processes. An existing topic with fewer partitions than wanted is left as it is (adding partitions
 * would move keys) and logged as a warning.
 */
export async function ensureTopics(brokers: string | readonly string[], topics: readonly TopicSpec[], policy: TopicPolicy = {}): Promise<EnsuredTopic[]> {
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
    const beacon = findBeacon([...existing]);
    if (beacon) {
      const missing = topics.filter((t) => !existing.has(t.name));
      const created = new Set(missing.length ? await createEmbedded(beacon, missing) : []);
      return await describe(admin, topics, created);
    }
    const replication = await replicationOf(admin, policy);
    const missing = topics.filter((t) => !existing.has(t.name));
    const created = new Set(missing.length ? await createReal(admin, missing, replication) : []);
    // Right after CreateTopics, a broker may not know a new topic yet (metadata propagates asynchronously).
    return await whileUnknown(async () => {
      const ensured = await describe(admin, topics, created);
      await checkSettings(admin, topics, replication);
      return ensured;
    });
  } catch (err) {
    if (err instanceof TopicSetupError) throw err;
    throw new TopicSetupError(`cannot set up topics ${topics.map((t) => `"${t.name}"`).join(', ')}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Runs `f` again (up to ~10 s) while the cluster answers UNKNOWN_TOPIC_OR_PARTITION (code 3). */
async function whileUnknown<T>(f: () => Promise<T>): Promise<T> {
  for (let delay = 100; ; delay *= 2) {
    try {
      return await f();
    } catch (err) {
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || delay > 5000) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
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

interface Replication {
  factor: number;
  minInsync: number;
}

async function replicationOf(admin: Admin, policy: TopicPolicy): Promise<Replication> {
  const { controller, brokers } = await admin.describeCluster();
  if (controller === null || !brokers.some((b) => b.nodeId === controller)) {
    throw new TopicSetupError(
      'the cluster reports no usable controller (a librdkafka mock cluster not started by Vigil?); create the topics beforehand',
    );
  }
  const factor = policy.replicationFactor ?? Math.min(3, brokers.length);
  const minInsync = policy.minInsyncReplicas ?? Math.max(1, factor - 1);
  if (factor > brokers.length) {
    throw new TopicSetupError(`replication factor ${factor} needs at least ${factor} brokers; the cluster has ${brokers.length} (set kafka.replicationFactor)`);
  }
  if (minInsync > factor) throw new TopicSetupError(`min.insync.replicas ${minInsync} is above the replication factor ${factor} (set kafka.minInsyncReplicas)`);
  return { factor, minInsync };
}

/** The configs a topic is created with (and checked against). */
function wantedConfigs(t: TopicSpec, replication: Replication): Record<string, string> {
  return {
    'cleanup.policy': t.compacted ? 'compact' : 'delete',
    'min.insync.replicas': String(replication.minInsync),
    ...(t.configs ?? {}),
  };
}

async function createEmbedded(beacon: EmbeddedBeacon, missing: readonly TopicSpec[]): Promise<string[]> {
  try {
    return await embeddedControl(beacon).createTopics(missing);
  } catch (err) {
    throw new TopicSetupError(`cannot create topics on the embedded Kafka: ${(err as Error).message}`, { cause: err });
  }
}

async function createReal(admin: Admin, missing: readonly TopicSpec[], replication: Replication): Promise<string[]> {
  const specs: ITopicConfig[] = missing.map((t) => ({
    topic: t.name,
    numPartitions: t.partitions,
    replicationFactor: replication.factor,
    configEntries: Object.entries(wantedConfigs(t, replication)).map(([name, value]) => ({ name, value })),
  }));
  try {
    // Not kafkajs's waitForLeaders: it gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers
    // while a new topic propagates; waitForLeaders below rides that out.
    await admin.createTopics({ waitForLeaders: false, topics: specs });
  } catch (err) {
    // A concurrent creator won the race for some topic: the checks below still hold.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  await waitForLeaders(admin, missing.map((t) => t.name));
  return missing.map((t) => t.name);
}

/** Polls Metadata until every partition of `names` has a leader (up to ~30 s). */
async function waitForLeaders(admin: Admin, names: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const waiting = topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0)).map((t) => t.name);
      if (waiting.length === 0) return;
      last = `no leader yet for ${waiting.join(', ')}`;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new TopicSetupError(`topics ${names.map((n) => `"${n}"`).join(', ')} were created but have no leaders after 30 s (${last})`);
    await new Promise((r) => setTimeout(r, delay));
  }
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

/** Settings whose difference makes a topic unusable for Vigil (an error), with why they matter. */
const REQUIRED: Readonly<Record<string, string>> = {
  'cleanup.policy': 'compaction keeps the latest value of every key (changelogs, schemas, silences); deletion by retention would lose state',
};

async function checkSettings(admin: Admin, topics: readonly TopicSpec[], replication: Replication): Promise<void> {
  const log = componentLogger('kafka-topics');
  const problems: string[] = [];
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
  for (const m of metadata) {
    const replicas = Math.min(...m.partitions.map((p) => p.replicas.length));
    if (replicas < replication.factor) {
      problems.push(`topic "${m.name}" has ${replicas} replica(s), Vigil needs ${replication.factor} (kafka.replicationFactor): reassign its partitions (kafka-reassign-partitions.sh) or recreate it`);
    }
  }
  const wanted = new Map(topics.map((t) => [t.name, wantedConfigs(t, replication)]));
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((t) => ({ type: TOPIC_RESOURCE, name: t.name, configNames: Object.keys(wanted.get(t.name)!) })),
  });
  for (const r of described.resources) {
    const want = wanted.get(r.resourceName) ?? {};
    for (const entry of r.configEntries) {
      const expected = want[entry.configName];
      if (expected === undefined || entry.configValue === expected) continue;
      const fix = `kafka-configs.sh --alter --entity-type topics --entity-name ${r.resourceName} --add-config ${entry.configName}=${expected}`;
      if (entry.configName in REQUIRED) {
        problems.push(`topic "${r.resourceName}" has ${entry.configName}=${entry.configValue}, Vigil needs ${expected} (${REQUIRED[entry.configName]}): ${fix}`);
      } else if (entry.configName === 'min.insync.replicas' && Number(entry.configValue) < Number(expected)) {
        problems.push(`topic "${r.resourceName}" has min.insync.replicas=${entry.configValue}, Vigil needs at least ${expected} (an acknowledged write must survive a broker loss): ${fix}`);
      } else {
        log.warn({ topic: r.resourceName, config: entry.configName, actual: entry.configValue, wanted: expected, fix }, 'topic setting differs from Vigil\'s configuration; using the topic as it is');
      }
    }
  }
  if (problems.length) throw new TopicSetupError(`topics exist with settings Vigil cannot use:\n  ${problems.join('\n  ')}`);
}
