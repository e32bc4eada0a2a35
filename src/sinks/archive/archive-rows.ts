/**
 * The columnar rows the Parquet writer takes, and their sort into archive order
 * (name, series_id, time). Plain typed arrays: the archive never builds one object per sample.
 */

/** One series of a file: the archive's `name`, `labels` and `series_id` columns. */
export interface ArchiveSeries {
  /** Signed int64 series id (src/model/series.ts). */
  readonly id: bigint;
  readonly name: string;
  /** Merged labels, canonical (sorted) order. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Raw samples: row i is (series[seriesIndex[i]], timestamps[i], values[i]). */
export interface RawRows {
  readonly series: readonly ArchiveSeries[];
  readonly length: number;
  readonly seriesIndex: Uint32Array;
  /** UTC ms (integers). */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/** Rollups: row i is one window of series[seriesIndex[i]]. `hasIncrease[i]` 0 means increase is NULL. */
export interface RollupRows {
  readonly series: readonly ArchiveSeries[];
  readonly length: number;
  readonly seriesIndex: Uint32Array;
  /** Window start, UTC ms. */
  readonly starts: Float64Array;
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  readonly mins: Float64Array;
  readonly maxs: Float64Array;
  readonly firsts: Float64Array;
  readonly lasts: Float64Array;
  readonly increases: Float64Array;
  readonly hasIncrease: Uint8Array;
}

/** Row order of the written file. Only `name-series-time` is the archive's; the others exist for the benchmark. */
export type SortOrder = 'name-series-time' | 'series-time' | 'time-series' | 'input';

/** Series sorted by (name, id): returns the series in that order and each input series' rank. */
export function rankSeries(series: readonly ArchiveSeries[], order: SortOrder): { sorted: ArchiveSeries[]; rank: Uint32Array } {
  const idx = series.map((_, i) => i);
  if (order === 'name-series-time') idx.sort((a, b) => compareSeries(series[a]!, series[b]!));
  else if (order !== 'input') idx.sort((a, b) => (series[a]!.id < series[b]!.id ? -1 : series[a]!.id > series[b]!.id ? 1 : 0));
  const rank = new Uint32Array(series.length);
  idx.forEach((s, r) => (rank[s] = r));
  return { sorted: idx.map((i) => series[i]!), rank };
}

function compareSeries(a: ArchiveSeries, b: ArchiveSeries): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The permutation that puts rows in `order`: series rank, then time (stable for equal times).
 * O(n) counting sort by rank; a series' times are only sorted when they arrived out of order.
 */
export function sortPermutation(seriesIndex: Uint32Array, times: Float64Array, length: number, rank: Uint32Array, order: SortOrder): Uint32Array {
  const perm = new Uint32Array(length);
  if (order === 'input') {
    for (let i = 0; i < length; i++) perm[i] = i;
    return perm;
  }
  if (order === 'time-series') {
    for (let i = 0; i < length; i++) perm[i] = i;
    perm.sort((a, b) => times[a]! - times[b]! || rank[seriesIndex[a]!]! - rank[seriesIndex[b]!]! || a - b);
    return perm;
  }
  const nSeries = rank.length;
  const start = new Uint32Array(nSeries + 1);
  for (let i = 0; i < length; i++) start[rank[seriesIndex[i]!]! + 1]!++;
  for (let r = 0; r < nSeries; r++) start[r + 1]! += start[r]!;
  const next = start.slice(0, nSeries);
  for (let i = 0; i < length; i++) perm[next[rank[seriesIndex[i]!]!]!++] = i;
  for (let r = 0; r < nSeries; r++) {
    const a = start[r]!;
    const b = start[r + 1]!;
    let sorted = true;
    for (let j = a + 1; j < b && sorted; j++) if (times[perm[j]!]! < times[perm[j - 1]!]!) sorted = false;
    if (!sorted) {
      const seg = perm.subarray(a, b);
      seg.sort((x, y) => times[x]! - times[y]! || x - y);
    }
  }
  return perm;
}

/** `src` gathered through `perm` into a new array. */
export function gather<T extends Float64Array | Uint8Array>(src: T, perm: Uint32Array): T {
  const out = new (src.constructor as new (n: number) => T)(perm.length);
  for (let i = 0; i < perm.length; i++) out[i] = src[perm[i]!]!;
  return out;
}
