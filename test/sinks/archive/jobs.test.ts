import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SeriesTable } from '../../../src/model/decoded-batch.js';
import { ArchiveQuery, formatResult } from '../../../src/sinks/archive/archive-query.js';
import { ArchiveSink } from '../../../src/sinks/archive/archive-sink.js';
import { planCompaction, runCompaction } from '../../../src/sinks/archive/compaction.js';
import { HOUR_MS, liveObjects, parsePartKey } from '../../../src/sinks/archive/layout.js';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { planRetention, retentionMs, runRetention } from '../../../src/sinks/archive/retention.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { readBack } from './archive-fixtures.js';
import { decodedBatch, fleetRecords } from './sink-fixtures.js';

let writer: ParquetWriter;
let dir: string;
let store: LocalStore;
beforeAll(async () => {
  writer = await ParquetWriter.open({ rowGroupSize: 2048 });
});
afterAll(() => writer.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-jobs-'));
  store = new LocalStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY0 = Date.UTC(2026, 10, 1, 0);

/** Archives `hours` hours of raw data from `start` (2 hosts x 2 metrics, 1 record per host per minute), several parts per hour. */
async function archiveHours(start: number, hours: number, maxRowsPerFile = 100): Promise<number> {
  const sink = new ArchiveSink({ store, writer, maxRowsPerFile });
  const table = new SeriesTable();
  const records = fleetRecords(hours * 60 * 2, 2, 2, start).map((r) => r.map((s) => ({ ...s, ts: start + (s.ts - start) * 6 })));
  for (let off = 0; off < records.length; off++) {
    const batch = decodedBatch(table, 0, off, records[off]!);
    await sink.prepare('raw', 0, ArchiveSink.hoursOfBatch(batch));
    sink.addRaw(0, off, batch, 0);
  }
  await sink.flush(sink.all());
  return records.length * 2;
}

async function rollupHour(resolution: '1m' | '1h', hourStart: number): Promise<void> {
  const sink = new ArchiveSink({ store, writer });
  await sink.prepare(resolution, 1, [hourStart]);
  sink.addRollups(resolution, 1, 0, [{ name: 'cpu', labels: { host: 'a' }, start: hourStart, count: 1, sum: 1, min: 1, max: 1, first: 1, last: 1, increase: null }], 0);
  await sink.flush(sink.all());
}

describe('retention', () => {
  it('deletes exactly the hours older than each resolution retention; the dry run only lists them', async () => {
    await archiveHours(DAY0, 4); // raw 00:00 .. 03:59
    await rollupHour('1m', DAY0);
    await rollupHour('1m', DAY0 + 3 * HOUR_MS);
    await rollupHour('1h', DAY0);
    const now = DAY0 + 5 * HOUR_MS + 1;
    const plan = await planRetention(store, retentionMs({ raw: '3h', '1m': '2h', '1h': '400d' }), now);
    // raw: hours ending at or before 02:00:00.001 -> 00 and 01; 1m: ending before 03:00 -> 00 only.
    expect(plan.hours.map((h) => h.prefix)).toEqual([
      'resolution=raw/date=2026-11-01/hour=00/',
      'resolution=raw/date=2026-11-01/hour=01/',
      'resolution=1m/date=2026-11-01/hour=00/',
    ]);
    const before = (await store.list('')).map((o) => o.key);
    const lines: string[] = [];
    await runRetention(store, plan, { dryRun: true, progress: (l) => lines.push(l) });
    expect((await store.list('')).map((o) => o.key)).toEqual(before);
    expect(lines.filter((l) => l.startsWith('would delete resolution='))).toHaveLength(3);

    const done = await runRetention(store, plan, { progress: () => undefined });
    expect(done.hours).toBe(3);
    const hoursLeft = [...new Set((await store.list('')).map((o) => o.key.replace(/part-.*$/, '')))].sort();
    expect(hoursLeft).toEqual([
      'resolution=1h/date=2026-11-01/hour=00/',
      'resolution=1m/date=2026-11-01/hour=03/',
      'resolution=raw/date=2026-11-01/hour=02/',
      'resolution=raw/date=2026-11-01/hour=03/',
    ]);
  });
});

describe('compaction', () => {
  it('merges the parts of each closed hour and partition into one file and keeps every row', async () => {
    const rows = await archiveHours(DAY0, 3, 50);
    const q = await ArchiveQuery.open(store);
    const before = await q.run('SELECT name, series_id, "timestamp", value FROM raw ORDER BY ALL');
    q.close();
    expect(before.rows.length).toBe(rows);
    const partsBefore = await store.list('');
    expect(partsBefore.length).toBeGreaterThan(6);

    // Only hours closed for 2 h are merged: at 04:30 that is hour 00 (ends 01:00) and 01 (ends 02:00).
    const plan = await planCompaction(store, DAY0 + 4.5 * HOUR_MS);
    expect(plan.groups.map((g) => g.key.replace(/part-.*/, ''))).toEqual(['resolution=raw/date=2026-11-01/hour=00/', 'resolution=raw/date=2026-11-01/hour=01/']);
    const lines: string[] = [];
    const done = await runCompaction(store, writer, plan, { progress: (l) => lines.push(l) });
    expect(done.rows).toBe(before.rows.filter((r) => String(r.timestamp) < '2026-11-01 02').length);
    expect(lines.some((l) => l.startsWith('merged '))).toBe(true);

    const after = await store.list('');
    const hour0 = after.filter((o) => o.key.includes('hour=00/'));
    expect(hour0.length).toBe(1);
    const merged = parsePartKey(hour0[0]!.key)!;
    const parts0 = partsBefore.map((o) => parsePartKey(o.key)!).filter((p) => p.hourStart === DAY0);
    expect(merged.firstOffset).toBe(Math.min(...parts0.map((p) => p.firstOffset)));
    expect(merged.lastOffset).toBe(Math.max(...parts0.map((p) => p.lastOffset)));
    // The merged file holds the contract's columns only (not the hive columns of its parts' paths).
    const columns = await readBack(`DESCRIBE SELECT * FROM read_parquet('${join(dir, hour0[0]!.key)}', hive_partitioning = false)`);
    expect(columns.map((c) => c.column_name)).toEqual(['name', 'labels', 'series_id', 'timestamp', 'value']);

    const q2 = await ArchiveQuery.open(store);
    const again = await q2.run('SELECT name, series_id, "timestamp", value FROM raw ORDER BY ALL');
    q2.close();
    expect(again.rows).toEqual(before.rows);
  });

  it('readers never see both the parts and the merged file; a later run deletes leftover parts', async () => {
    await archiveHours(DAY0, 1, 50);
    const parts = await store.list('');
    const plan = await planCompaction(store, DAY0 + 10 * HOUR_MS);
    // Simulate a crash between storing the merged file and deleting the parts.
    const merged = join(dir, 'merged.parquet');
    await writer.merge(parts.map((p) => join(dir, p.key)), 'timestamp', merged);
    await store.putFile(plan.groups[0]!.key, merged);
    const { live, superseded } = liveObjects(await store.list(''));
    expect(live.map((o) => o.key)).toEqual([plan.groups[0]!.key]);
    expect(superseded.length).toBe(parts.length);
    const q = await ArchiveQuery.open(store);
    expect((await q.run('SELECT count(*)::INTEGER AS n FROM raw')).rows).toEqual([{ n: 240 }]);
    q.close();

    const next = await planCompaction(store, DAY0 + 10 * HOUR_MS);
    expect(next.groups).toEqual([]);
    expect(next.leftovers.length).toBe(parts.length);
    await runCompaction(store, writer, next);
    expect((await store.list('')).map((o) => o.key)).toEqual([plan.groups[0]!.key]);
  });
});

describe('archive query', () => {
  it('defines raw, rollup_1m and rollup_1h with hive columns that filter', async () => {
    await archiveHours(DAY0 + 10 * HOUR_MS, 2);
    await rollupHour('1m', DAY0 + 10 * HOUR_MS);
    const q = await ArchiveQuery.open(store);
    const byHour = await q.run(`SELECT hour, count(*)::INTEGER AS n FROM raw WHERE date = DATE '2026-11-01' AND hour = 11 GROUP BY hour`);
    expect(byHour.rows).toEqual([{ hour: 11, n: 240 }]);
    expect((await q.run(`SELECT count(*)::INTEGER AS n FROM raw WHERE "timestamp" >= TIMESTAMP '2026-11-01 11:00:00'`)).rows).toEqual([{ n: 240 }]);
    const types = await q.run(`SELECT column_name, column_type FROM (DESCRIBE raw)`);
    expect(types.rows.map((r) => `${r.column_name} ${r.column_type}`)).toEqual([
      'name VARCHAR',
      'labels MAP(VARCHAR, VARCHAR)',
      'series_id BIGINT',
      'timestamp TIMESTAMP',
      'value DOUBLE',
      'resolution VARCHAR',
      'date DATE',
      'hour INTEGER',
    ]);
    expect((await q.run('SELECT resolution, "count" FROM rollup_1m')).rows).toEqual([{ resolution: '1m', count: '1' }]);
    expect((await q.run('SELECT count(*)::INTEGER AS n FROM rollup_1h')).rows).toEqual([{ n: 0 }]);
    await expect(q.run('SELECT nope FROM raw')).rejects.toMatchObject({ code: 'ARCHIVE_QUERY' });
    q.close();
  });

  it('formats results as table, CSV and JSON', () => {
    const result = { columns: ['a', 'b'], rows: [{ a: 'x,y', b: null }, { a: 'z', b: 2 }] };
    expect(formatResult(result, 'csv')).toBe('a,b\n"x,y",\nz,2\n');
    expect(JSON.parse(formatResult(result, 'json'))).toEqual(result.rows);
    expect(formatResult(result, 'table')).toBe('a   | b   \n----+-----\nx,y | NULL\nz   | 2   \n(2 rows)\n');
  });
});

