/**
 * Where the query engine reads series from: raw samples or rollups of one metric in a time
 * range. Implementations: the archive (DuckDB over Parquet) and the in-memory head of samples not
 * archived yet. Label matchers are applied by the engine, so a source only filters by name and time.
 */

/** A rollup resolution of the archive. */
export type RollupResolution = '1m' | '1h';

export const RESOLUTION_MS: Record<RollupResolution, number> = { '1m': 60_000, '1h': 3_600_000 };

/** Raw samples of one series in time order. */
export interface RawSeries {
  /** Stable series key (16 hex digits of the series id). */
  key: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  times: number[];
  values: number[];
}

/** One closed window of one series (the RollupBatch fields). */
export interface RollupPoint {
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
  increase: number | null;
}

export interface RollupSeries {
  key: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  points: RollupPoint[];
}

/** Identity of a series, for /api/v1/series and label listings. */
export interface SeriesMeta {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface SampleSource {
  /** Raw samples of `metric` with start <= t < end. */
  raw(metric: string, start: number, end: number): Promise<RawSeries[]>;
  /** Rollups of `metric` whose window starts in [start, end). */
  rollups(resolution: RollupResolution, metric: string, start: number, end: number): Promise<RollupSeries[]>;
  /** Series with samples in [start, end), optionally only of these metrics. */
  series(start: number, end: number, metrics?: readonly string[]): Promise<SeriesMeta[]>;
}
