/**
 * Per-series 1-minute rollups of `metrics` into `metrics.rollup.1m` (schema schemas/rollup-batch.avsc,
 * semantics in docs/topology.md). Batch-at-a-time: one Kafka record (a SampleBatch of ~100 samples) is
 * one StreamRecord; its samples are folded into typed-array columns by series slot.
 */
import type { StreamRecord } from '../api.js';
import { TopologyError } from '../api.js';
import { RollupStore, type SeriesDirectory } from './rollup-store.js';
import type { WindowColumns } from './window-columns.js';
import { ROLLUP_1M_MS, RollupProcessor, addRollupSink, type RecordLimits, both, dlqRecords, rollupBase, schemaPrefetch, type RollupTopologyOptions } from './rollup-common.js';
import { SampleBatchDecoder } from '../../model/sample-batch-decoder.js';
import { SeriesTable, type DecodedBatch } from '../../model/decoded-batch.js';
import { deadLetterMessage } from '../../model/dead-letter-writer.js';
import { seriesIdentity } from '../../model/series.js';
import type { Topology } from '../topology.js';
import { isStaleMarker } from '../../collect/stale-marker.js';
import { counter } from '../../obs/metrics.js';

/** Default bound of how far ahead of the wall clock a sample may be (like Mimir's creation grace period). */
export const DEFAULT_MAX_FUTURE_MS = 10 * 60_000;

const samplesIn = counter('vigil_engine_samples_total', 'Valid samples taken in from the metrics topic (by the 1m rollup, which reads every one)');

/** SeriesDirectory over the decoder's SeriesTable. */
class TableDirectory implements SeriesDirectory {
  constructor(readonly table: SeriesTable) {}
  get size(): number {
    return this.table.size;
  }
  get(ref: number) {
    // Built on demand, not kept: the table stores series compactly (see SeriesTable).
    return { name: this.table.nameOf(ref), labels: this.table.labelsOf(ref) };
  }
  intern(name: string, labels: Record<string, string>): number {
    return this.table.internRef(seriesIdentity(name, labels));
  }
}

/** The store of a raw-sample rollup task: accumulators plus the task's own decoder. */
export class SampleRollupStore extends RollupStore {
  constructor(
    name: string,
    resolutionMs: number,
    graceMs: number,
    readonly decoder: SampleBatchDecoder,
    evictAfterMs?: number,
  ) {
    super(name, resolutionMs, graceMs, new TableDirectory(decoder.series), evictAfterMs);
  }
}

/** Folds decoded sample batches into the open windows and emits windows as they close. */
class SampleRollupProcessor extends RollupProcessor<SampleRollupStore, DecodedBatch> {
  constructor(storeName: string, maxPerRecord: RecordLimits) {
    super(storeName, maxPerRecord, true);
  }

  process(record: StreamRecord<Buffer | null, DecodedBatch>): void {
    const store = this.store;
    const b = record.value;
    const st = this.ctx.priorStreamTime; // lateness is judged against the records before this one
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
    let duplicated = 0;
    let markers = 0;
    for (let i = 0; i < b.length; i++) {
      const t = ts[i]!;
      const v = vs[i]!;
      // A stale marker is not a value (no aggregate, no kind, never late): it says the series ended.
      if (v !== v && isStaleMarker(v)) {
        markers++;
        store.markEnded(refs[i]!);
        continue;
      }
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
      const slot = store.slotFor(refs[i]!);
      const kind = kinds[i]!;
      w!.ensure(slot);
      if (!w!.addSample(slot, t, v, kind === 2)) {
        duplicated++;
        continue;
      }
      if (store.sourceOf[slot] !== src || store.kindOf[slot] !== kind || store.ended[slot]) store.noteSeries(slot, src, kind);
    }
    samplesIn.inc(b.length - markers);
    this.finishRecord(late, duplicated);
  }
}

/** Per-series 1-minute rollups of `metrics` into `metrics.rollup.1m`. */
export function buildRollup1mTopology(options: RollupTopologyOptions): Topology {
  const { inputTopic, outputTopic, topo, grace, maxPer, encoder, storeName } = rollupBase(options, '1m', 'metrics', 10_000);
  topo.addStore({
    name: storeName,
    build: () =>
      new SampleRollupStore(
        storeName,
        ROLLUP_1M_MS,
        grace,
        new SampleBatchDecoder({ registry: options.registry, series: new SeriesTable(), maxCacheEntries: options.maxSeriesCacheEntries ?? 4_000_000 }),
        options.evictAfterMs ?? 3_600_000,
      ),
  });
  const dlq = topo.dlqTopic;
  const maxFutureMs = options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  topo.addSource<Buffer | null, DecodedBatch>(
    'metrics-source',
    [inputTopic],
    (raw, ctx) => {
      const store = ctx.getStateStore<SampleRollupStore>(storeName);
      const result = store.decoder.decode(raw, Number.isFinite(maxFutureMs) ? { notAfter: ctx.wallClockTime + maxFutureMs } : undefined);
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
