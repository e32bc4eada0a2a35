/**
 * The settings of every topic Vigil creates, in one place, so that whichever component creates a topic
 * first creates it the same way (partitions, compaction, retention), and `ensureTopics` can check it.
 * Import from ./client.js.
 */
import type { VigilConfig } from '../config/config.js';
import { parseDurationMs } from '../dsl/duration.js';
import type { TopicPolicy, TopicSpec } from './ensure-topics.js';

/** The kinds of topics Vigil writes. */
export type TopicKind =
  /** Sample and rollup streams, their side topics and internal repartition topics: retention kafka.retention.metrics. */
  | 'metrics'
  /** Alert events and their dead letters: retention kafka.retention.alerts. */
  | 'alerts'
  /** State that must keep the latest value per key for ever (changelogs, schemas, silences, rule sets). */
  | 'compacted';

/** The spec of a topic of `kind` named `name` (partitions: config.kafka.partitions unless given). */
export function topicSpec(config: VigilConfig, name: string, kind: TopicKind, partitions = config.kafka.partitions): TopicSpec {
  if (kind === 'compacted') return { name, partitions, compacted: true };
  const retention = kind === 'alerts' ? config.kafka.retention.alerts : config.kafka.retention.metrics;
  return { name, partitions, configs: { 'retention.ms': String(parseDurationMs(retention)) } };
}

/** The spec of a stream topic Vigil writes or reads, by name: alert topics keep alert retention, others metrics'. */
export function streamTopicSpec(config: VigilConfig, name: string, partitions = config.kafka.partitions): TopicSpec {
  const alerts = name === config.topics.alerts || name === config.topics.alertsDlq;
  return topicSpec(config, name, alerts ? 'alerts' : 'metrics', partitions);
}

/** Vigil's shared topics (contracts.md) and the registry's `_schemas`: what `vigil stack` makes sure of. */
export function vigilTopics(config: VigilConfig, partitions = config.kafka.partitions): TopicSpec[] {
  const t = config.topics;
  const specs = new Map<string, TopicSpec>();
  for (const name of [t.metrics, t.metricsDlq, t.metricsLate, t.rollup1m, t.rollup1h, t.recorded]) specs.set(name, topicSpec(config, name, 'metrics', partitions));
  for (const name of [t.alerts, t.alertsDlq]) specs.set(name, topicSpec(config, name, 'alerts', partitions));
  specs.set(t.silences, silencesTopic(config));
  specs.set(config.schemaRegistry.topic, topicSpec(config, config.schemaRegistry.topic, 'compacted', 1));
  return [...specs.values()];
}

/** The `silences` topic: one partition (one order of silence and ack events), compacted by key. */
export function silencesTopic(config: VigilConfig): TopicSpec {
  return topicSpec(config, config.topics.silences, 'compacted', 1);
}

/** The replication settings of config.kafka for ensureTopics. */
export function topicPolicy(config: VigilConfig): TopicPolicy {
  return {
    ...(config.kafka.replicationFactor !== undefined ? { replicationFactor: config.kafka.replicationFactor } : {}),
    ...(config.kafka.minInsyncReplicas !== undefined ? { minInsyncReplicas: config.kafka.minInsyncReplicas } : {}),
  };
}
