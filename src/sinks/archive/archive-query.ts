/**
 * SQL over the archive with DuckDB: views `raw`, `rollup_1m` and `rollup_1h` over the live objects
 * (superseded parts hidden, see layout.ts), with the hive columns `resolution` VARCHAR, `date` DATE
 * and `hour` INTEGER from the path, so `WHERE date = '2026-11-25' AND hour = 10` reads only that hour.
 *
 * Local archives are read in place. For S3: @duckdb/node-api 1.5 does not bundle the httpfs extension
 * and it cannot be installed without network access, so the live objects of the selected time range
 * are downloaded once into a local cache (reused while key and size match) and read from there.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk } from '@duckdb/node-api';
import { ArchiveError } from './archive-error.js';
import { HOUR_MS, liveObjects, RESOLUTIONS, type Resolution } from './layout.js';
import { sqlString } from './parquet-writer.js';
import type { ObjectStore } from './storage/object-store.js';
import type { Progress } from './retention.js';

export const VIEW_NAMES: Record<Resolution, string> = { raw: 'raw', '1m': 'rollup_1m', '1h': 'rollup_1h' };

const HIVE = `hive_partitioning = true, hive_types = {'resolution': VARCHAR, 'date': DATE, 'hour': INTEGER}`;
const COLUMNS: Record<Resolution, string> = {
  raw: `name, labels, series_id, "timestamp", value`,
  '1m': `name, labels, series_id, "start", "count", "sum", "min", "max", "first", "last", "increase"`,
  '1h': `name, labels, series_id, "start", "count", "sum", "min", "max", "first", "last", "increase"`,
};
const EMPTY: Record<Resolution, string> = {
  raw: `NULL::VARCHAR AS name, NULL::MAP(VARCHAR, VARCHAR) AS labels, NULL::BIGINT AS series_id, NULL::TIMESTAMP AS "timestamp", NULL::DOUBLE AS value`,
  '1m': rollupColumns(),
  '1h': rollupColumns(),
};
function rollupColumns(): string {
  return (
    `NULL::VARCHAR AS name, NULL::MAP(VARCHAR, VARCHAR) AS labels, NULL::BIGINT AS series_id, NULL::TIMESTAMP AS "start", NULL::BIGINT AS "count", ` +
    `NULL::DOUBLE AS "sum", NULL::DOUBLE AS "min", NULL::DOUBLE AS "max", NULL::DOUBLE AS "first", NULL::DOUBLE AS "last", NULL::DOUBLE AS "increase"`
  );
}

export interface ArchiveQueryOptions {
  /** Only hours that end after this time (UTC ms). */
  since?: number;
  /** Only hours that start before this time (UTC ms). */
  until?: number;
  /** Cache of downloaded S3 objects (default <tmpdir>/vigil-archive-cache/<hash of the url>). */
  cacheDir?: string;
  progress?: Progress;
}

/** A query result: column names and rows of JSON-safe values (BIGINT and timestamps as strings). */
export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

export class ArchiveQuery {
  private constructor(
    private readonly store: ObjectStore,
    private readonly db: DuckDBInstance,
    private readonly con: DuckDBConnection,
    private readonly options: ArchiveQueryOptions,
  ) {}

  /** Opens DuckDB with the three views defined over `store`. Close with `close()`. */
  static async open(store: ObjectStore, options: ArchiveQueryOptions = {}): Promise<ArchiveQuery> {
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const q = new ArchiveQuery(store, db, con, options);
    try {
      await q.defineViews();
    } catch (err) {
      q.close();
      throw err;
    }
    return q;
  }

  /** Runs `sql` (the last statement's rows are returned). Errors are ARCHIVE_QUERY with DuckDB's message. */
  async run(sql: string): Promise<QueryResult> {
    try {
      return await this.runOnce(sql);
    } catch (err) {
      // A part deleted by compaction between listing and reading: list again (the merged file is live now).
      if (!/No files found|No such file|Cannot open file/i.test((err as Error).message)) throw this.queryError(err);
      await this.defineViews();
      return this.runOnce(sql).catch((e: unknown) => {
        throw this.queryError(e);
      });
    }
  }

