/**
 * The head: recent raw samples held in memory so queries see what the archive has not written
 * yet. Fed with decoded batches of the `metrics` topic; bounded by time (samples older than
 * `retentionMs` before the newest sample are trimmed) and by series: at `maxSeries`, series that
 * went stale (a stale marker, or no sample for `staleAfterMs`) are evicted to make room for new
 * ones, and when none has, a new series' samples are not kept (counted in `stats()`, exported as
 * vigil_query_head_* metrics, and reported to queries as a warning). Rollups asked of the head are
 * computed from its samples.
 */
import type { DecodedBatch } from '../model/decoded-batch.js';
import { isStaleMarker } from '../collect/stale-marker.js';
import { KIND_COUNTER, KIND_GAUGE } from '../model/types.js';
import { RESOLUTION_MS, type RawVisitor, type RollupColumns, type RollupResolution, type RollupVisitor, type SampleSource, type SeriesMeta } from './sample-source.js';

interface HeadSeries {
  /** Set when trimmed away: cached references to it are stale. */
  dropped?: boolean;
  key: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  counter: boolean;
  gauge: boolean;
  times: number[];
  values: number[];
}

export interface HeadOptions {
  /** How long samples stay, before the newest one (default 1 h; the archive writes files every 5 min). */
  retentionMs?: number;
  /** Most series held (default 200 000). */
  maxSeries?: number;
  /** A series without a sample for this long is stale (evictable at the cap); default 5 min, the lookback. */
  staleAfterMs?: number;
}

/** What the head holds and what its bounds cost. */
export interface HeadStats {
  series: number;
  samples: number;
  maxSeries: number;
  /** True while the cap refuses new series (none stale to evict). */
  full: boolean;
  /** Samples not kept because the head was full. */
  droppedSamples: number;
  /** Stale series removed to make room. */
  evictedSeries: number;
  /** Newest sample time (ms), -Infinity when empty. */
  newest: number;
}

export class Head implements SampleSource {
  private readonly byMetric = new Map<string, Map<string, HeadSeries>>();
  /** The head series of each decoder's series refs, so a sample costs no string building or map lookups. */
  private readonly byRef = new WeakMap<DecodedBatch['series'], Array<HeadSeries | undefined>>();
  private readonly retentionMs: number;
  private readonly maxSeries: number;
  private readonly staleAfterMs: number;
  private seriesCount = 0;
  private sampleCount = 0;
  private firstSeen = Infinity;
  private newest = -Infinity;
  private droppedSamples = 0;
  private evictedSeries = 0;
  private full = false;
  /** When the cap last refused or evicted a series (the head is incomplete for a retention after it). */
  private capHitAt = -Infinity;
  /** Newest time at which an eviction pass found nothing: no new pass until time moves on. */
  private evictionFruitlessAt = -Infinity;

  constructor(options: HeadOptions = {}) {
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.maxSeries = options.maxSeries ?? 200_000;
    this.staleAfterMs = options.staleAfterMs ?? 5 * 60_000;
  }

  get retention(): number {
    return this.retentionMs;
  }

  /** Adds the valid samples of a decoded batch. */
  append(batch: DecodedBatch): void {
    let refs = this.byRef.get(batch.series);
    if (!refs) this.byRef.set(batch.series, (refs = []));
    for (let i = 0; i < batch.length; i++) {
      const ref = batch.seriesRefs[i]!;
      let s = refs[ref];
      if (!s || s.dropped) {
        s = this.seriesOf(batch.series.get(ref));
        if (!s) {
          this.droppedSamples++;
          continue;
        }
        refs[ref] = s;
      }
      const t = batch.timestamps[i]!;
      if (batch.kinds[i] === KIND_COUNTER) s.counter = true;
      else if (batch.kinds[i] === KIND_GAUGE) s.gauge = true;
      // Keep time order; an out-of-order sample is inserted where it belongs.
      let at = s.times.length;
      while (at > 0 && s.times[at - 1]! > t) at--;
      if (at > 0 && s.times[at - 1] === t) s.values[at - 1] = batch.values[i]!;
      else if (at === s.times.length) {
        s.times.push(t);
        s.values.push(batch.values[i]!);
        this.sampleCount++;
      } else {
        s.times.splice(at, 0, t);
        s.values.splice(at, 0, batch.values[i]!);
        this.sampleCount++;
      }
      if (t < this.firstSeen) this.firstSeen = t;
      if (t > this.newest) this.newest = t;
    }
  }

  /** The head series of a decoded series, created on first sight; undefined past `maxSeries`. */
  private seriesOf(info: { id: bigint; name: string; labels: Readonly<Record<string, string>> }): HeadSeries | undefined {
    let metric = this.byMetric.get(info.name);
    if (!metric) this.byMetric.set(info.name, (metric = new Map()));
    const key = String(info.id);
    let s = metric.get(key);
    if (!s) {
      if (this.seriesCount >= this.maxSeries && !this.evictStale()) {
        this.full = true;
        this.capHitAt = this.newest;
        if (metric.size === 0) this.byMetric.delete(info.name);
        return undefined;
      }
      this.full = false;
      this.seriesCount++;
      metric.set(key, (s = { key, name: info.name, labels: info.labels, counter: false, gauge: false, times: [], values: [] }));
    }
    return s;
  }

