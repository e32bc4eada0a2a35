/**
 * One open archive file in memory: the rows of one (resolution, partition, hour) from a contiguous
 * range of input records, as growable typed columns plus a local series dictionary.
 */
import type { ArchiveSeries, RawRows, RollupRows } from './archive-rows.js';
import type { Resolution } from './layout.js';

/** Growable Float64Array. */
class F64 {
  data = new Float64Array(1024);
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = new Float64Array(Math.max(n, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
}

const RAW_COLUMNS = 2;
const ROLLUP_COLUMNS = 9;

export class ArchiveBuffer {
  readonly series: ArchiveSeries[] = [];
  private readonly local = new Map<unknown, number>();
  private seriesIndex = new Uint32Array(1024);
  private readonly cols: F64[];
  private hasInc = new Uint8Array(1024);
  length = 0;
  /** Offsets of the first and last input records with rows here. */
  firstOffset = -1;
  lastOffset = -1;

  constructor(
    readonly resolution: Resolution,
    readonly partition: number,
    readonly hourStart: number,
    /** Wall-clock time the buffer opened (for the age trigger). */
    readonly openedAt: number,
  ) {
    this.cols = Array.from({ length: resolution === 'raw' ? RAW_COLUMNS : ROLLUP_COLUMNS }, () => new F64());
  }

  /** Local index of a series, interning it under `key` (any stable identity of the caller). */
  seriesOf(key: unknown, make: () => ArchiveSeries): number {
    let i = this.local.get(key);
    if (i === undefined) {
      i = this.series.push(make()) - 1;
      this.local.set(key, i);
    }
    return i;
  }

  /** Marks that record `offset` contributed rows (records arrive in offset order). */
  touch(offset: number): void {
    if (this.firstOffset < 0) this.firstOffset = offset;
    this.lastOffset = offset;
  }

  private grow(): number {
    const n = this.length + 1;
    if (n > this.seriesIndex.length) {
      const cap = this.seriesIndex.length * 2;
      const si = new Uint32Array(cap);
      si.set(this.seriesIndex);
      this.seriesIndex = si;
      const hi = new Uint8Array(cap);
      hi.set(this.hasInc);
      this.hasInc = hi;
    }
    for (const c of this.cols) c.ensure(n);
    return this.length++;
  }

  addSample(series: number, timestamp: number, value: number): void {
    const i = this.grow();
    this.seriesIndex[i] = series;
    this.cols[0]!.data[i] = timestamp;
    this.cols[1]!.data[i] = value;
  }

  addRollup(series: number, r: { start: number; count: number; sum: number; min: number; max: number; first: number; last: number; increase: number | null }): void {
    const i = this.grow();
    this.seriesIndex[i] = series;
    const c = this.cols;
    c[0]!.data[i] = r.start;
    c[1]!.data[i] = r.count;
    c[2]!.data[i] = r.sum;
    c[3]!.data[i] = r.min;
    c[4]!.data[i] = r.max;
    c[5]!.data[i] = r.first;
    c[6]!.data[i] = r.last;
    c[7]!.data[i] = r.increase ?? 0;
    this.hasInc[i] = r.increase === null ? 0 : 1;
  }

  rawRows(): RawRows {
    const n = this.length;
    return { series: this.series, length: n, seriesIndex: this.seriesIndex.subarray(0, n), timestamps: this.col(0), values: this.col(1) };
  }

  rollupRows(): RollupRows {
    const n = this.length;
    return {
      series: this.series,
      length: n,
      seriesIndex: this.seriesIndex.subarray(0, n),
      starts: this.col(0),
      counts: this.col(1),
      sums: this.col(2),
      mins: this.col(3),
      maxs: this.col(4),
      firsts: this.col(5),
      lasts: this.col(6),
      increases: this.col(7),
      hasIncrease: this.hasInc.subarray(0, n),
    };
  }

  private col(i: number): Float64Array {
    return this.cols[i]!.data.subarray(0, this.length);
  }
}