  /**
   * Runs `sql` on a connection of its own and yields the result chunk by chunk as DuckDB produces
   * it, for large numeric results read as columns without materializing them (a chunk is valid until
   * the next one is requested). Errors are ARCHIVE_QUERY.
   */
  async *chunks(sql: string): AsyncGenerator<DuckDBDataChunk> {
    const con = await this.db.connect();
    try {
      const result = await con.stream(sql).catch((err: unknown) => {
        throw this.queryError(err);
      });
      for (;;) {
        const chunk = await result.fetchChunk().catch((err: unknown) => {
          throw this.queryError(err);
        });
        if (!chunk || chunk.rowCount === 0) return;
        yield chunk;
      }
    } finally {
      con.closeSync();
    }
  }

  private async runOnce(sql: string): Promise<QueryResult> {
    const reader = await this.con.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[] };
  }

  private queryError(err: unknown): ArchiveError {
    return new ArchiveError('ARCHIVE_QUERY', (err as Error).message, { cause: err });
  }

  /** (Re)defines the views over the live objects of the time range. */
  async defineViews(): Promise<void> {
    const say = this.options.progress ?? (() => undefined);
    for (const resolution of RESOLUTIONS) {
      const { live } = liveObjects(await this.store.list(`resolution=${resolution}/`));
      const selected = live.filter(
        (o) => (this.options.since === undefined || o.part.hourStart + HOUR_MS > this.options.since) && (this.options.until === undefined || o.part.hourStart < this.options.until),
      );
      const paths = await this.localPaths(selected, say);
      const view = VIEW_NAMES[resolution];
      const body =
        paths.length === 0
          ? `SELECT ${EMPTY[resolution]}, NULL::VARCHAR AS resolution, NULL::DATE AS date, NULL::INTEGER AS hour WHERE false`
          : `SELECT ${COLUMNS[resolution]}, resolution, date, hour FROM read_parquet([${paths.map(sqlString).join(', ')}], ${HIVE})`;
      await this.con.run(`CREATE OR REPLACE VIEW ${view} AS ${body}`);
      say(`view ${view}: ${paths.length} files`);
    }
  }

  private async localPaths(objects: { key: string; size: number }[], say: Progress): Promise<string[]> {
    if (this.store.localRoot) return objects.map((o) => join(this.store.localRoot!, o.key));
    const cache = this.options.cacheDir ?? join(tmpdir(), 'vigil-archive-cache', createHash('sha256').update(this.store.url).digest('hex').slice(0, 16));
    const out: string[] = [];
    let fetched = 0;
    for (const o of objects) {
      const path = join(cache, o.key);
      const cached = await stat(path).catch(() => undefined);
      if (cached?.size !== o.size) {
        await this.store.getFile(o.key, path);
        fetched++;
        if (fetched % 50 === 0) say(`downloaded ${fetched} objects to ${cache}`);
      }
      out.push(path);
    }
    if (fetched > 0) say(`downloaded ${fetched} objects to ${cache}`);
    return out;
  }

  close(): void {
    this.con.closeSync();
    this.db.closeSync();
  }
}

/** Renders a result as an aligned text table, CSV (RFC 4180) or JSON (an array of row objects). */
export function formatResult(result: QueryResult, format: 'table' | 'csv' | 'json'): string {
  const text = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (format === 'json') return `${JSON.stringify(result.rows, null, 0)}\n`;
  if (format === 'csv') {
    const cell = (v: unknown) => {
      const s = text(v);
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    return [result.columns.map(cell).join(','), ...result.rows.map((r) => result.columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
  }
  const cells = result.rows.map((r) => result.columns.map((c) => (r[c] === null ? 'NULL' : text(r[c]))));
  const widths = result.columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => row[i]!.length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!))).join(' | ');
  return [line(result.columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), `(${result.rows.length} rows)`].join('\n') + '\n';
}
