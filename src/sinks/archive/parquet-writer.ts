/**
 * Writes archive Parquet files with DuckDB (@duckdb/node-api). The fast path: rows are sorted in
 * JavaScript (archive-rows.ts), the numeric columns go into DuckDB as whole vectors (one memcpy per
 * 2048 rows, no per-value calls), the series (name, labels, id) into a small table, and one COPY
 * joins them into the file. The COPY runs single-threaded: DuckDB 1.5's parallel COPY does not keep
 * row order, and the archive's sort order is part of its format. Parallelism comes from writing
 * several files at once (one connection each).
 *
 * Columns (contracts.md): raw `name` VARCHAR, `labels` MAP(VARCHAR, VARCHAR), `series_id` BIGINT,
 * `timestamp` TIMESTAMP (INT64 millis, UTC values), `value` DOUBLE; rollups `name`, `labels`,
 * `series_id`, `start`, `count`, `sum`, `min`, `max`, `first`, `last`, `increase`.
 */
import { stat } from 'node:fs/promises';
import {
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  type DuckDBConnection,
  type DuckDBType,
} from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';
import { ArchiveError } from './archive-error.js';
import { gather, rankSeries, sortPermutation, type ArchiveSeries, type RawRows, type RollupRows, type SortOrder } from './archive-rows.js';
import { appendTimestampColumn, timestampPagesBytes } from './timestamp-column.js';

/** Parquet settings; the defaults are the ones bench/archive.ts measured best (docs/archive.md). */
export interface ParquetTuning {
  compression: 'zstd' | 'snappy' | 'uncompressed';
  compressionLevel: number;
  /** V2 enables DELTA_BINARY_PACKED for integers/timestamps and BYTE_STREAM_SPLIT for doubles. */
  parquetVersion: 'V1' | 'V2';
  rowGroupSize: number;
  /** Most distinct values of a column chunk that still get dictionary encoding (undefined: DuckDB's default). */
  dictionarySizeLimit?: number;
  order: SortOrder;
  /**
   * Raw files' timestamp column: `series` writes it with one DELTA_BINARY_PACKED page per series
   * (timestamp-column.ts); `duckdb` lets DuckDB write it (one stream per row group).
   */
  timestampPages: 'series' | 'duckdb';
}

export const DEFAULT_TUNING: ParquetTuning = {
  compression: 'zstd',
  // Level 9 and 491,520-row groups: -4 % bytes against level 3 / 245,760 at the same CPU per sample
  // (the encoders, the sort and the MAP column cost more than ZSTD does; bench/archive.ts --sweep).
  compressionLevel: 9,
  parquetVersion: 'V2',
  rowGroupSize: 491_520,
  // Dictionaries pay for names, labels and values with few distinct values per row group (constants,
  // slow counters, 2-decimal gauges: ~10k values); above this, timestamps and near-unique values are
  // cheaper as DELTA_BINARY_PACKED / BYTE_STREAM_SPLIT (measured by bench/archive.ts --dict-sweep).
  dictionarySizeLimit: 16_000,
  order: 'name-series-time',
  // Per-series pages: timestamps 1.65 -> 1.1 B/sample on realistic data (bench/archive.ts --realistic).
  timestampPages: 'series',
};

/**
 * When a page per series is smaller than DuckDB's timestamp column (bench/archive.ts, the synthetic
 * fleet and the realistic data set): not when the timestamps are regular (scrapes at exact intervals
 * pack at 0 bits, below REGULAR_TIMESTAMP_BYTES per row, and DuckDB's ZSTD stream is ~0.02 B/row while
 * page headers alone are ~0.1), and not when the series are so short in the file (a file cut by size
 * holds minutes of each series) that page headers and first values cost more than DuckDB's stream of
 * jittered timestamps, ~1.65 B/row whatever the series' length (every 2,048-value block then holds a
 * series boundary): above PAGES_MAX_BYTES. Jittered hourly series cost ~1.05 B/row as pages.
 */
const REGULAR_TIMESTAMP_BYTES = 0.1;
const PAGES_MAX_BYTES = 1.6;

function pagesPay(timestamps: Float64Array, starts: readonly number[]): boolean {
  const { bytes, packed } = timestampPagesBytes(timestamps, starts);
  return packed >= REGULAR_TIMESTAMP_BYTES * timestamps.length && bytes <= PAGES_MAX_BYTES * timestamps.length;
}

/** What a write produced. */
export interface WriteStats {
  rows: number;
  bytes: number;
}

const VECTOR = 2048;
let tableSeq = 0;

