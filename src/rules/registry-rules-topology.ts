/**
 * The production wiring of the rules topology: Avro SampleBatch records decoded with the model's
 * SampleBatchDecoder (writer schemas fetched from the registry in the source's async `prepare`
 * step, dead letters to `metrics.dlq`), alert events and recorded samples encoded with the
 * registry-aware serdes (`alerts-value`, `<recorded>-value`; ids fetched once in `prepare`).
 */
import type { ProcessorContext } from '../topology/api.js';
import { TopologyError } from '../topology/api.js';
import type { RawRecord, Topology } from '../topology/topology.js';
import { SampleBatchDecoder } from '../model/sample-batch-decoder.js';
import { SeriesTable, type DecodedBatch } from '../model/decoded-batch.js';
import { deadLetterMessage } from '../model/dead-letter-writer.js';
import { alertEventSerde, sampleBatchSerde, wireSchemaId, type AvroSerde } from '../model/serde.js';
import type { RegistryClient } from '../model/registry-client.js';
import type { AlertEvent, SampleBatch } from '../model/types.js';
import { buildRulesTopology } from './rules-topology.js';
import type { RulesModule } from './rules-processor.js';

/** Encodes values of one topic with its registry id (fetched once by `prepare`, then sync). */
class IdEncoder<T> {
  private id: number | null = null;
  private pending: Promise<number> | null = null;
  constructor(
    private readonly serde: AvroSerde<T>,
    private readonly topic: string,
  ) {}
  prepare(): Promise<void> | undefined {
    if (this.id !== null) return undefined;
    this.pending ??= this.serde.schemaId(this.topic).then((id) => (this.id = id));
    return this.pending.then(
      () => undefined,
      (err) => {
        this.pending = null;
        throw err;
      },
    );
  }
  encode(v: T): Buffer {
    if (this.id === null) throw new TopologyError(`Schema id of "${this.topic}-value" not fetched yet`, 'NOT_PREPARED');
    return this.serde.encodeWithId(this.id, v);
  }
}

export interface RegistryRulesTopologyOptions {
  applicationId?: string;
  module: RulesModule;
  registry: string | RegistryClient;
  metricsTopic?: string;
  alertsTopic?: string;
  recordedTopic?: string;
  lateTopic?: string;
  dlqTopic?: string;
  idleMs?: number;
  /** Send undecodable records to the DLQ (default true; false when another topology on the same input does). */
  writeDeadLetters?: boolean;
  /** See RulesTopologyOptions.repartition and inputPartitions. */
  repartition?: boolean;
  inputPartitions?: number;
}

export interface RegistryRulesTopology {
  topology: Topology;
  /**
   * Fetches the output schema ids and the writer schemas of `records` (the runtime's `prepare` does
   * it before each batch; the synchronous test driver needs it called once up front).
   */
  prefetch(records?: RawRecord[]): Promise<void>;
}

export function buildRegistryRulesTopology(o: RegistryRulesTopologyOptions): RegistryRulesTopology {
  const metrics = o.metricsTopic ?? 'metrics';
  const alertsTopic = o.alertsTopic ?? 'alerts';
  const recorded = o.recordedTopic ?? metrics;
  const dlq = o.dlqTopic ?? 'metrics.dlq';
  const decoder = new SampleBatchDecoder({ registry: o.registry, series: new SeriesTable() });
  const alerts = new IdEncoder<AlertEvent>(alertEventSerde({ registry: o.registry }), alertsTopic);
  const samples = new IdEncoder<SampleBatch>(sampleBatchSerde({ registry: o.registry }), recorded);
  const decode = (raw: RawRecord, ctx: ProcessorContext) => {
    const result = decoder.decode(raw);
    if (result instanceof Promise) throw new TopologyError('Writer schema not prefetched before decode', 'NOT_PREPARED');
    if (o.writeDeadLetters !== false) for (const letter of result.deadLetters) {
      const m = deadLetterMessage(letter);
      const { 'vigil.reason': _r, 'vigil.topic': _t, 'vigil.partition': _p, 'vigil.offset': _o, ...extra } = m.headers;
      ctx.sendToSideTopic(dlq, letter.reason, m.key, m.value, extra);
    }
    const b: DecodedBatch = result.batch;
    if (b.length === 0) return null;
    let max = -Infinity;
    for (let i = 0; i < b.length; i++) if (b.timestamps[i]! > max) max = b.timestamps[i]!;
    return { key: raw.key, value: b, timestamp: max };
  };
  const prefetchWriters = (records: RawRecord[]): Promise<unknown> | undefined => {
    const waits: Promise<unknown>[] = [];
    const seen = new Set<number>();
    for (const r of records) {
      const id = wireSchemaId(r.value);
      if (id === null || seen.has(id)) continue;
      seen.add(id);
      if (decoder.writers.get(id) === undefined) waits.push(decoder.writers.load(id));
    }
    return waits.length ? Promise.all(waits) : undefined;
  };
  const prefetch = async (records: RawRecord[] = []) => {
    await prefetchWriters(records);
    await alerts.prepare();
    await samples.prepare();
  };
  const topology = buildRulesTopology({
    applicationId: o.applicationId ?? 'vigil-rules',
    module: o.module,
    metricsTopic: metrics,
    alertsTopic,
    recordedTopic: recorded,
    dlqTopic: dlq,
    ...(o.lateTopic ? { lateTopic: o.lateTopic } : {}),
    ...(o.idleMs !== undefined ? { idleMs: o.idleMs } : {}),
    ...(o.repartition !== undefined ? { repartition: o.repartition } : {}),
    ...(o.inputPartitions !== undefined ? { inputPartitions: o.inputPartitions } : {}),
    decode,
    prepare: (records) => {
      const waits = [prefetchWriters(records), alerts.prepare(), samples.prepare()].filter((w) => w !== undefined);
      return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
    },
    alertSerde: { serialize: (v) => alerts.encode(v), deserialize: () => { throw new TopologyError('not used', 'UNSUPPORTED'); } },
    sampleBatchSerde: { serialize: (v) => samples.encode(v), deserialize: () => { throw new TopologyError('not used', 'UNSUPPORTED'); } },
  });
  return { topology, prefetch };
}
