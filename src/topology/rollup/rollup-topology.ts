/**
 * The rollup topologies: per-series 1-minute rollups of `metrics` into `metrics.rollup.1m`, and
 * 1-hour rollups of those into `metrics.rollup.1h` (schema schemas/rollup-batch.avsc, semantics in
 * docs/topology.md). Both run batch-at-a-time: one Kafka record (a SampleBatch of ~100 samples, or a
 * RollupBatch) is one StreamRecord; samples are folded into typed-array columns by series slot.
 *
 * Determinism (what makes crash replays re-emit identical records): windows close when the task's
 * stream time, advanced once per input record, passes end + grace; output packing and ids depend only
 * on the input, and outputs go to the input's partition number (so the topics stay co-partitioned).
 */
import type { Processor, ProcessorContext, StreamRecord } from '../api.js';
import { TopologyError } from '../api.js';
import { Topology, type RawRecord } from '../topology.js';
import { RollupStore, type SeriesDirectory } from './rollup-store.js';
import type { WindowColumns } from './window-columns.js';
import { SampleBatchDecoder } from '../../model/sample-batch-decoder.js';
import { SeriesTable, type DecodedBatch } from '../../model/decoded-batch.js';
import { deadLetterMessage } from '../../model/dead-letter-writer.js';
import { rollupBatchSerde, wireSchemaId, type AvroSerde } from '../../model/serde.js';
import type { RegistryClient } from '../../model/registry-client.js';
import { seriesIdentity } from '../../model/series.js';
import type { Rollup, RollupBatch } from '../../model/types.js';
import { counter } from '../../obs/metrics.js';

export const ROLLUP_1M_MS = 60_000;
export const ROLLUP_1H_MS = 3_600_000;

const dlqRecords = counter('vigil_dlq_records_total', 'Records written to a dead-letter topic, by reason', ['reason']);
const lateSamples = counter('vigil_late_samples_total', 'Samples that arrived after their window closed (sent to metrics.late)', ['topology']);
const samplesIn = counter('vigil_engine_samples_total', 'Valid samples taken in from the metrics topic (by the 1m rollup, which reads every one)');
const rollupsOut = counter('vigil_rollups_emitted_total', 'Rollups emitted (one per series per closed window)', ['resolution']);

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
  /** Bound of each task decoder's series key cache (default 4,000,000; past it the cache is rebuilt). */
  maxSeriesCacheEntries?: number;
}

/** Encodes RollupBatch values for one topic with the registry's id (fetched once, then sync). */
class RollupEncoder {
  private id: number | null = null;
  private pending: Promise<number> | null = null;
  constructor(
    readonly serde: AvroSerde<RollupBatch>,
    private readonly topic: string,
  ) {}
  prepare(): Promise<void> | undefined {
    if (this.id !== null) return undefined;
    this.pending ??= this.serde.schemaId(this.topic).then((id) => (this.id = id));
    return this.pending.then(() => undefined, (err) => {
      this.pending = null;
      throw err;
    });
  }
  encode(batch: RollupBatch): Buffer {
    if (this.id === null) throw new TopologyError(`Schema id of "${this.topic}-value" not fetched yet`, 'NOT_PREPARED');
    return this.serde.encodeWithId(this.id, batch);
  }
}

/** SeriesDirectory over the decoder's SeriesTable (restores by interning in slot order). */
class TableDirectory implements SeriesDirectory {
  constructor(readonly table: SeriesTable) {}
  get size(): number {
    return this.table.size;
  }
  get(ref: number) {
    // Built on demand, not kept: the table stores series compactly (see SeriesTable).
    return { name: this.table.nameOf(ref), labels: this.table.labelsOf(ref) };
  }
  restore(expectedRef: number, name: string, labels: Record<string, string>): void {
    const identity = seriesIdentity(name, labels);
    const ref = this.table.internRef(identity);
    if (ref !== expectedRef) throw new TopologyError(`Restored series ${identity.canonical} got ref ${ref}, expected ${expectedRef}`, 'CORRUPT_STATE');
  }
}