export class ParquetWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly tuning: ParquetTuning,
  ) {}

  /** Opens an in-memory DuckDB for writing. Close it with `close()`. */
  static async open(tuning: Partial<ParquetTuning> = {}, options: { tempDirectory?: string } = {}): Promise<ParquetWriter> {
    // Large merges spill to disk instead of failing when they exceed memory.
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', ...(options.tempDirectory ? { temp_directory: options.tempDirectory } : {}) });
    return new ParquetWriter(instance, { ...DEFAULT_TUNING, ...tuning });
  }

  /** Writes raw samples to the local file `path` (replaced if present). */
  async writeRaw(rows: RawRows, path: string): Promise<WriteStats> {
    const { sorted, rank } = rankSeries(rows.series, this.tuning.order);
    const perm = sortPermutation(rows.seriesIndex, rows.timestamps, rows.length, rank, this.tuning.order);
    const idx = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) idx[i] = rank[rows.seriesIndex[perm[i]!]!]!;
    const timestamps = gather(rows.timestamps, perm);
    const values: Column = { name: 'value', type: DOUBLE, data: gather(rows.values, perm) };
    const negZero = hasNegativeZero(rows.values);
    const starts = this.tuning.order === 'name-series-time' ? seriesStarts(idx) : [];
    if (this.tuning.timestampPages === 'duckdb' || starts.length === 0 || !pagesPay(timestamps, starts)) {
      const select = `s.name, s.labels, s.series_id, make_timestamp_ms(x.ts::BIGINT)::TIMESTAMP_MS AS "timestamp", x.value`;
      return this.write(sorted, [{ name: 'idx', type: INTEGER, data: idx }, { name: 'ts', type: DOUBLE, data: timestamps }, values], rows.length, select, path, negZero);
    }
    const stats = await this.write(sorted, [{ name: 'idx', type: INTEGER, data: idx }, values], rows.length, 's.name, s.labels, s.series_id, x.value', path, negZero);
    await this.appendTimestamps(path, timestamps, starts);
    return { rows: stats.rows, bytes: (await stat(path)).size };
  }

  private async appendTimestamps(path: string, timestamps: Float64Array, starts: number[]): Promise<void> {
    try {
      await appendTimestampColumn(path, timestamps, starts);
    } catch (err) {
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError('ARCHIVE_WRITE', `Cannot write the timestamp column of ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Writes rollups to the local file `path` (replaced if present). */
  async writeRollups(rows: RollupRows, path: string): Promise<WriteStats> {
    const { sorted, rank } = rankSeries(rows.series, this.tuning.order);
    const perm = sortPermutation(rows.seriesIndex, rows.starts, rows.length, rank, this.tuning.order);
    const idx = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) idx[i] = rank[rows.seriesIndex[perm[i]!]!]!;
    const cols: Column[] = [
      { name: 'idx', type: INTEGER, data: idx },
      { name: 'start', type: DOUBLE, data: gather(rows.starts, perm) },
      { name: 'cnt', type: DOUBLE, data: gather(rows.counts, perm) },
      { name: 'sm', type: DOUBLE, data: gather(rows.sums, perm) },
      { name: 'mn', type: DOUBLE, data: gather(rows.mins, perm) },
      { name: 'mx', type: DOUBLE, data: gather(rows.maxs, perm) },
      { name: 'fst', type: DOUBLE, data: gather(rows.firsts, perm) },
      { name: 'lst', type: DOUBLE, data: gather(rows.lasts, perm) },
      { name: 'inc', type: DOUBLE, data: gather(rows.increases, perm) },
      { name: 'has_inc', type: BOOLEAN, data: gather(rows.hasIncrease, perm) },
    ];
    const select =
      `s.name, s.labels, s.series_id, make_timestamp_ms(x.start::BIGINT)::TIMESTAMP_MS AS "start", x.cnt::BIGINT AS "count", ` +
      `x.sm AS "sum", x.mn AS "min", x.mx AS "max", x.fst AS "first", x.lst AS "last", CASE WHEN x.has_inc THEN x.inc END AS "increase"`;
    const negZero = [rows.sums, rows.mins, rows.maxs, rows.firsts, rows.lasts, rows.increases].some(hasNegativeZero);
    return this.write(sorted, cols, rows.length, select, path, negZero);
  }

  /**
   * Merges archive files of one resolution into `path`, in archive order. Returns the rows written;
   * throws ARCHIVE_WRITE when they differ from the rows read (compaction must keep every row).
   */
  async merge(paths: readonly string[], timeColumn: 'timestamp' | 'start', path: string): Promise<WriteStats> {
    const con = await this.instance.connect();
    try {
      const list = `[${paths.map(sqlString).join(', ')}]`;
      const input = await con.runAndReadAll(`SELECT sum(num_rows)::DOUBLE AS n FROM parquet_file_metadata(${list})`);
      const expected = Number(input.getRowObjectsJS()[0]!.n);
      const order = this.tuning.order === 'name-series-time' ? `ORDER BY name, series_id, "${timeColumn}"` : '';
      const doubles = timeColumn === 'timestamp' ? ['value'] : ['sum', 'min', 'max', 'first', 'last', 'increase'];
      const negZero = await con.runAndReadAll(
        `SELECT count(*)::DOUBLE AS n FROM read_parquet(${list}, hive_partitioning = false) WHERE ${doubles.map((c) => `("${c}" = 0 AND 1 / "${c}" < 0)`).join(' OR ')}`,
      );
      const noDictionary = Number(negZero.getRowObjectsJS()[0]!.n) > 0;
      // Raw files get the timestamp column of writeRaw: read in the merged order first to choose.
      // Rows with equal (name, series_id, timestamp) may come in either order: their timestamps are equal.
      const pages =
        timeColumn === 'timestamp' && this.tuning.timestampPages === 'series' && this.tuning.order === 'name-series-time'
          ? await orderedTimestamps(con, `SELECT series_id, epoch_ms("timestamp")::DOUBLE FROM read_parquet(${list}, hive_partitioning = false) ${order}`, expected)
          : undefined;
      if (pages && pagesPay(pages.timestamps, pages.starts)) {
        await con.run(`COPY (SELECT * EXCLUDE ("timestamp") FROM read_parquet(${list}, hive_partitioning = false) ${order}) TO ${sqlString(path)} (${this.copyOptions(noDictionary)})`);
        await this.appendTimestamps(path, pages.timestamps, pages.starts);
      } else {
        await con.run(`COPY (SELECT * FROM read_parquet(${list}, hive_partitioning = false) ${order}) TO ${sqlString(path)} (${this.copyOptions(noDictionary)})`);
      }
      const output = await con.runAndReadAll(`SELECT num_rows::DOUBLE AS n FROM parquet_file_metadata(${sqlString(path)})`);
      const rows = Number(output.getRowObjectsJS()[0]!.n);
      if (rows !== expected) throw new ArchiveError('ARCHIVE_WRITE', `Merged ${rows} rows into ${path}, expected ${expected}`);
      return { rows, bytes: (await stat(path)).size };
    } catch (err) {
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError('ARCHIVE_WRITE', `Cannot merge into ${path}: ${(err as Error).message}`, { cause: err });
    } finally {
      con.closeSync();
    }
  }

  /**
   * COPY options. `noDictionary`: DuckDB 1.5's Parquet dictionary treats -0.0 and 0.0 as one value (the
   * first one seen wins for both), so a file holding a negative zero is written without dictionaries:
   * bigger, but every value reads back bit-exact.
   */
  private copyOptions(noDictionary = false): string {
    const t = this.tuning;
    return [
      'FORMAT parquet',
      `COMPRESSION ${t.compression}`,
      ...(t.compression === 'zstd' ? [`COMPRESSION_LEVEL ${t.compressionLevel}`] : []),
      `PARQUET_VERSION ${t.parquetVersion}`,
      `ROW_GROUP_SIZE ${t.rowGroupSize}`,
      ...(noDictionary ? ['DICTIONARY_SIZE_LIMIT 0'] : t.dictionarySizeLimit !== undefined ? [`DICTIONARY_SIZE_LIMIT ${t.dictionarySizeLimit}`] : []),
    ].join(', ');
  }

  private async write(series: ArchiveSeries[], cols: Column[], length: number, select: string, path: string, noDictionary: boolean): Promise<WriteStats> {
    const n = ++tableSeq;
    const con = await this.instance.connect();
    try {
      await loadSeries(con, `s_${n}`, series);
      await loadColumns(con, `x_${n}`, cols, length);
      // The file's rows must come out in the load order of x (the archive order, and the order of the
      // timestamps appended afterwards): x must be the probe side of the hash join, whatever the
      // optimizer would estimate (with few rows it builds on x and the output follows s).
      await con.run(`SET disabled_optimizers = 'join_order,build_side_probe_side'`);
      await con.run(`COPY (SELECT ${select} FROM x_${n} x JOIN s_${n} s ON x.idx = s.idx) TO ${sqlString(path)} (${this.copyOptions(noDictionary)})`);
      return { rows: length, bytes: (await stat(path)).size };
    } catch (err) {
      if (err instanceof ArchiveError) throw err;
      throw new ArchiveError('ARCHIVE_WRITE', `Cannot write ${path}: ${(err as Error).message}`, { cause: err });
    } finally {
      await con.run(`DROP TABLE IF EXISTS x_${n}; DROP TABLE IF EXISTS s_${n}`).catch(() => undefined);
      con.closeSync();
    }
  }

  /**
   * Reads the identity of every row of archive files: `visit(idWords, times, n)` gets each chunk's
   * series ids as int32 word pairs (low, high) and its times (`timeColumn`) as epoch ms. The arrays
   * are valid during the call only.
   */
  async scanKeys(paths: readonly string[], timeColumn: 'timestamp' | 'start', visit: (idWords: Int32Array, times: Float64Array, n: number) => void): Promise<void> {
    if (paths.length === 0) return;
    const con = await this.instance.connect();
    try {
      const result = await con.stream(`SELECT series_id, epoch_ms("${timeColumn}")::DOUBLE AS t FROM read_parquet([${paths.map(sqlString).join(', ')}])`);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) return;
        const n = chunk.rowCount;
        const ids = bindings.vector_get_data(bindings.data_chunk_get_vector(chunk.chunk, 0), n * 8);
        const times = bindings.vector_get_data(bindings.data_chunk_get_vector(chunk.chunk, 1), n * 8);
        visit(new Int32Array(ids.buffer, ids.byteOffset, n * 2), new Float64Array(times.buffer, times.byteOffset, n), n);
      }
    } catch (err) {
      throw new ArchiveError('ARCHIVE_READ', `Cannot read ${paths.join(', ')}: ${(err as Error).message}`, { cause: err });
    } finally {
      con.closeSync();
    }
  }

  /** Closes DuckDB. */
  close(): void {
    this.instance.closeSync();
  }
}

interface Column {
  name: string;
  type: DuckDBType;
  data: Int32Array | Float64Array | Uint8Array;
}

/** The timestamps of `sql` (series_id, epoch ms) in its order, and the rows where the series id changes. */
async function orderedTimestamps(con: DuckDBConnection, sql: string, rows: number): Promise<{ timestamps: Float64Array; starts: number[] }> {
  const timestamps = new Float64Array(rows);
  const starts: number[] = [];
  let at = 0;
  let lo = 0;
  let hi = 0;
  const result = await con.stream(sql);
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const n = chunk.rowCount;
    const ids = bindings.vector_get_data(bindings.data_chunk_get_vector(chunk.chunk, 0), n * 8);
    const words = new Int32Array(ids.buffer, ids.byteOffset, n * 2);
    const times = bindings.vector_get_data(bindings.data_chunk_get_vector(chunk.chunk, 1), n * 8);
    timestamps.set(new Float64Array(times.buffer, times.byteOffset, n), at);
    for (let i = 0; i < n; i++, at++) {
      if (at === 0 || words[2 * i] !== lo || words[2 * i + 1] !== hi) starts.push(at);
      lo = words[2 * i]!;
      hi = words[2 * i + 1]!;
    }
  }
  if (at !== rows) throw new ArchiveError('ARCHIVE_WRITE', `Read ${at} timestamps to merge, expected ${rows}`);
  return { timestamps, starts };
}

/** Rows where the series index changes (0 first): the timestamp column's page boundaries. */
function seriesStarts(idx: ArrayLike<number>): number[] {
  const starts: number[] = [];
  for (let i = 0; i < idx.length; i++) if (i === 0 || idx[i] !== idx[i - 1]) starts.push(i);
  return starts;
}

function hasNegativeZero(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] === 0 && Object.is(a[i], -0)) return true;
  return false;
}

/** SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

async function loadSeries(con: DuckDBConnection, table: string, series: ArchiveSeries[]): Promise<void> {
  await con.run(`CREATE TABLE ${table}_j (idx INTEGER, name VARCHAR, labels VARCHAR, series_id BIGINT)`);
  const app = await con.createAppender(`${table}_j`);
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    app.appendInteger(i);
    app.appendVarchar(s.name);
    app.appendVarchar(JSON.stringify(s.labels));
    app.appendBigInt(s.id);
    app.endRow();
  }
  app.closeSync();
  // One JSON cast per series builds the MAP column far faster than appending MAP values one by one.
  await con.run(
    `CREATE TABLE ${table} AS SELECT idx, name, labels::JSON::MAP(VARCHAR, VARCHAR) AS labels, series_id FROM ${table}_j; DROP TABLE ${table}_j`,
  );
}

async function loadColumns(con: DuckDBConnection, table: string, cols: Column[], length: number): Promise<void> {
  await con.run(`CREATE TABLE ${table} (${cols.map((c) => `${c.name} ${c.type.toString()}`).join(', ')})`);
  const app = await con.createAppender(table);
  const chunk = DuckDBDataChunk.create(cols.map((c) => c.type));
  for (let off = 0; off < length; off += VECTOR) {
    const n = Math.min(VECTOR, length - off);
    chunk.reset();
    cols.forEach((c, i) => {
      const width = c.data.BYTES_PER_ELEMENT;
      bindings.copy_data_to_vector(bindings.data_chunk_get_vector(chunk.chunk, i), 0, c.data.buffer as ArrayBuffer, c.data.byteOffset + off * width, n * width);
    });
    chunk.rowCount = n;
    app.appendDataChunk(chunk);
  }
  app.closeSync();
}
