/**
 * What the 1m and 1h rollup topologies share: options, the output encoder, packing closed windows into
 * RollupBatch records, the base processor (late counting, window closing) and the topology skeleton.
 *
 * Determinism (what makes crash replays re-emit identical records): windows close when the task's
 * stream time passes end + grace; output packing and ids depend only on the input, and outputs go to
 * the input's partition number (so the topics stay co-partitioned).
 */
import type { Processor, ProcessorContext, StreamRecord } from '../api.js';
import { TopologyError } from '../api.js';
import { Topology, type RawRecord } from '../topology.js';
import type { RollupStore } from './rollup-store.js';
import type { WindowColumns } from './window-columns.js';
import { rollupBatchSerde, wireSchemaId, type AvroSerde } from '../../model/serde.js';
import type { RegistryClient } from '../../model/registry-client.js';
import type { Rollup, RollupBatch } from '../../model/types.js';
import { counter } from '../../obs/metrics.js';

export const ROLLUP_1M_MS = 60_000;
export const ROLLUP_1H_MS = 3_600_000;

export const dlqRecords = counter('vigil_dlq_records_total', 'Records written to a dead-letter topic, by reason', ['reason']);
const lateSamples = counter('vigil_late_samples_total', 'Samples that arrived after their window closed (sent to metrics.late)', ['topology']);
const evictedSeries = counter('vigil_rollup_series_evicted_total', 'Series whose rollup state was dropped (ended by a stale marker, or silent for ingest.evictSeriesAfter)', ['topology']);
const rollupsOut = counter('vigil_rollups_emitted_total', 'Rollups emitted (one per series per closed window)', ['resolution']);
const duplicates = counter(
  'vigil_duplicate_samples_total',
  'Input samples dropped as exact duplicates (same series and timestamp; for the 1h rollup: a 1m rollup already merged, e.g. replayed after a crash)',
  ['topology'],
);

export interface RollupTopologyOptions {
  /** Consumer group / changelog prefix. Default `vigil-rollup-1m` / `vigil-rollup-1h`. */
  applicationId?: string;
  inputTopic?: string;
  outputTopic?: string;
  lateTopic?: string;
  dlqTopic?: string;
  /** Schema registry (URL or client). */
  registry: string | RegistryClient;
  /** Grace after window end before a window closes. Default 10 s (1m), 0 (1h: its input is ordered). */
  graceMs?: number;
  /** Rollups per output record (RollupBatch). Default 1000. */
  maxRollupsPerRecord?: number;
  /** Bytes per output record (the topic's max.message.bytes, config kafka.maxMessageBytes). Default 1 MiB. */
  maxRecordBytes?: number;
  /**
   * Stream time without a sample after which a series' state is evicted (config ingest.evictSeriesAfter;
   * default 1 h for 1m, 3 h for 1h). A series that ended (stale marker) goes as soon as its windows closed.
   */
  evictAfterMs?: number;
  /** Bound of each task decoder's series key cache (default 4,000,000; past it the cache is rebuilt). */
  maxSeriesCacheEntries?: number;
  /**
   * 1m: samples later than the wall clock plus this go to the DLQ (`too_far_in_future`) and never move
   * stream time. Default 10 minutes (config `ingest.maxFuture`); Infinity = no bound.
   */
  maxFutureMs?: number;
}

/** Encodes RollupBatch values for one topic with the registry's id (fetched once, then sync). */
export class RollupEncoder {
  private id: number | null = null;
  private pending: Promise<number> | null = null;
  constructor(
    readonly serde: AvroSerde<RollupBatch>,
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
  encode(batch: RollupBatch): Buffer {
    if (this.id === null) throw new TopologyError(`Schema id of "${this.topic}-value" not fetched yet`, 'NOT_PREPARED');
    return this.serde.encodeWithId(this.id, batch);
  }
}

/** Upper bound of the Avro bytes of one rollup (strings, map and array framing, numbers). */
function rollupBytes(name: string, labels: Readonly<Record<string, string>>): number {
  let n = 96 + Buffer.byteLength(name);
  for (const k in labels) n += 10 + Buffer.byteLength(k) + Buffer.byteLength(labels[k]!);
  return n;
}

/** Limits of one output record. */
interface RecordLimits {
  rollups: number;
  bytes: number;
}

/**
 * Turns closed windows into RollupBatch records keyed by source, forwarded to the sink: at most
 * `limits.rollups` rollups and `limits.bytes` bytes per record, cut in slot order (deterministic).
 */
function emitWindow(ctx: ProcessorContext, store: RollupStore, w: WindowColumns, slots: Int32Array, limits: RecordLimits): void {
  const bySource = new Map<number, number[]>();
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    const src = store.sourceOf[s]!;
    let list = bySource.get(src);
    if (!list) bySource.set(src, (list = []));
    list.push(s);
  }
  const res = store.resolutionMs;
  const sources = [...bySource.keys()].sort((a, b) => a - b);
  for (const src of sources) {
    const list = bySource.get(src)!;
    const sourceKey = src >= 0 ? (store.sources[src] ?? null) : null;
    const room = limits.bytes - 4096 - (sourceKey === null ? 0 : Buffer.byteLength(sourceKey));
    let next = 0;
    for (let chunk = 0; next < list.length; chunk++) {
      const rollups: Rollup[] = [];
      let bytes = 0;
      for (; next < list.length && rollups.length < limits.rollups; next++) {
        const s = list[next]!;
        const info = store.seriesOf(s);
        const size = rollupBytes(info.name, info.labels);
        if (rollups.length > 0 && bytes + size > room) break;
        bytes += size;
        rollups.push({
          name: info.name,
          labels: info.labels as Record<string, string>,
          start: w.start,
          count: w.count[s]!,
          sum: w.sum[s]!,
          min: w.min[s]!,
          max: w.max[s]!,
          first: w.first[s]!,
          last: w.last[s]!,
          increase: store.kindOf[s] === 2 ? w.increase[s]! : null,
        });
      }
      rollupsOut.inc({ resolution: String(res) }, rollups.length);
      ctx.forward({
        key: sourceKey === null ? null : Buffer.from(sourceKey),
        value: { resolution_ms: res, rollups } satisfies RollupBatch,
        timestamp: w.start + res - 1,
        headers: { 'vigil.id': `rollup/${res}/${w.start}/${sourceKey ?? ''}/${chunk}` },
      });
    }
  }
}

