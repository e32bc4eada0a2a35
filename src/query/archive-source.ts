/**
 * Reads series from the Parquet archive through DuckDB (the archive's `raw`, `rollup_1m` and
 * `rollup_1h` views). Only the metric name and the time range are pushed into SQL (with the hive
 * `date` column so DuckDB skips other days); label matchers are applied by the query engine. Rows
 * stream to the engine as columns, chunk by chunk, never as one object per sample or window.
 */
import type { ArchiveQuery } from '../sinks/archive/archive-query.js';
import { VIEW_NAMES } from '../sinks/archive/archive-query.js';
import bindings from '@duckdb/node-bindings';
import type { RawVisitor, RollupResolution, RollupVisitor, SampleSource, SeriesMeta, SeriesRef } from './sample-source.js';

const HOUR_MS = 3_600_000;
const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** DuckDB's JSON form of a MAP: an array of {key, value} (or an object in some versions). */
function mapLabels(v: unknown): Record<string, string> {
  if (Array.isArray(v)) return Object.fromEntries(v.map((e: { key: string; value: string }) => [e.key, e.value]));
  return (v ?? {}) as Record<string, string>;
}

export class ArchiveSource implements SampleSource {
  private viewsAt = 0;

  /** `refreshMs`: how long the list of archive files is reused before it is read again. */
  constructor(
    private readonly archive: ArchiveQuery,
    private readonly refreshMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private async fresh(): Promise<void> {
    if (this.now() - this.viewsAt < this.refreshMs) return;
    await this.archive.defineViews();
    this.viewsAt = this.now();
  }

  private timeFilter(column: string, start: number, end: number): string {
    return `"${column}" >= epoch_ms(${Math.floor(start)}::BIGINT) AND "${column}" < epoch_ms(${Math.ceil(end)}::BIGINT) AND date BETWEEN ${sql(day(start))} AND ${sql(day(end))}`;
  }

  private async seriesLabels(view: string, where: string): Promise<Map<string, { name: string; labels: Record<string, string> }>> {
    const res = await this.archive.run(`SELECT series_id::VARCHAR AS sid, any_value(name) AS name, any_value(labels) AS labels FROM ${view} WHERE ${where} GROUP BY series_id`);
    return new Map(res.rows.map((r) => [String(r.sid), { name: String(r.name), labels: mapLabels(r.labels) }]));
  }

  /**
   * Runs `select` (series_id, then DOUBLE columns that are never NULL: the archive writes none but
   * `increase`, which the caller coalesces) and hands each run of one series' rows to `onRun` as
   * typed arrays over DuckDB's own (flat, as result chunks are) vectors. Labels come from the 1h
   * rollups of the same hours (the MAP column is the costly one to read, and 1h has the fewest
   * rows); at the first series they lack (an hour not rolled up yet), those of `view` are read once.
   */
  private async streamRuns(
    metric: string,
    view: string,
    where: string,
    start: number,
    end: number,
    select: string,
    onRun: (series: SeriesRef, columns: Float64Array[], from: number, to: number) => void,
  ): Promise<void> {
    const meta = await this.seriesLabels(VIEW_NAMES['1h'], `name = ${sql(metric)} AND ${this.timeFilter('start', Math.floor(start / HOUR_MS) * HOUR_MS, end)}`);
    let complete = false;
    for await (const chunk of this.archive.chunks(`SELECT series_id, ${select} FROM ${view} WHERE ${where}`)) {
      const n = chunk.rowCount;
      const vector = (i: number) => bindings.vector_get_data(bindings.data_chunk_get_vector(chunk.chunk, i), n * 8);
      const ids = vector(0);
      // Each series id as two int32 words, so runs are found without a BigInt per row.
      const words = new Int32Array(ids.buffer, ids.byteOffset, n * 2);
      const idAt = new BigInt64Array(ids.buffer, ids.byteOffset, n);
      const columns: Float64Array[] = [];
      for (let i = 1; i < chunk.columnCount; i++) {
        const bytes = vector(i);
        columns.push(new Float64Array(bytes.buffer, bytes.byteOffset, n));
      }
      // The archive keeps a file's rows in (name, series, time) order: a series comes in runs.
      let from = 0;
      for (let j = 1; j <= n; j++) {
        if (j < n && words[2 * j] === words[2 * from] && words[2 * j + 1] === words[2 * from + 1]) continue;
        const key = String(idAt[from]);
        let m = meta.get(key);
        if (!m && !complete) {
          // The chunk stays valid: the stream waits until the next one is asked for.
          for (const [k, v] of await this.seriesLabels(view, where)) meta.set(k, v);
          complete = true;
          m = meta.get(key);
        }
        if (m) onRun({ key, name: m.name, labels: m.labels }, columns, from, j);
        from = j;
      }
    }
  }

  async raw(metric: string, start: number, end: number, visit: RawVisitor): Promise<void> {
    await this.fresh();
    const where = `name = ${sql(metric)} AND ${this.timeFilter('timestamp', start, end)}`;
    await this.streamRuns(metric, VIEW_NAMES.raw, where, start, end, `epoch_ms("timestamp")::DOUBLE, value`, (series, [times, values], from, to) =>
      visit(series, { times: times!, values: values! }, from, to),
    );
  }

  async rollups(resolution: RollupResolution, metric: string, start: number, end: number, visit: RollupVisitor): Promise<void> {
    await this.fresh();
    const where = `name = ${sql(metric)} AND ${this.timeFilter('start', start, end)}`;
    const select = `epoch_ms("start")::DOUBLE, "count"::DOUBLE, "sum", "min", "max", "first", "last", coalesce("increase", 'NaN'::DOUBLE)`;
    await this.streamRuns(metric, VIEW_NAMES[resolution], where, start, end, select, (series, c, from, to) => {
      const [windowStart, count, sum, min, max, first, last, increase] = c as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
      visit(series, { start: windowStart, count, sum, min, max, first, last, increase }, from, to);
    });
  }

  async series(start: number, end: number, metrics?: readonly string[]): Promise<SeriesMeta[]> {
    await this.fresh();
    const names = metrics?.length ? ` AND name IN (${metrics.map(sql).join(', ')})` : '';
    const res = await this.archive.run(
      `SELECT any_value(name) AS name, any_value(labels) AS labels FROM ${VIEW_NAMES['1m']} WHERE ${this.timeFilter('start', start, end)}${names} GROUP BY series_id
       UNION ALL SELECT any_value(name), any_value(labels) FROM ${VIEW_NAMES.raw} WHERE ${this.timeFilter('timestamp', start, end)}${names} GROUP BY series_id`,
    );
    const seen = new Map<string, SeriesMeta>();
    for (const r of res.rows) {
      const labels = mapLabels(r.labels);
      const key = `${r.name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (!seen.has(key)) seen.set(key, { name: String(r.name), labels });
    }
    return [...seen.values()];
  }
}