/** The store of a raw-sample rollup task: accumulators plus the task's own decoder. */
export class SampleRollupStore extends RollupStore {
  constructor(
    name: string,
    resolutionMs: number,
    graceMs: number,
    readonly decoder: SampleBatchDecoder,
  ) {
    super(name, resolutionMs, graceMs, new TableDirectory(decoder.series));
  }
}

/** Turns closed windows into RollupBatch records keyed by source, forwarded to the sink. */
function emitWindow(
  ctx: ProcessorContext,
  store: RollupStore,
  w: WindowColumns,
  slots: Int32Array,
  maxPerRecord: number,
): void {
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
    const sourceKey = src >= 0 ? store.sources[src] ?? null : null;
    for (let chunk = 0; chunk * maxPerRecord < list.length; chunk++) {
      const rollups: Rollup[] = [];
      for (const s of list.slice(chunk * maxPerRecord, (chunk + 1) * maxPerRecord)) {
        const info = store.series.get(s);
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

/** What both rollup processors share: their store, the next close time, late counting and window closing. */
abstract class RollupProcessor<S extends RollupStore, V> implements Processor<Buffer | null, V> {
  protected ctx!: ProcessorContext;
  protected store!: S;
  protected nextClose = Infinity;

  constructor(
    private readonly storeName: string,
    private readonly maxPerRecord: number,
    private readonly boundaryDelta: boolean,
  ) {}

  init(ctx: ProcessorContext): void {
    this.ctx = ctx;
    this.store = ctx.getStateStore<S>(this.storeName);
    this.nextClose = this.store.nextCloseTime();
  }

  abstract process(record: StreamRecord<Buffer | null, V>): void;

  /** Reports `late` inputs of the record, then emits the windows stream time `st` has closed. */
  protected finishRecord(late: number, st: number): void {
    const store = this.store;
    if (late > 0) {
      lateSamples.inc({ topology: this.ctx.taskId.replace(/-\d+$/, '') }, late);
      this.ctx.reportLate({ 'vigil.late_samples': String(late) });
    }
    if (st >= this.nextClose) {
      store.closeWindows(st, (win, slots) => emitWindow(this.ctx, store, win, slots, this.maxPerRecord), this.boundaryDelta);
      this.nextClose = store.nextCloseTime();
    }
  }
}

/** Folds decoded sample batches into the open windows and emits windows as they close. */
class SampleRollupProcessor extends RollupProcessor<SampleRollupStore, DecodedBatch> {
  constructor(storeName: string, maxPerRecord: number) {
    super(storeName, maxPerRecord, true);
  }

  process(record: StreamRecord<Buffer | null, DecodedBatch>): void {
    const store = this.store;
    const b = record.value;
    samplesIn.inc(b.length);
    const st = this.ctx.streamTime;
    const res = store.resolutionMs;
    const horizon = st - res - store.graceMs; // windows starting at or before this are closed
    const src = store.sourceId(record.key === null ? null : record.key.toString('utf8'));
    const refs = b.seriesRefs;
    const ts = b.timestamps;
    const vs = b.values;
    const kinds = b.kinds;
    let w: WindowColumns | null = null;
    let wStart = NaN;
    let late = 0;
    for (let i = 0; i < b.length; i++) {
      const t = ts[i]!;
      const start = t - (((t % res) + res) % res);
      if (start <= horizon) {
        late++;
        continue;
      }
      if (start !== wStart) {
        w = store.window(start);
        wStart = start;
        if (start + res + store.graceMs < this.nextClose) this.nextClose = start + res + store.graceMs;
      }
      const ref = refs[i]!;
      const kind = kinds[i]!;
      w!.ensure(ref);
      w!.addSample(ref, t, vs[i]!, kind === 2);
      if (ref >= store.sourceOf.length) store.ensureSeries(ref);
      if (store.sourceOf[ref] !== src || store.kindOf[ref] !== kind) store.noteSeries(ref, src, kind);
    }
    this.finishRecord(late, st);
  }
}

function schemaPrefetch(records: RawRecord[], writers: { get(id: number): unknown; load(id: number): Promise<unknown> }): Promise<void> | undefined {
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

function both(a: Promise<void> | undefined, b: Promise<void> | undefined): Promise<void> | undefined {
  if (!a) return b;
  if (!b) return a;
  return Promise.all([a, b]).then(() => undefined);
}

/** What both rollup topologies start from: topics, the Topology, limits, the output encoder, the store name. */
function rollupBase(options: RollupTopologyOptions, res: '1m' | '1h', defaultInput: string, defaultGraceMs: number) {
  const inputTopic = options.inputTopic ?? defaultInput;
  const outputTopic = options.outputTopic ?? `metrics.rollup.${res}`;
  const topo = new Topology({
    applicationId: options.applicationId ?? `vigil-rollup-${res}`,
    lateTopic: options.lateTopic ?? 'metrics.late',
    dlqTopic: options.dlqTopic ?? 'metrics.dlq',
  });
  const grace = options.graceMs ?? defaultGraceMs;
  const maxPer = options.maxRollupsPerRecord ?? 1000;
  const serde = rollupBatchSerde({ registry: options.registry });
  const encoder = new RollupEncoder(serde, outputTopic);
  return { inputTopic, outputTopic, topo, grace, maxPer, serde, encoder, storeName: `rollup-${res}` };
}

/** Per-series 1-minute rollups of `metrics` into `metrics.rollup.1m`. */
export function buildRollup1mTopology(options: RollupTopologyOptions): Topology {
  const { inputTopic, outputTopic, topo, grace, maxPer, encoder, storeName } = rollupBase(options, '1m', 'metrics', 10_000);
  topo.addStore({
    name: storeName,
    build: () => new SampleRollupStore(storeName, ROLLUP_1M_MS, grace, new SampleBatchDecoder({ registry: options.registry, series: new SeriesTable(), maxCacheEntries: options.maxSeriesCacheEntries ?? 4_000_000 })),
  });
  const dlq = topo.dlqTopic;
  topo.addSource<Buffer | null, DecodedBatch>(
    'metrics-source',
    [inputTopic],
    (raw, ctx) => {
      const store = ctx.getStateStore<SampleRollupStore>(storeName);
      const result = store.decoder.decode(raw);
      if (result instanceof Promise) throw new TopologyError('Writer schema not prefetched before decode', 'NOT_PREPARED');
      for (const letter of result.deadLetters) {
        const m = deadLetterMessage(letter);
        const { 'vigil.reason': _r, 'vigil.topic': _t, 'vigil.partition': _p, 'vigil.offset': _o, ...extra } = m.headers;
        ctx.sendToSideTopic(dlq, letter.reason, m.key, m.value, extra);
        dlqRecords.inc({ reason: letter.reason });
      }
      const b = result.batch;
      if (b.length === 0) return null;
      let max = -Infinity;
      for (let i = 0; i < b.length; i++) if (b.timestamps[i]! > max) max = b.timestamps[i]!;
      return { key: raw.key, value: b, timestamp: max };
    },
    {
      stores: [storeName],
      prepare: (records, ctx) => both(schemaPrefetch(records, ctx.getStateStore<SampleRollupStore>(storeName).decoder.writers), encoder.prepare()),
    },
  );
  topo.addProcessor('rollup-1m', () => new SampleRollupProcessor(storeName, maxPer), ['metrics-source'], [storeName]);
  addRollupSink(topo, outputTopic, encoder, 'rollup-1m');
  return topo;
}

function addRollupSink(topo: Topology, topic: string, encoder: RollupEncoder, parent: string): void {
  topo.addSink<Buffer | null, RollupBatch>(
    'rollup-sink',
    topic,
    {
      key: { serialize: (k) => k, deserialize: (b) => b },
      value: { serialize: (v) => encoder.encode(v), deserialize: () => { throw new TopologyError('not used', 'UNSUPPORTED'); } },
      // Outputs go to the input's partition: the rollup topics stay co-partitioned with `metrics`.
      toInputPartition: true,
    },
    [parent],
  );
}

/** SeriesDirectory for rollup inputs: series identified by name + labels. */
class RollupSeriesTable implements SeriesDirectory {
  readonly table = new SeriesTable();
  private readonly byText = new Map<string, number>();
  get size(): number {
    return this.table.size;
  }
  get(ref: number) {
    return { name: this.table.nameOf(ref), labels: this.table.labelsOf(ref) };
  }
  lookup(name: string, labels: Record<string, string>): number {
    let text = name;
    for (const k in labels) text += `\u0000${k}\u0000${labels[k]}`;
    let ref = this.byText.get(text);
    if (ref === undefined) {
      ref = this.table.internRef(seriesIdentity(name, labels));
      this.byText.set(text, ref);
    }
    return ref;
  }
  restore(expectedRef: number, name: string, labels: Record<string, string>): void {
    if (this.lookup(name, labels) !== expectedRef) throw new TopologyError(`Restored rollup series ${name} out of order`, 'CORRUPT_STATE');
  }
}

class RollupRollupStore extends RollupStore {
  constructor(
    name: string,
    resolutionMs: number,
    graceMs: number,
    readonly directory: RollupSeriesTable,
  ) {
    super(name, resolutionMs, graceMs, directory);
  }
}

/** Merges finer rollups (1m) into coarser windows (1h). */
class RollupMergeProcessor extends RollupProcessor<RollupRollupStore, RollupBatch> {
  constructor(storeName: string, maxPerRecord: number) {
    super(storeName, maxPerRecord, false);
  }
  process(record: StreamRecord<Buffer | null, RollupBatch>): void {
    const store = this.store;
    const st = this.ctx.streamTime;
    const res = store.resolutionMs;
    const src = store.sourceId(record.key === null ? null : record.key.toString('utf8'));
    let late = 0;
    for (const r of record.value.rollups) {
      const start = r.start - (((r.start % res) + res) % res);
      if (start + res + store.graceMs <= st) {
        late++;
        continue;
      }
      const ref = store.directory.lookup(r.name, r.labels);
      const w = store.window(start);
      this.nextClose = Math.min(this.nextClose, start + res + store.graceMs);
      w.ensure(ref);
      store.ensureSeries(ref);
      w.addPartial(ref, r.start, r.count, r.sum, r.min, r.max, r.first, r.last, r.increase ?? 0);
      store.noteSeries(ref, src, r.increase === null ? 1 : 2);
    }
    this.finishRecord(late, st);
  }
}

/** 1-hour rollups of `metrics.rollup.1m` into `metrics.rollup.1h`. */
export function buildRollup1hTopology(options: RollupTopologyOptions): Topology {
  const { inputTopic, outputTopic, topo, grace, maxPer, serde, encoder, storeName } = rollupBase(options, '1h', 'metrics.rollup.1m', 0);
  topo.addStore({ name: storeName, build: () => new RollupRollupStore(storeName, ROLLUP_1H_MS, grace, new RollupSeriesTable()) });
  const dlq = topo.dlqTopic;
  topo.addSource<Buffer | null, RollupBatch>(
    'rollup-source',
    [inputTopic],
    (raw, ctx) => {
      let value: RollupBatch;
      try {
        const v = serde.decode(raw.value);
        if (v instanceof Promise) throw new TopologyError('Writer schema not prefetched before decode', 'NOT_PREPARED');
        value = v;
      } catch (err) {
        if (err instanceof TopologyError) throw err;
        const reason = (err as { code?: string }).code ?? 'undecodable';
        ctx.sendToSideTopic(dlq, reason, raw.key, raw.value, { 'vigil.error': (err as Error).message.slice(0, 500) });
        dlqRecords.inc({ reason });
        return null;
      }
      let max = -Infinity;
      for (const r of value.rollups) if (r.start > max) max = r.start;
      return max === -Infinity ? null : { key: raw.key, value, timestamp: max };
    },
    { stores: [storeName], prepare: (records) => both(schemaPrefetch(records, serde.writers), encoder.prepare()) },
  );
  topo.addProcessor('rollup-1h', () => new RollupMergeProcessor(storeName, maxPer), ['rollup-source'], [storeName]);
  addRollupSink(topo, outputTopic, encoder, 'rollup-1h');
  return topo;
}
