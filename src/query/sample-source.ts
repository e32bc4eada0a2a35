/**
 * Where the query engine reads series from: raw samples or rollups of one metric in a time
 * range. Implementations: the archive (DuckDB over Parquet) and the in-memory head of samples not
 * archived yet. Label matchers are applied by the engine, so a source only filters by name and time.
 */

/** A rollup resolution of the archive. */
export type RollupResolution = '1m' | '1h';

export const RESOLUTION_MS: Record<RollupResolution, number> = { '1m': 60_000, '1h': 3_600_000 };

/** A series as the query engine sees it. */
export interface SeriesRef {
  /** Stable series key (the series id in decimal). */
  key: string;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** Raw samples as columns: row j is one sample (UTC ms, value). */
export interface RawColumns {
  times: Float64Array;
  values: Float64Array;
}

/**
 * Receives samples [from, to) of `columns`, all of `series`, in time order within the call. Calls
 * come in any order (a series may come in several runs); the columns are only valid during the call.
 */
export type RawVisitor = (series: SeriesRef, columns: RawColumns, from: number, to: number) => void;

/**
 * Rollup rows as columns (the RollupBatch fields; `increase` NaN where the rollup has none). Row j is
 * one closed window of one series. Columns, not one object per window: a day of 10k series at 1m is
 * 14.4M rows, read straight from DuckDB's vectors.
 */
export interface RollupColumns {
  start: Float64Array;
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  first: Float64Array;
  last: Float64Array;
  increase: Float64Array;
}

/**
 * Receives rows [from, to) of `columns`, all of `series`. Calls come in any order (a series may
 * come in several runs); the columns are only valid during the call.
 */
export type RollupVisitor = (series: SeriesRef, columns: RollupColumns, from: number, to: number) => void;

/** Identity of a series, for /api/v1/series and label listings. */
export interface SeriesMeta {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface SampleSource {
  /** Streams the raw samples of `metric` with start <= t < end to `visit`. */
  raw(metric: string, start: number, end: number, visit: RawVisitor): Promise<void>;
  /** Streams the rollups of `metric` whose window starts in [start, end) to `visit`. */
  rollups(resolution: RollupResolution, metric: string, start: number, end: number, visit: RollupVisitor): Promise<void>;
  /** Series with samples in [start, end), optionally only of these metrics. */
  series(start: number, end: number, metrics?: readonly string[]): Promise<SeriesMeta[]>;
}
