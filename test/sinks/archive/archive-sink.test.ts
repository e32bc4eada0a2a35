import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SeriesTable } from '../../../src/model/decoded-batch.js';
import { ArchiveSink } from '../../../src/sinks/archive/archive-sink.js';
import { ParquetWriter } from '../../../src/sinks/archive/parquet-writer.js';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { readBack } from './archive-fixtures.js';
import { decodedBatch, fleetRecords, type TestSample } from './sink-fixtures.js';

let writer: ParquetWriter;
let dir: string;
let store: LocalStore;
beforeAll(async () => {
  writer = await ParquetWriter.open({ rowGroupSize: 4096 });
});
afterAll(() => writer.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-sink-'));
  store = new LocalStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = 1_000_000;

async function feed(sink: ArchiveSink, records: TestSample[][], from = 0, partition = 0, table = new SeriesTable()): Promise<void> {
  for (let off = from; off < records.length; off++) {
    const batch = decodedBatch(table, partition, off, records[off]!);
    await sink.prepare('raw', partition, ArchiveSink.hoursOfBatch(batch));
    sink.addRaw(partition, off, batch, NOW);
  }
}

async function allRows(): Promise<{ name: string; host: string; ts: number; value: number }[]> {
  const rows = await readBack(
    `SELECT name, labels['host'] AS host, epoch_ms("timestamp")::DOUBLE AS ts, value FROM read_parquet('${dir}/resolution=raw/**/*.parquet', hive_partitioning = true) ORDER BY ALL`,
  );
  return rows as never;
}

function expectedRows(records: TestSample[][]) {
  return records
    .flat()
    .map((s) => ({ name: s.name, host: s.labels.host!, ts: s.ts, value: s.value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.host < b.host ? -1 : a.host > b.host ? 1 : a.ts - b.ts || a.value - b.value));
}

describe('ArchiveSink', () => {
  it('writes one file per closed hour and partition, named by offset range, and commits behind open buffers', async () => {
    const sink = new ArchiveSink({ store, writer, closeGraceMs: 60_000 });
    // 09:50 .. 10:10: ticks of 10 s, 4 hosts -> hour 09 closes once event time passes 10:01.
    const records = fleetRecords(4 * 6 * 20);
    await feed(sink, records);
    expect(sink.committable('raw', 0)).toBe(0);
    const files = await sink.flush(sink.due(NOW));
    expect(files.map((f) => f.key)).toEqual(['resolution=raw/date=2026-11-25/hour=09/part-0-0-239.parquet']);
    expect(sink.committable('raw', 0)).toBe(240);
    // Shutdown flush writes the open 10:00 hour.
    const rest = await sink.flush(sink.all());
    expect(rest.map((f) => f.key)).toEqual(['resolution=raw/date=2026-11-25/hour=10/part-0-240-479.parquet']);
    expect(sink.committable('raw', 0)).toBe(480);
    expect(await allRows()).toEqual(expectedRows(records));
  });

  it('splits a full buffer between records, never inside one', async () => {
    const sink = new ArchiveSink({ store, writer, maxRowsPerFile: 12 });
    const records = fleetRecords(10); // 5 samples per record -> files of 3 records (15 rows)
    await feed(sink, records);
    await sink.flush(sink.all());
    const keys = (await store.list('resolution=raw/')).map((o) => o.key.split('/').pop());
    expect(keys).toEqual(['part-0-0-2.parquet', 'part-0-3-5.parquet', 'part-0-6-8.parquet', 'part-0-9-9.parquet']);
    expect(await allRows()).toEqual(expectedRows(records));
  });

  it('a replay from the committed offset rewrites the same names and never duplicates rows', async () => {
    const records = fleetRecords(4 * 6 * 20);
    const first = new ArchiveSink({ store, writer, closeGraceMs: 60_000, maxRowsPerFile: 700 });
    await feed(first, records);
    await first.flush(first.due(NOW));
    const committed = first.committable('raw', 0)!;
    const before = (await store.list('')).map((o) => o.key);
    // "Crash": the next file was written but its offsets were never committed.
    await first.flush(first.all());
    const after = (await store.list('')).map((o) => o.key);
    expect(after.length).toBeGreaterThan(before.length);

    const second = new ArchiveSink({ store, writer, closeGraceMs: 60_000, maxRowsPerFile: 700 });
    await feed(second, records, committed);
    await second.flush(second.all());
    expect((await store.list('')).map((o) => o.key)).toEqual(after);
    expect(await allRows()).toEqual(expectedRows(records));

    // And a replay into an empty archive cuts exactly the same files.
    const other = await mkdtemp(join(tmpdir(), 'vigil-sink-'));
    const third = new ArchiveSink({ store: new LocalStore(other), writer, closeGraceMs: 60_000, maxRowsPerFile: 700 });
    await feed(third, records);
    await third.flush(third.due(NOW));
    await third.flush(third.all());
    expect((await new LocalStore(other).list('')).map((o) => o.key)).toEqual(after);
    await rm(other, { recursive: true, force: true });
  });

  it('archives rollups with their series identity and flushes by age', async () => {
    const sink = new ArchiveSink({ store, writer, maxAgeMs: 1000 });
    const start = Date.UTC(2026, 10, 25, 10, 0);
    const rollups = [
      { name: 'cpu.load', labels: { host: 'a' }, start, count: 6, sum: 3, min: 0.1, max: 0.9, first: 0.5, last: 0.4, increase: null },
      { name: 'http.requests', labels: { host: 'a', code: '200' }, start, count: 6, sum: 60, min: 5, max: 15, first: 5, last: 15, increase: 10 },
    ];
    await sink.prepare('1m', 2, [start]);
    sink.addRollups('1m', 2, 7, rollups, NOW);
    expect(sink.due(NOW + 999)).toEqual([]);
    const files = await sink.flush(sink.due(NOW + 1000));
    expect(files.map((f) => f.key)).toEqual(['resolution=1m/date=2026-11-25/hour=10/part-2-7-7.parquet']);
    const rows = await readBack(
      `SELECT name, resolution, hour, "count", "increase" FROM read_parquet('${dir}/resolution=*/**/*.parquet', hive_partitioning = true) ORDER BY name`,
    );
    expect(rows).toEqual([
      { name: 'cpu.load', resolution: '1m', hour: 10n, count: 6n, increase: null },
      { name: 'http.requests', resolution: '1m', hour: 10n, count: 6n, increase: 10 },
    ]);
    expect(sink.committable('1m', 2)).toBe(8);
  });

  it('ignores a redelivered record', async () => {
    const sink = new ArchiveSink({ store, writer });
    const records = fleetRecords(3);
    await feed(sink, records);
    await feed(sink, records, 1);
    expect(sink.bufferedRows).toBe(15);
  });

  it('forgets a partition that moved to another instance (its rows are re-read there)', async () => {
    const sink = new ArchiveSink({ store, writer });
    await feed(sink, fleetRecords(3), 0, 0);
    await feed(sink, fleetRecords(2), 0, 1);
    sink.dropPartition('raw', 0);
    expect(sink.committable('raw', 0)).toBeUndefined();
    expect(sink.inputsSeen()).toEqual([{ resolution: 'raw', partition: 1 }]);
    const files = await sink.flush(sink.all());
    expect(files.map((f) => f.key.split('/').pop())).toEqual(['part-1-0-1.parquet']);
  });

  it('writes different partitions concurrently', async () => {
    let waiting: (() => void) | undefined;
    let active = 0;
    let most = 0;
    const beforePut = async (): Promise<void> => {
      most = Math.max(most, ++active);
      // The first write waits for a second one to arrive (or gives up after 5 s: then `most` stays 1).
      if (waiting) waiting();
      else await new Promise<void>((resolve) => { waiting = resolve; setTimeout(resolve, 5000); });
      active--;
    };
    const sink = new ArchiveSink({ store, writer, writeConcurrency: 2, beforePut });
    await feed(sink, fleetRecords(4), 0, 0);
    await feed(sink, fleetRecords(4), 0, 1);
    const files = await sink.flush(sink.all());
    expect(most).toBe(2);
    expect(files.map((f) => f.key.split('/').pop())).toEqual(['part-0-0-3.parquet', 'part-1-0-3.parquet']);
    expect(sink.committable('raw', 0)).toBe(4);
    expect(sink.committable('raw', 1)).toBe(4);
  });

  it('a failed write holds back the later files of its partition only', async () => {
    let fail = true;
    const beforePut = async (key: string): Promise<void> => {
      if (fail && key.endsWith('part-0-0-9.parquet')) throw new Error('disk full');
    };
    // 10 records of 5 samples fill a buffer of 50 rows: partition 0 becomes two files, in order.
    const sink = new ArchiveSink({ store, writer, writeConcurrency: 2, maxRowsPerFile: 50, beforePut });
    const records = fleetRecords(16);
    await feed(sink, records, 0, 0);
    await feed(sink, records, 0, 1);
    await expect(sink.flush(sink.all())).rejects.toThrow('disk full');
    // Partition 0's second file is not written before its first: a replay would otherwise skip rows.
    expect((await store.list('')).map((o) => o.key.split('/').pop()).sort()).toEqual(['part-1-0-9.parquet', 'part-1-10-15.parquet']);
    expect(sink.committable('raw', 0)).toBe(0);
    expect(sink.committable('raw', 1)).toBe(16);
    expect(sink.bufferedRows).toBe(80);
    fail = false;
    const files = await sink.flush(sink.due(NOW));
    expect(files.map((f) => f.key.split('/').pop())).toEqual(['part-0-0-9.parquet', 'part-0-10-15.parquet']);
    expect(sink.committable('raw', 0)).toBe(16);
    expect(await allRows()).toEqual(expectedRows([...records, ...records]));
  });

  it('a flush cut short by stopWhen (a stop deadline) keeps the unwritten buffers and holds back their commits', async () => {
    const sink = new ArchiveSink({ store, writer, maxRowsPerFile: 50, writeConcurrency: 1 });
    const records = fleetRecords(30); // 5 samples per record: three buffers of 10 records
    await feed(sink, records);
    const progress: string[] = [];
    const files = await sink.flush(sink.all(), {
      stopWhen: () => progress.length >= 1,
      onWritten: (f, n) => progress.push(`${n} ${f.key.split('/').pop()} ${f.rows}`),
    });
    expect(progress).toEqual(['1 part-0-0-9.parquet 50']);
    expect(files.map((f) => f.key.split('/').pop())).toEqual(['part-0-0-9.parquet']);
    expect(sink.bufferedRows).toBe(100);
    expect(sink.committable('raw', 0)).toBe(10);
    const rest = await sink.flush(sink.all());
    expect(rest.map((f) => f.key.split('/').pop())).toEqual(['part-0-10-19.parquet', 'part-0-20-29.parquet']);
    expect(sink.committable('raw', 0)).toBe(30);
    expect(await allRows()).toEqual(expectedRows(records));
  });

  it('a failed write keeps the rows and holds back the commit', async () => {
    const sink = new ArchiveSink({ store, writer, beforePut: async () => Promise.reject(new Error('disk full')) });
    await feed(sink, fleetRecords(3));
    await expect(sink.flush(sink.all())).rejects.toThrow('disk full');
    expect(sink.committable('raw', 0)).toBe(0);
    expect(sink.bufferedRows).toBe(15);
    expect(await store.list('')).toEqual([]);
  });
});
