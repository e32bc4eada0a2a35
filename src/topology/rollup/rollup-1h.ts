/**
 * 1-hour rollups of `metrics.rollup.1m` into `metrics.rollup.1h`: 1m rollups are merged into the hour
 * of their start, per series.
 *
 * Idempotent for replays: the 1m topology emits each (series, minute) once, in increasing minute order
 * per series and partition, and a crash of it re-sends its last commit's outputs unchanged. So a 1m
 * rollup whose start is at or before the last one merged for its series is a replay: it is dropped
 * (counted in vigil_duplicate_samples_total), never merged twice, also after its hour closed (it is
 * then not reported late either). The last merged start per series is state, committed with the rest.
 */
import type { CommitBatch, StreamRecord } from '../api.js';
import { TopologyError } from '../api.js';
import { RollupStore, type SeriesDirectory } from './rollup-store.js';
import { BLOCK_SLOTS } from './window-columns.js';
import { ROLLUP_1H_MS, RollupProcessor, addRollupSink, type RecordLimits, both, dlqRecords, rollupBase, schemaPrefetch, type RollupTopologyOptions } from './rollup-common.js';
import { SeriesTable } from '../../model/decoded-batch.js';
import { seriesIdentity } from '../../model/series.js';
import type { RollupBatch } from '../../model/types.js';
import type { Topology } from '../topology.js';

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
  private static text(name: string, labels: Record<string, string>): string {
    let text = name;
    for (const k in labels) text += `\u0000${k}\u0000${labels[k]}`;
    return text;
  }
  /** The ref of a known series, or -1. */
  find(name: string, labels: Record<string, string>): number {
    return this.byText.get(RollupSeriesTable.text(name, labels)) ?? -1;
  }
  lookup(name: string, labels: Record<string, string>): number {
    const text = RollupSeriesTable.text(name, labels);
    let ref = this.byText.get(text);
    if (ref === undefined) {
      ref = this.table.internRef(seriesIdentity(name, labels));
      this.byText.set(text, ref);
    }
    return ref;
  }
  intern(name: string, labels: Record<string, string>): number {
    return this.lookup(name, labels);
  }
}

const pad = (n: number) => String(n).padStart(8, '0');

/** The 1h store: the rollup state plus, per slot, the start of the last 1m rollup merged (`l/<block>`). */
class RollupRollupStore extends RollupStore {
  private lastMerged = new Float64Array(1024).fill(NaN);
  private dirtyMerged = new Uint8Array(1);

  constructor(
    name: string,
    resolutionMs: number,
    graceMs: number,
    readonly directory: RollupSeriesTable,
    evictAfterMs?: number,
  ) {
    super(name, resolutionMs, graceMs, directory, evictAfterMs);
  }

  /** Start of the last input rollup merged for the series in `slot` (NaN = none). */
  lastMergedStart(slot: number): number {
    return slot >= 0 && slot < this.lastMerged.length ? this.lastMerged[slot]! : NaN;
  }

  protected override release(slot: number): void {
    super.release(slot);
    this.markMerged(slot, NaN);
  }

  markMerged(slot: number, start: number): void {
    if (slot >= this.lastMerged.length) {
      let n = this.lastMerged.length;
      while (n <= slot) n *= 2;
      const l = new Float64Array(n).fill(NaN);
      l.set(this.lastMerged);
      this.lastMerged = l;
      const d = new Uint8Array(Math.ceil(n / BLOCK_SLOTS));
      d.set(this.dirtyMerged);
      this.dirtyMerged = d;
    }
    this.lastMerged[slot] = start;
    this.dirtyMerged[(slot / BLOCK_SLOTS) | 0] = 1;
  }

  override commit(batch: CommitBatch): void {
    super.commit(batch);
    for (let b = 0; b < this.dirtyMerged.length; b++) {
      if (!this.dirtyMerged[b]) continue;
      this.dirtyMerged[b] = 0;
      const from = b * BLOCK_SLOTS;
      const n = Math.max(0, Math.min(BLOCK_SLOTS, this.lastMerged.length - from));
      batch.put(`l/${pad(b)}`, Buffer.from(this.lastMerged.slice(from, from + n).buffer));
    }
  }

  override restore(key: string, value: Buffer | null): void {
    if (!key.startsWith('l/')) return super.restore(key, value);
    if (value === null) return;
    const from = Number(key.slice(2)) * BLOCK_SLOTS;
    const n = value.length / 8;
    if (n > 0) this.markMerged(from + n - 1, NaN);
    const copy = new Float64Array(new Uint8Array(value).buffer);
    this.lastMerged.set(copy, from);
    this.dirtyMerged.fill(0);
  }
}

/** Merges finer rollups (1m) into coarser windows (1h). */
class RollupMergeProcessor extends RollupProcessor<RollupRollupStore, RollupBatch> {
  constructor(storeName: string, maxPerRecord: RecordLimits) {
    super(storeName, maxPerRecord, false);
  }
  process(record: StreamRecord<Buffer | null, RollupBatch>): void {
    const store = this.store;
    const st = this.ctx.priorStreamTime; // lateness is judged against the records before this one
    const res = store.resolutionMs;
    const src = store.sourceId(record.key === null ? null : record.key.toString('utf8'));
    let late = 0;
    let replayed = 0;
    for (const r of record.value.rollups) {
      const known = store.directory.find(r.name, r.labels);
      if (known >= 0 && r.start <= store.lastMergedStart(store.slotOf(known))) {
        replayed++;
        continue;
      }
      const start = r.start - (((r.start % res) + res) % res);
      if (start + res + store.graceMs <= st) {
        late++;
        continue;
      }
      const slot = store.slotFor(known >= 0 ? known : store.directory.lookup(r.name, r.labels));
      const w = store.window(start);
      this.nextClose = Math.min(this.nextClose, start + res + store.graceMs);
      w.ensure(slot);
      w.addPartial(slot, r.start, r.count, r.sum, r.min, r.max, r.first, r.last, r.increase ?? 0);
      store.noteSeries(slot, src, r.increase === null ? 1 : 2);
      store.markMerged(slot, r.start);
    }
    this.finishRecord(late, replayed);
  }
}

/** 1-hour rollups of `metrics.rollup.1m` into `metrics.rollup.1h`. */
export function buildRollup1hTopology(options: RollupTopologyOptions): Topology {
  const { inputTopic, outputTopic, topo, grace, maxPer, serde, encoder, storeName } = rollupBase(options, '1h', 'metrics.rollup.1m', 0);
  topo.addStore({ name: storeName, build: () => new RollupRollupStore(storeName, ROLLUP_1H_MS, grace, new RollupSeriesTable(), options.evictAfterMs ?? 3 * 3_600_000) });
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
