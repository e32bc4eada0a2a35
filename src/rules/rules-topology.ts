/**
 * Builds the rules topology: source(metrics [+ recorded topic]) -> RulesProcessor -> sinks
 * (`alerts` keyed by fingerprint with the event id as output id; recorded SampleBatches).
 * The same function serves production (Avro serdes, SampleBatchDecoder) and `vigil rules test`
 * (JSON serdes on the TopologyTestDriver).
 */
import type { RecordDecoder, SourcePrepare } from '../topology/topology.js';
import { Topology } from '../topology/topology.js';
import type { ProcessorContext, Serde, StreamRecord } from '../topology/api.js';
import { jsonSerde, stringSerde } from '../topology/serdes.js';
import { SeriesTable, allocateColumns, type DecodedBatch } from '../model/decoded-batch.js';
import { seriesIdentity, hash64 } from '../model/series.js';
import type { AlertEvent, SampleBatch } from '../model/types.js';
import { METRIC_KINDS } from '../model/types.js';
import { ALERTS_CHILD, RECORDED_CHILD, REPARTITION_CHILD, RULES_STATE_STORE, RulesModule, RulesProcessor, RulesRouterProcessor, rulesStateCodec } from './rules-processor.js';
import { keyValueStoreDefinition } from '../state/stores.js';

export interface RulesTopologyOptions {
  applicationId: string;
  module: RulesModule;
  /** Input topic of samples (default `metrics`). */
  metricsTopic?: string;
  /** Where alert events go (default `alerts`). */
  alertsTopic?: string;
  /** Where recording rules publish (default = metricsTopic); read back so rules can select them. */
  recordedTopic?: string;
  lateTopic?: string;
  dlqTopic?: string;
  decode: RecordDecoder<unknown, DecodedBatch>;
  /** Async step before records are decoded (fetch writer schemas / output schema ids). */
  prepare?: SourcePrepare;
  alertSerde: Serde<AlertEvent>;
  sampleBatchSerde: Serde<SampleBatch>;
  /** Wall time without records after which an idle task's stream time follows the wall clock (default 60 s). */
  idleMs?: number;
  /**
   * Evaluate every rule-level group in one task: samples go through the repartition topic
   * `<applicationId>-groups-repartition` keyed by group. Default false: each task evaluates the
   * samples of its own input partition (exact for groups within one source, e.g. by host).
   */
  repartition?: boolean;
  /** Partitions of the input (repartitioned mode): stage 2 waits for the stream time of all of them. */
  inputPartitions?: number;
}

export const RULES_PROCESSOR = 'rules';

export function buildRulesTopology(o: RulesTopologyOptions): Topology {
  const metrics = o.metricsTopic ?? 'metrics';
  const recorded = o.recordedTopic ?? metrics;
  const topology = new Topology({
    applicationId: o.applicationId,
    ...(o.lateTopic ? { lateTopic: o.lateTopic } : {}),
    ...(o.dlqTopic ? { dlqTopic: o.dlqTopic } : {}),
  });
  const topics = recorded === metrics ? [metrics] : [metrics, recorded];
  topology.addSource('rules-source', topics, o.decode, o.prepare ? { prepare: o.prepare } : {});
  topology.addStore(keyValueStoreDefinition(RULES_STATE_STORE, { codec: rulesStateCodec }));
  if (o.repartition ?? false) {
    const repartitionTopic = `${o.applicationId}-groups-repartition`;
    topology.addProcessor('rules-router', () => new RulesRouterProcessor(o.module), ['rules-source']);
    topology.addSink(REPARTITION_CHILD, repartitionTopic, { key: stringSerde as Serde<string>, value: jsonSerde<SampleBatch>() }, ['rules-router']);
    topology.internalTopics.add(repartitionTopic);
    topology.addSource('rules-groups-source', [repartitionTopic], jsonSampleBatchDecoder());
    topology.addProcessor(RULES_PROCESSOR, () => new RulesProcessor(o.module, o.idleMs, true, o.inputPartitions ?? 0), ['rules-groups-source'], [RULES_STATE_STORE]);
  } else {
    topology.addProcessor(RULES_PROCESSOR, () => new RulesProcessor(o.module, o.idleMs), ['rules-source'], [RULES_STATE_STORE]);
  }
  topology.addSink(ALERTS_CHILD, o.alertsTopic ?? 'alerts', {
    key: stringSerde as Serde<string>,
    value: o.alertSerde,
    idOf: (r: StreamRecord<string, AlertEvent>) => r.value.event_id,
  }, [RULES_PROCESSOR]);
  topology.addSink(RECORDED_CHILD, recorded, {
    key: stringSerde as Serde<string>,
    value: o.sampleBatchSerde,
    idOf: (r: StreamRecord<string, SampleBatch>) => hash64(`${r.timestamp}|${JSON.stringify(r.value.samples)}`).key,
  }, [RULES_PROCESSOR]);
  return topology;
}

/**
 * Turns a SampleBatch into the columnar DecodedBatch the rules consume (series interned in `table`).
 * Used by the JSON decoder of `vigil rules test`; production decodes Avro with SampleBatchDecoder.
 */
export function toDecodedBatch(batch: SampleBatch, table: SeriesTable, origin: DecodedBatch['origin']): DecodedBatch {
  const n = batch.samples.length;
  const cols = allocateColumns(n);
  batch.samples.forEach((s, i) => {
    const info = table.intern(seriesIdentity(s.name, { ...batch.source, ...s.labels }));
    cols.seriesRefs[i] = info.ref;
    cols.timestamps[i] = s.timestamp;
    cols.values[i] = s.value;
    cols.kinds[i] = Math.max(0, METRIC_KINDS.indexOf(s.kind ?? 'UNKNOWN'));
  });
  return { origin, length: n, ...cols, series: table, totalSamples: n };
}

/**
 * A decoder of JSON SampleBatch records (the test driver's wire format). The record's event time is
 * its newest sample, or the Kafka timestamp for an empty batch (used to move stream time).
 */
export function jsonSampleBatchDecoder(table = new SeriesTable()): RecordDecoder<unknown, DecodedBatch> {
  return (raw, ctx: ProcessorContext) => {
    let batch: SampleBatch;
    try {
      batch = JSON.parse(raw.value!.toString('utf8')) as SampleBatch;
    } catch (err) {
      ctx.sendToSideTopic('metrics.dlq', 'undecodable', raw.key, raw.value);
      return null;
    }
    const decoded = toDecodedBatch(batch, table, { topic: raw.topic, partition: raw.partition, offset: raw.offset, key: raw.key });
    let ts = -Infinity;
    for (let i = 0; i < decoded.length; i++) if (decoded.timestamps[i]! > ts) ts = decoded.timestamps[i]!;
    return { key: raw.key?.toString() ?? null, value: decoded, timestamp: ts === -Infinity ? raw.timestamp : ts, ...(raw.headers ? { headers: raw.headers } : {}) };
  };
}