  /** Removes the series that went stale; true when it made room. Costs a pass over all series, so a fruitless pass is not repeated until time moves on. */
  private evictStale(): boolean {
    if (this.newest <= this.evictionFruitlessAt) return false;
    const before = this.seriesCount;
    const staleBefore = this.newest - this.staleAfterMs;
    for (const [name, metric] of this.byMetric) {
      for (const [key, s] of metric) {
        const last = s.times.length - 1;
        if (last >= 0 && s.times[last]! >= staleBefore && !isStaleMarker(s.values[last]!)) continue;
        this.removeSeries(metric, key, s);
        this.evictedSeries++;
      }
      if (metric.size === 0) this.byMetric.delete(name);
    }
    if (this.seriesCount < before) {
      this.capHitAt = this.newest;
      return true;
    }
    this.evictionFruitlessAt = this.newest;
    return false;
  }

  private removeSeries(metric: Map<string, HeadSeries>, key: string, s: HeadSeries): void {
    s.dropped = true;
    metric.delete(key);
    this.seriesCount--;
    this.sampleCount -= s.times.length;
  }

  /** What the head holds and what its bounds cost (the vigil_query_head_* metrics). */
  stats(): HeadStats {
    return {
      series: this.seriesCount,
      samples: this.sampleCount,
      maxSeries: this.maxSeries,
      full: this.full,
      droppedSamples: this.droppedSamples,
      evictedSeries: this.evictedSeries,
      newest: this.newest,
    };
  }

  /** Warnings for queries: set while the head misses samples because of its series cap. */
  warnings(): string[] {
    if (this.capHitAt === -Infinity || this.newest - this.capHitAt > this.retentionMs) return [];
    return [
      `the query head reached its limit of ${this.maxSeries} series (query.headMaxSeries) within the last ${this.retentionMs / 60_000} min: recent samples of some series may be missing`,
    ];
  }

  /** Drops samples older than the retention, relative to the newest sample seen. */
  trim(): void {
    const horizon = this.newest - this.retentionMs;
    for (const [name, metric] of this.byMetric) {
      for (const [key, s] of metric) {
        let n = 0;
        while (n < s.times.length && s.times[n]! < horizon) n++;
        if (n === 0) continue;
        s.times.splice(0, n);
        s.values.splice(0, n);
        this.sampleCount -= n;
        if (s.times.length === 0) this.removeSeries(metric, key, s);
      }
      if (metric.size === 0) this.byMetric.delete(name);
    }
    if (this.firstSeen < horizon) this.firstSeen = horizon;
  }

  /** The time from which the head holds every sample it was given (Infinity when empty). */
  coverageStart(): number {
    return this.firstSeen;
  }

  get size(): number {
    return this.seriesCount;
  }

  /** Each metric's kind as its samples said (counter if any was, else gauge if any was), for /api/v1/metadata. */
  metricTypes(): Array<{ metric: string; type: 'counter' | 'gauge' | 'unknown' }> {
    const out: Array<{ metric: string; type: 'counter' | 'gauge' | 'unknown' }> = [];
    for (const [metric, series] of this.byMetric) {
      let type: 'counter' | 'gauge' | 'unknown' = 'unknown';
      for (const s of series.values()) {
        if (s.counter) type = 'counter';
        else if (s.gauge && type === 'unknown') type = 'gauge';
      }
      out.push({ metric, type });
    }
    return out;
  }

  async raw(metric: string, start: number, end: number, visit: RawVisitor): Promise<void> {
    for (const s of this.byMetric.get(metric)?.values() ?? []) {
      let from = 0;
      while (from < s.times.length && s.times[from]! < start) from++;
      let to = from;
      while (to < s.times.length && s.times[to]! < end) to++;
      if (to > from) visit({ key: s.key, name: s.name, labels: s.labels }, { times: Float64Array.from(s.times.slice(from, to)), values: Float64Array.from(s.values.slice(from, to)) }, 0, to - from);
    }
  }

  async rollups(resolution: RollupResolution, metric: string, start: number, end: number, visit: RollupVisitor): Promise<void> {
    const res = RESOLUTION_MS[resolution];
    for (const s of this.byMetric.get(metric)?.values() ?? []) {
      // At most one row per sample: size the columns for all of them, fill the windows in range.
      const cap = s.times.length;
      const cols: RollupColumns = {
        start: new Float64Array(cap),
        count: new Float64Array(cap),
        sum: new Float64Array(cap),
        min: new Float64Array(cap),
        max: new Float64Array(cap),
        first: new Float64Array(cap),
        last: new Float64Array(cap),
        increase: new Float64Array(cap),
      };
      let n = 0;
      for (let i = 0; i < s.times.length; i++) {
        const t = s.times[i]!;
        const v = s.values[i]!;
        const ws = Math.floor(t / res) * res;
        if (ws < start || ws >= end) continue;
        const j = n - 1;
        if (n === 0 || cols.start[j] !== ws) {
          cols.start[n] = ws;
          cols.count[n] = 1;
          cols.sum[n] = v;
          cols.min[n] = v;
          cols.max[n] = v;
          cols.first[n] = v;
          cols.last[n] = v;
          cols.increase[n] = s.counter ? 0 : NaN;
          n++;
          continue;
        }
        if (!Number.isNaN(cols.increase[j]!)) cols.increase[j]! += v >= cols.last[j]! ? v - cols.last[j]! : v;
        cols.count[j]!++;
        cols.sum[j]! += v;
        cols.min[j] = Math.min(cols.min[j]!, v);
        cols.max[j] = Math.max(cols.max[j]!, v);
        cols.last[j] = v;
      }
      if (n) visit({ key: s.key, name: s.name, labels: s.labels }, cols, 0, n);
    }
  }

  async series(start: number, end: number, metrics?: readonly string[]): Promise<SeriesMeta[]> {
    const out: SeriesMeta[] = [];
    for (const [name, metric] of this.byMetric) {
      if (metrics && !metrics.includes(name)) continue;
      for (const s of metric.values()) {
        if (s.times.some((t) => t >= start && t < end)) out.push({ name, labels: s.labels });
      }
    }
    return out;
  }
}