export type { RecordLimits };

/** What both rollup processors share: their store, the next close time, late counting and window closing. */
export abstract class RollupProcessor<S extends RollupStore, V> implements Processor<Buffer | null, V> {
  protected ctx!: ProcessorContext;
  protected store!: S;
  protected nextClose = Infinity;
  private topologyName = '';

  constructor(
    private readonly storeName: string,
    private readonly limits: RecordLimits,
    private readonly boundaryDelta: boolean,
  ) {}

  init(ctx: ProcessorContext): void {
    this.ctx = ctx;
    this.store = ctx.getStateStore<S>(this.storeName);
    this.nextClose = this.store.nextCloseTime();
    this.topologyName = ctx.taskId.replace(/-\d+$/, '');
  }

  abstract process(record: StreamRecord<Buffer | null, V>): void;

  /**
   * Reports `late` and duplicate inputs of the record, then emits the windows closed by stream time
   * with this record included (its samples were judged late against the stream time before it).
   */
  protected finishRecord(late: number, duplicated: number): void {
    const closeAt = this.ctx.streamTime;
    const store = this.store;
    if (duplicated > 0) duplicates.inc({ topology: this.topologyName }, duplicated);
    if (late > 0) {
      lateSamples.inc({ topology: this.topologyName }, late);
      this.ctx.reportLate({ 'vigil.late_samples': String(late) });
    }
    if (closeAt >= this.nextClose) {
      const evicted = store.evicted;
      store.closeWindows(closeAt, (win, slots) => emitWindow(this.ctx, store, win, slots, this.limits), this.boundaryDelta);
      this.nextClose = store.nextCloseTime();
      if (store.evicted > evicted) evictedSeries.inc({ topology: this.topologyName }, store.evicted - evicted);
    }
  }
}

/** Prefetches the writer schemas a batch of records needs (undefined when all are cached). */
export function schemaPrefetch(records: RawRecord[], writers: { get(id: number): unknown; load(id: number): Promise<unknown> }): Promise<void> | undefined {
  let waits: Promise<unknown>[] | null = null;
  let seen = -1;
  for (const r of records) {
    const id = wireSchemaId(r.value);
    if (id === null || id === seen) continue;
    seen = id;
    if (writers.get(id) === undefined) (waits ??= []).push(writers.load(id));
  }
  return waits ? Promise.all(waits).then(() => undefined) : undefined;
}

export function both(a: Promise<void> | undefined, b: Promise<void> | undefined): Promise<void> | undefined {
  if (!a) return b;
  if (!b) return a;
  return Promise.all([a, b]).then(() => undefined);
}

/** What both rollup topologies start from: topics, the Topology, limits, the output encoder, the store name. */
export function rollupBase(options: RollupTopologyOptions, res: '1m' | '1h', defaultInput: string, defaultGraceMs: number) {
  const inputTopic = options.inputTopic ?? defaultInput;
  const outputTopic = options.outputTopic ?? `metrics.rollup.${res}`;
  const topo = new Topology({
    applicationId: options.applicationId ?? `vigil-rollup-${res}`,
    lateTopic: options.lateTopic ?? 'metrics.late',
    dlqTopic: options.dlqTopic ?? 'metrics.dlq',
  });
  const grace = options.graceMs ?? defaultGraceMs;
  const maxPer: RecordLimits = { rollups: options.maxRollupsPerRecord ?? 1000, bytes: options.maxRecordBytes ?? 1024 * 1024 };
  const serde = rollupBatchSerde({ registry: options.registry });
  const encoder = new RollupEncoder(serde, outputTopic);
  return { inputTopic, outputTopic, topo, grace, maxPer, serde, encoder, storeName: `rollup-${res}` };
}

export function addRollupSink(topo: Topology, topic: string, encoder: RollupEncoder, parent: string): void {
  topo.addSink<Buffer | null, RollupBatch>(
    'rollup-sink',
    topic,
    {
      key: { serialize: (k) => k, deserialize: (b) => b },
      value: {
        serialize: (v) => encoder.encode(v),
        deserialize: () => {
          throw new TopologyError('not used', 'UNSUPPORTED');
        },
      },
      // Outputs go to the input's partition: the rollup topics stay co-partitioned with `metrics`.
      toInputPartition: true,
      // Kafka's retention counts from the write: a rollup of a backfill (event time long past) must not be
      // deleted before the 1h topology and the archive read it (seen on a real broker).
      writeTime: true,
    },
    [parent],
  );
}
