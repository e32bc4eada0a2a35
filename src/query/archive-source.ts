/**
 * Reads series from the Parquet archive through DuckDB (the archive's `raw`, `rollup_1m` and
 * `rollup_1h` views). Only the metric name and the time range are pushed into SQL (with the hive
 * `date` column so DuckDB skips other days); label matchers are applied by the query engine.
 */
import type { ArchiveQuery } from '../sinks/archive/archive-query.js';
import { VIEW_NAMES } from '../sinks/archive/archive-query.js';
import type { RawSeries, RollupSeries, RollupResolution, SampleSource, SeriesMeta } from './sample-source.js';

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

  async raw(metric: string, start: number, end: number): Promise<RawSeries[]> {
    await this.fresh();
    const where = `name = ${sql(metric)} AND ${this.timeFilter('timestamp', start, end)}`;
    const meta = await this.seriesLabels(VIEW_NAMES.raw, where);
    if (meta.size === 0) return [];
    const res = await this.archive.run(
      `SELECT series_id::VARCHAR AS sid, list(epoch_ms("timestamp") ORDER BY "timestamp") AS t, list(value ORDER BY "timestamp") AS v FROM ${VIEW_NAMES.raw} WHERE ${where} GROUP BY series_id`,
    );
    return res.rows.map((r) => {
      const m = meta.get(String(r.sid))!;
      return { key: String(r.sid), name: m.name, labels: m.labels, times: (r.t as unknown[]).map(Number), values: (r.v as unknown[]).map(Number) };
    });
  }

  async rollups(resolution: RollupResolution, metric: string, start: number, end: number): Promise<RollupSeries[]> {
    await this.fresh();
    const view = VIEW_NAMES[resolution];
    const where = `name = ${sql(metric)} AND ${this.timeFilter('start', start, end)}`;
    const meta = await this.seriesLabels(view, where);
    if (meta.size === 0) return [];
    const res = await this.archive.run(
      `SELECT series_id::VARCHAR AS sid, list({s: epoch_ms("start"), c: "count", su: "sum", mi: "min", ma: "max", f: "first", l: "last", i: "increase"} ORDER BY "start") AS p FROM ${view} WHERE ${where} GROUP BY series_id`,
    );
    return res.rows.map((r) => {
      const m = meta.get(String(r.sid))!;
      const points = (r.p as Array<Record<string, unknown>>).map((p) => ({
        start: Number(p.s),
        count: Number(p.c),
        sum: Number(p.su),
        min: Number(p.mi),
        max: Number(p.ma),
        first: Number(p.f),
        last: Number(p.l),
        increase: p.i === null || p.i === undefined ? null : Number(p.i),
      }));
      return { key: String(r.sid), name: m.name, labels: m.labels, points };
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
