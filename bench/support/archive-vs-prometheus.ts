/**
 * The archive bench's comparison with Prometheus (issue 16): the realistic data set
 * (archive-realistic.ts) written through ArchiveSink (the path of `vigil run`: hour buffers, files
 * of at most 4M rows) into a local archive, and the identical samples turned into a TSDB block by
 * promtool in the same run. Both sides' bytes are whole files on disk.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { SeriesTable, type DecodedBatch } from '../../src/model/decoded-batch.js';
import { seriesIdentity } from '../../src/model/series.js';
import { ArchiveSink } from '../../src/sinks/archive/archive-sink.js';
import { planCompaction, runCompaction } from '../../src/sinks/archive/compaction.js';
import { ParquetWriter, type ParquetTuning } from '../../src/sinks/archive/parquet-writer.js';
import { LocalStore } from '../../src/sinks/archive/storage/local-store.js';
import type { RawRows } from '../../src/sinks/archive/archive-rows.js';
import { realisticFleet, type RealisticOptions } from './archive-realistic.js';
import { buildPrometheusBlock, promtoolVersion, writeOpenMetrics, type PrometheusBlock } from './prometheus-block.js';

export interface ArchiveOnRealistic {
  samples: number;
  files: number;
  bytes: number;
  /** After `vigil archive compact` (one file per partition-hour). */
  compactedFiles: number;
  compactedBytes: number;
  compactedColumns: { column: string; bytesPerSample: number; encodings: string }[];
  seconds: number;
  cpuSeconds: number;
  /** Bytes per sample of each Parquet column (path in schema). */
  columns: { column: string; bytesPerSample: number; encodings: string }[];
  root: string;
}

/** The data set, split per hour and partition (each series' samples in time order across the list). */
export function realisticChunks(o: RealisticOptions): RawRows[] {
  const parts = realisticFleet(o);
  const chunks: RawRows[] = [];
  for (let h = 0; h < o.hours; h++) for (const p of parts) chunks.push(p.hours[h]!);
  return chunks;
}

/** Builds the Prometheus block of `chunks` under `dir` (the OpenMetrics text is deleted afterwards). */
export async function prometheusBaseline(dir: string, chunks: readonly RawRows[]): Promise<PrometheusBlock & { version: string }> {
  const input = join(dir, 'samples.om');
  await writeOpenMetrics(input, chunks);
  try {
    return { ...(await buildPrometheusBlock(input, join(dir, 'tsdb'))), version: await promtoolVersion() };
  } finally {
    await rm(input, { force: true });
  }
}

/**
 * Writes `chunks` through ArchiveSink into `<dir>/archive-<tag>`: one DecodedBatch per scrape tick,
 * per partition, hour buffers closed by event time, the rest flushed at the end.
 */
export async function archiveRealistic(dir: string, tag: string, chunks: readonly RawRows[], tuning: Partial<ParquetTuning> = {}): Promise<ArchiveOnRealistic> {
  const root = join(dir, `archive-${tag}`);
  await mkdir(root, { recursive: true });
  const writer = await ParquetWriter.open(tuning);
  const sink = new ArchiveSink({ store: new LocalStore(root), writer, maxAgeMs: Number.MAX_SAFE_INTEGER });
  const tables = new Map<object, { table: SeriesTable; refs: number[]; partition: number; next: number }>();
  let samples = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (const rows of chunks) {
    let t = tables.get(rows.series);
    if (!t) {
      const table = new SeriesTable();
      tables.set(rows.series, (t = { table, refs: rows.series.map((s) => table.intern(seriesIdentity(s.name, s.labels)).ref), partition: tables.size, next: 0 }));
    }
    // Rows arrive scrape tick after scrape tick (every series once per tick): one record per tick.
    const perTick = rows.series.length;
    for (let a = 0; a < rows.length; a += perTick) {
      const b = Math.min(rows.length, a + perTick);
      const n = b - a;
      const batch: DecodedBatch = {
        origin: { topic: 'metrics', partition: t.partition, offset: String(t.next), key: null },
        length: n,
        seriesRefs: Uint32Array.from(rows.seriesIndex.subarray(a, b), (i) => t.refs[i]!),
        timestamps: rows.timestamps.subarray(a, b),
        values: rows.values.subarray(a, b),
        kinds: new Uint8Array(n),
        series: t.table,
        totalSamples: n,
      };
      await sink.prepare('raw', t.partition, ArchiveSink.hoursOfBatch(batch));
      sink.addRaw(t.partition, t.next++, batch, 0);
      samples += n;
      const due = sink.due(0);
      if (due.length > 0) await sink.flush(due);
    }
  }
  await sink.flush(sink.all());
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const files = await parquetFiles(root);
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  const columns = await columnBytes(files, samples);
  // What `vigil archive compact` then makes of each closed hour: one file per partition-hour.
  const store = new LocalStore(root);
  await runCompaction(store, writer, await planCompaction(store, Number.MAX_SAFE_INTEGER, 0));
  writer.close();
  const compacted = await parquetFiles(root);
  let compactedBytes = 0;
  for (const f of compacted) compactedBytes += (await stat(f)).size;
  return {
    samples,
    files: files.length,
    bytes,
    compactedFiles: compacted.length,
    compactedBytes,
    compactedColumns: await columnBytes(compacted, samples),
    seconds,
    cpuSeconds: (c.user + c.system) / 1e6,
    columns,
    root,
  };
}

async function parquetFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

async function columnBytes(files: string[], samples: number): Promise<ArchiveOnRealistic['columns']> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const list = files.map((f) => `'${f}'`).join(',');
    const r = await con.runAndReadAll(
      `SELECT path_in_schema AS column, sum(total_compressed_size)::DOUBLE AS bytes, string_agg(DISTINCT encodings, '|') AS encodings FROM parquet_metadata([${list}]) GROUP BY ALL ORDER BY bytes DESC`,
    );
    return (r.getRowObjectsJS() as { column: string; bytes: number; encodings: string }[]).map((x) => ({ column: x.column, bytesPerSample: x.bytes / samples, encodings: x.encodings }));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Rows of the archive at `root` and their distinct (series, time): the same samples as the block. */
export async function archiveRowCount(root: string): Promise<{ rows: number; series: number }> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(`SELECT count(*)::DOUBLE AS rows, count(DISTINCT series_id)::DOUBLE AS series FROM read_parquet('${root}/**/*.parquet')`);
    return r.getRowObjectsJS()[0] as { rows: number; series: number };
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
