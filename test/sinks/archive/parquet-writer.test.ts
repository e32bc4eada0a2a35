import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawRows } from '../../../src/sinks/archive/archive-rows.js';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { rawRows, readBack, rollupRows } from './archive-fixtures.js';

let dir: string;
let writer: ParquetWriter;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-pq-'));
  writer = await ParquetWriter.open({ rowGroupSize: 4096 });
});
afterAll(async () => {
  writer.close();
  await rm(dir, { recursive: true, force: true });
});

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Scrape jitter of 0-39 ms on each sample (each series' times still ascend: they are 10 s apart). */
const jittered = (rows: RawRows): RawRows => ({ ...rows, timestamps: rows.timestamps.map((t, i) => t + ((i * 7919) % 40)) });

describe('ParquetWriter', () => {
  it('raw files read back by DuckDB equal the input exactly, sorted by (name, series_id, time)', async () => {
    const rows = rawRows();
    const path = join(dir, 'raw.parquet');
    const stats = await writer.writeRaw(rows, path);
    expect(stats.rows).toBe(rows.length);
    const got = await readBack(
      `SELECT name, map_entries(labels) AS labels, series_id, epoch_ms("timestamp") AS ts, value FROM read_parquet('${path}')`,
    );
    const expected = Array.from({ length: rows.length }, (_, i) => {
      const s = rows.series[rows.seriesIndex[i]!]!;
      return { name: s.name, labels: Object.entries(s.labels).map(([key, value]) => ({ key, value })), series_id: s.id, ts: rows.timestamps[i]!, value: rows.values[i]! };
    }).sort((a, b) => byKey(a.name, b.name) || (a.series_id < b.series_id ? -1 : a.series_id > b.series_id ? 1 : 0) || a.ts - b.ts);
    expect(got.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const g = got[i]!;
      const e = expected[i]!;
      expect({ ...g, ts: Number(g.ts), value: undefined }).toEqual({ ...e, value: undefined });
      // Bit-exact values, NaN and -0 included.
      expect(Object.is(g.value, e.value) || (Number.isNaN(g.value) && Number.isNaN(e.value))).toBe(true);
    }
  });

  it('writes the contract column types', async () => {
    const path = join(dir, 'types.parquet');
    await writer.writeRaw(jittered(rawRows(1, 2)), path);
    const cols = await readBack(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(cols.map((c) => [c.column_name, c.column_type])).toEqual([
      ['name', 'VARCHAR'],
      ['labels', 'MAP(VARCHAR, VARCHAR)'],
      ['series_id', 'BIGINT'],
      ['timestamp', 'TIMESTAMP'],
      ['value', 'DOUBLE'],
    ]);
    const schema = await readBack(`SELECT name, type, converted_type FROM parquet_schema('${path}') WHERE name = 'timestamp'`);
    const rollupPath = join(dir, 'types-rollup.parquet');
    await writer.writeRollups(rollupRows(), rollupPath);
    schema.push(...(await readBack(`SELECT name, type, converted_type FROM parquet_schema('${rollupPath}') WHERE name = 'start'`)));
    for (const c of schema) expect(c).toMatchObject({ type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' });
    expect(schema.length).toBe(2);
    // The timestamp column may be Vigil's (uncompressed pages, next test); the others are DuckDB's.
    const meta = await readBack(`SELECT DISTINCT path_in_schema AS col, compression FROM parquet_metadata('${path}') ORDER BY ALL`);
    expect(meta.filter((m) => m.col !== 'timestamp').every((m) => m.compression === 'ZSTD')).toBe(true);
  });

  it('raw timestamps written as a page per series read back the same in DuckDB and in hyparquet (an independent reader), many series and row groups', async () => {
    const rows = jittered(rawRows(60, 360)); // 121 series of an hour's 360 samples, 43,560 rows: 11 row groups of 4,096
    const path = join(dir, 'pages.parquet');
    await writer.writeRaw(rows, path);
    const duck = await readBack(`SELECT epoch_ms("timestamp")::DOUBLE AS ts FROM read_parquet('${path}')`);
    const hy = await parquetReadObjects({ file: await asyncBufferFromFile(path), columns: ['timestamp'] });
    const ms = (v: unknown) => Number(v instanceof Date ? v.getTime() : v);
    expect(hy.map((r) => ms(r.timestamp))).toEqual(duck.map((r) => r.ts));
    // In file order, each series' timestamps ascend (they arrived time-major).
    const order = await readBack(`SELECT series_id, epoch_ms("timestamp")::DOUBLE AS ts FROM read_parquet('${path}')`);
    let backwards = 0;
    for (let i = 1; i < order.length; i++) if (order[i]!.series_id === order[i - 1]!.series_id && (order[i]!.ts as number) < (order[i - 1]!.ts as number)) backwards++;
    expect(backwards).toBe(0);
    expect(new Set(order.map((r) => r.ts)).size).toBeGreaterThan(100);
    // One uncompressed DELTA_BINARY_PACKED page per series, DuckDB's columns ZSTD.
    const meta = await readBack(`SELECT DISTINCT compression, encodings FROM parquet_metadata('${path}') WHERE path_in_schema = 'timestamp'`);
    expect(meta).toEqual([{ compression: 'UNCOMPRESSED', encodings: 'RLE, DELTA_BINARY_PACKED' }]);
  });

  it('files written before the per-series timestamp pages and after read as one table, also merged', async () => {
    const rows = jittered(rawRows(20, 360));
    const old = await ParquetWriter.open({ rowGroupSize: 4096, timestampPages: 'duckdb' });
    const oldPath = join(dir, 'old.parquet');
    const newPath = join(dir, 'new.parquet');
    const later = { ...rows, timestamps: rows.timestamps.map((t) => t + 3_600_000) };
    await old.writeRaw(rows, oldPath);
    old.close();
    await writer.writeRaw(later, newPath);
    const all = `SELECT name, series_id, epoch_ms("timestamp")::DOUBLE AS ts, value FROM read_parquet(['${oldPath}', '${newPath}']) ORDER BY name, series_id, ts`;
    const both = await readBack(all);
    expect(both.length).toBe(2 * rows.length);
    const merged = join(dir, 'merged.parquet');
    expect((await writer.merge([oldPath, newPath], 'timestamp', merged)).rows).toBe(2 * rows.length);
    const back = await readBack(`SELECT name, series_id, epoch_ms("timestamp")::DOUBLE AS ts, value FROM read_parquet('${merged}') ORDER BY name, series_id, ts`);
    expect(back.map((r) => ({ ...r, value: String(r.value) }))).toEqual(both.map((r) => ({ ...r, value: String(r.value) })));
    const columns = await readBack(`DESCRIBE SELECT * FROM read_parquet('${merged}')`);
    expect(columns.map((c) => c.column_name)).toEqual(['name', 'labels', 'series_id', 'timestamp', 'value']);
    const encodings = await readBack(`SELECT DISTINCT encodings FROM parquet_metadata('${merged}') WHERE path_in_schema = 'timestamp'`);
    expect(encodings).toEqual([{ encodings: 'RLE, DELTA_BINARY_PACKED' }]);
  });

  it('rollup files read back equal the input, increase NULL for gauges', async () => {
    const rows = rollupRows();
    const path = join(dir, 'rollup.parquet');
    await writer.writeRollups(rows, path);
    const got = await readBack(
      `SELECT name, series_id, epoch_ms("start") AS start, "count", "sum", "min", "max", "first", "last", "increase" FROM read_parquet('${path}')`,
    );
    const expected = Array.from({ length: rows.length }, (_, i) => {
      const s = rows.series[rows.seriesIndex[i]!]!;
      return {
        name: s.name,
        series_id: s.id,
        start: rows.starts[i]!,
        count: BigInt(rows.counts[i]!),
        sum: rows.sums[i]!,
        min: rows.mins[i]!,
        max: rows.maxs[i]!,
        first: rows.firsts[i]!,
        last: rows.lasts[i]!,
        increase: rows.hasIncrease[i] ? rows.increases[i]! : null,
      };
    }).sort((a, b) => byKey(a.name, b.name) || (a.series_id < b.series_id ? -1 : a.series_id > b.series_id ? 1 : 0) || a.start - b.start);
    expect(got.map((g) => ({ ...g, start: Number(g.start) }))).toEqual(expected);
    const cols = await readBack(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(cols.map((c) => c.column_name)).toEqual(['name', 'labels', 'series_id', 'start', 'count', 'sum', 'min', 'max', 'first', 'last', 'increase']);
  });

  it('keeps the archive order across many row groups (single-threaded COPY)', async () => {
    const rows = rawRows(200, 60);
    const path = join(dir, 'big.parquet');
    await writer.writeRaw(rows, path);
    const bad = await readBack(
      `SELECT count(*)::INTEGER AS n FROM (SELECT name, series_id, "timestamp" AS t, lag(name) OVER w AS pn, lag(series_id) OVER w AS ps, lag("timestamp") OVER w AS pt
       FROM read_parquet('${path}', file_row_number = true) WINDOW w AS (ORDER BY file_row_number))
       WHERE pn IS NOT NULL AND NOT (pn < name OR (pn = name AND (ps < series_id OR (ps = series_id AND pt <= t))))`,
    );
    const groups = await readBack(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${path}')`);
    expect(groups[0]!.n).toBeGreaterThan(3);
    expect(bad[0]!.n).toBe(0);
  });

  it('keeps -0.0 and 0.0 apart (DuckDB dictionaries would merge them), also through a merge', async () => {
    const rows = rawRows(3, 400);
    for (let i = 0; i < rows.length; i++) rows.values[i] = i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : 1;
    const path = join(dir, 'zeros.parquet');
    await writer.writeRaw(rows, path);
    const merged = join(dir, 'zeros-merged.parquet');
    await writer.merge([path], 'timestamp', merged);
    for (const p of [path, merged]) {
      const got = await readBack(`SELECT count(*) FILTER (WHERE value = 0 AND 1 / value < 0)::INTEGER AS neg, count(*) FILTER (WHERE value = 0 AND 1 / value > 0)::INTEGER AS pos FROM read_parquet('${p}')`);
      expect(got).toEqual([{ neg: Math.ceil(rows.length / 3), pos: Math.floor((rows.length + 1) / 3) }]);
    }
  });

  it('leaves the timestamps to DuckDB when a page per series would be larger: scrapes at exact intervals, short series', async () => {
    const regular = join(dir, 'regular.parquet');
    await writer.writeRaw(rawRows(50, 360), regular);
    const short = join(dir, 'short.parquet');
    await writer.writeRaw(jittered(rawRows(50, 20)), short);
    for (const path of [regular, short]) {
      const ts = await readBack(`SELECT DISTINCT compression, encodings FROM parquet_metadata('${path}') WHERE path_in_schema = 'timestamp'`);
      expect(ts).toEqual([{ compression: 'ZSTD', encodings: 'DELTA_BINARY_PACKED' }]);
    }
  });

  it('reports a write failure with ARCHIVE_WRITE', async () => {
    await expect(writer.writeRaw(rawRows(1, 2), join(dir, 'no/such/dir/x.parquet'))).rejects.toMatchObject({ code: 'ARCHIVE_WRITE' });
  });
});
