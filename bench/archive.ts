// `npm run bench -- archive [--series N] [--minutes M] [--quick] [--realistic] [--hosts N]`: the archive writer's Parquet files for
// one hour of a simulated fleet (100k series at 10 s = 36M samples by default), written per input
// partition (4, as the embedded default) two files at a time through one ParquetWriter, exactly as
// ArchiveSink does (writeConcurrency = the cores): JS sort, vector-copy load into DuckDB, an ordered
// COPY per file on one thread each. Reports bytes per raw sample, the 1m + 1h
// rollups as a share of raw, and write throughput, next to a plain Parquet baseline measured in the same
// run (DuckDB COPY with default settings: SNAPPY, V1, 122,880-row groups, rows in arrival order). Then
// measures the choices (sort order, Parquet version / encodings, row-group size, ZSTD level) on a subset,
// the sensitivity to timestamp jitter, and the same writer on `vigil produce` data (src/fleet).
// Then the realistic data set (bench/support/archive-realistic.ts: exporter precision, 0-40 ms scrape
// jitter, 1,500 hosts x 10 series, 2 h, one partition) through ArchiveSink next to a Prometheus TSDB
// block of the identical samples built by promtool in the same run (`--realistic`: only that part).
//
// The fleet (values are never rounded by the writer: every value reads back bit-exact):
//   per host 100 series modelled on node_exporter's mix:
//   20 constant (sizes, *_info, boot time), 10 rarely-moving counters (errors, drops),
//   20 busy integer counters (bytes, packets, requests; rate log-uniform 1..160k/s),
//   10 counters with 0.01 resolution (cpu seconds), 15 integer gauges (bytes in 4 KiB pages, counts),
//   15 decimal gauges (load 2 decimals, temperature 1, percent 2), 10 full-precision float gauges
//   (durations, ratios). Hosts scrape every 10 s at a fixed per-host offset (no jitter; see the jitter line).
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { gather, type ArchiveSeries, type RawRows, type RollupRows } from '../src/sinks/archive/archive-rows.js';
import { DEFAULT_TUNING, ParquetWriter, type ParquetTuning } from '../src/sinks/archive/parquet-writer.js';
import { SeriesTable, type DecodedBatch } from '../src/model/decoded-batch.js';
import { seriesIdentity } from '../src/model/series.js';
import { ArchiveSink } from '../src/sinks/archive/archive-sink.js';
import { rootLogger } from '../src/obs/logger.js';
import { LocalStore } from '../src/sinks/archive/storage/local-store.js';
import { FleetModel } from '../src/fleet/fleet-model.js';
import { numArg, rng } from './support/harness.js';
import { archiveRealistic, archiveRowCount, prometheusBaseline, realisticChunks } from './support/archive-vs-prometheus.js';
import { timestampLayouts } from './support/timestamp-encoding.js';

// One log line per file written would bury the figures.
rootLogger.level = process.env.VIGIL_LOG_LEVEL ?? 'warn';
const QUICK = process.argv.includes('--quick');
/** Only the settings sweep on one full partition (how the defaults were chosen). */
const DICT_SWEEP = process.argv.includes('--sweep');
/** Only the realistic data set against Prometheus. */
const REALISTIC_ONLY = process.argv.includes('--realistic');
/** With the realistic data set: DuckDB's settings one at a time. */
const REALISTIC_SWEEP = process.argv.includes('--realistic-sweep');
const REALISTIC_HOSTS = numArg('hosts', QUICK ? 300 : 1500);
const SERIES = numArg('series', QUICK ? 20_000 : 100_000);
const MINUTES = numArg('minutes', 60);
const PARTITIONS = 4;
/** Files at a time: ArchiveSink's default writeConcurrency (the cores, at most 4). */
const CONCURRENCY = Math.min(4, availableParallelism());
const METRICS = 100;
const HOSTS = Math.ceil(SERIES / METRICS);
const INTERVAL = 10_000;
const TICKS = (MINUTES * 60_000) / INTERVAL;
const START = Date.UTC(2026, 10, 25, 10);

type Kind = 'const' | 'rare' | 'busy' | 'fcounter' | 'igauge' | 'dgauge' | 'fgauge';
const KINDS: [Kind, number][] = [['const', 20], ['rare', 10], ['busy', 20], ['fcounter', 10], ['igauge', 15], ['dgauge', 15], ['fgauge', 10]];
const kindOf: Kind[] = KINDS.flatMap(([k, n]) => Array<Kind>(n).fill(k));
const isCounter = (k: Kind) => k === 'rare' || k === 'busy' || k === 'fcounter';
const NAMES: Record<Kind, string> = { const: 'node_info', rare: 'node_errors_total', busy: 'node_bytes_total', fcounter: 'node_cpu_seconds_total', igauge: 'node_memory_bytes', dgauge: 'node_load', fgauge: 'node_duration_seconds' };

/** One partition's hour: raw rows in arrival order (tick-major) plus its 1m and 1h rollups. */
interface PartitionData {
  raw: RawRows;
  rollup1m: RollupRows;
  rollup1h: RollupRows;
}

function rollupColumns(n: number) {
  return {
    seriesIndex: new Uint32Array(n), starts: new Float64Array(n), counts: new Float64Array(n), sums: new Float64Array(n), mins: new Float64Array(n),
    maxs: new Float64Array(n), firsts: new Float64Array(n), lasts: new Float64Array(n), increases: new Float64Array(n), hasIncrease: new Uint8Array(n),
  };
}

/** Generates the fleet; `jitterMs` adds uniform scrape-time jitter. */
function generate(jitterMs = 0, seed = 42, partitions = PARTITIONS): PartitionData[] {
  const r = rng(seed);
  const out: PartitionData[] = [];
  for (let p = 0; p < partitions; p++) {
    const hosts: number[] = [];
    for (let h = p; h < HOSTS; h += PARTITIONS) hosts.push(h);
    const series: ArchiveSeries[] = [];
    const kinds: Kind[] = [];
    for (const h of hosts) {
      for (let m = 0; m < METRICS; m++) {
        const kind = kindOf[m]!;
        const labels = { pool: `p${String(h >> 6).padStart(3, '0')}`, host: `h${String(h).padStart(5, '0')}`, env: 'prod', instance: `10.${h >> 8}.${h & 255}.1:9100`, job: 'node' };
        const id = seriesIdentity(`${NAMES[kind]}_${String(m).padStart(2, '0')}`, labels);
        series.push({ id: id.id, name: id.name, labels: id.labels });
        kinds.push(kind);
      }
    }
    const ns = series.length;
    const value = new Float64Array(ns);
    const rate = new Float64Array(ns);
    const dec = new Float64Array(ns);
    for (let s = 0; s < ns; s++) {
      const k = kinds[s]!;
      rate[s] = Math.exp(r() * 12);
      dec[s] = [1, 10, 100][Math.floor(r() * 3)]!;
      value[s] =
        k === 'const' ? (r() < 0.5 ? 1 : Math.floor(r() * 1e12)) : k === 'rare' ? Math.floor(r() * 100) : k === 'busy' ? Math.floor(r() * 1e9)
        : k === 'fcounter' ? Math.round(r() * 1e8) / 100 : k === 'igauge' ? Math.floor(r() * 4e6) * 4096 : k === 'dgauge' ? Math.round(r() * 100 * dec[s]!) / dec[s]! : r();
    }
    const offset = hosts.map(() => Math.floor(r() * INTERVAL));
    const n = ns * TICKS;
    const raw = { series, length: n, seriesIndex: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
    const m1 = rollupColumns(ns * MINUTES);
    const h1 = rollupColumns(ns * Math.ceil(MINUTES / 60));
    const acc = { count: new Float64Array(ns), sum: new Float64Array(ns), min: new Float64Array(ns), max: new Float64Array(ns), first: new Float64Array(ns), inc: new Float64Array(ns) };
    const hacc = { count: new Float64Array(ns), sum: new Float64Array(ns), min: new Float64Array(ns), max: new Float64Array(ns), first: new Float64Array(ns), inc: new Float64Array(ns) };
    const prev = new Float64Array(ns).fill(Number.NaN);
    let k = 0;
    let k1 = 0;
    let kh = 0;
    const emit = (cols: ReturnType<typeof rollupColumns>, i: number, s: number, start: number, a: typeof acc) => {
      cols.seriesIndex[i] = s; cols.starts[i] = start; cols.counts[i] = a.count[s]!; cols.sums[i] = a.sum[s]!; cols.mins[i] = a.min[s]!; cols.maxs[i] = a.max[s]!;
      cols.firsts[i] = a.first[s]!; cols.lasts[i] = value[s]!; cols.hasIncrease[i] = isCounter(kinds[s]!) ? 1 : 0; cols.increases[i] = isCounter(kinds[s]!) ? a.inc[s]! : 0;
      a.count[s] = 0;
    };
    const add = (a: typeof acc, s: number, v: number, d: number) => {
      if (a.count[s] === 0) { a.sum[s] = 0; a.min[s] = v; a.max[s] = v; a.first[s] = v; a.inc[s] = 0; }
      a.count[s]!++; a.sum[s]! += v; if (v < a.min[s]!) a.min[s] = v; if (v > a.max[s]!) a.max[s] = v; a.inc[s]! += d;
    };
    for (let t = 0; t < TICKS; t++) {
      for (let hi = 0; hi < hosts.length; hi++) {
        const ts0 = START + t * INTERVAL + offset[hi]!;
        for (let m = 0; m < METRICS; m++) {
          const s = hi * METRICS + m;
          const kind = kinds[s]!;
          let v = value[s]!;
          switch (kind) {
            case 'const': break;
            case 'rare': if (r() < 0.02) v += 1 + Math.floor(r() * 3); break;
            case 'busy': v += Math.round(rate[s]! * 10 * (0.7 + 0.6 * r())); break;
            case 'fcounter': v = Math.round((v + r() * 10) * 100) / 100; break;
            case 'igauge': v = Math.max(0, v + Math.round((r() - 0.5) * 256) * 4096); break;
            case 'dgauge': v = Math.max(0, Math.round((v + (r() - 0.5) * 2) * dec[s]!) / dec[s]!); break;
            case 'fgauge': v = Math.abs(v + (r() - 0.5) * 0.02 * (v + 1e-3)); break;
          }
          value[s] = v;
          raw.seriesIndex[k] = s;
          raw.timestamps[k] = jitterMs ? ts0 + Math.floor(r() * jitterMs) : ts0;
          raw.values[k] = v;
          k++;
          const d = Number.isNaN(prev[s]!) ? 0 : v >= prev[s]! ? v - prev[s]! : v;
          prev[s] = v;
          add(acc, s, v, d);
          add(hacc, s, v, d);
        }
      }
      if ((t + 1) % 6 === 0) for (let s = 0; s < ns; s++) emit(m1, k1++, s, START + (((t + 1) / 6 - 1) * 60_000), acc);
    }
    for (let s = 0; s < ns; s++) emit(h1, kh++, s, START, hacc);
    out.push({ raw, rollup1m: { series, length: k1, ...m1 }, rollup1h: { series, length: kh, ...h1 } });
  }
  return out;
}

/** Writes every partition with `tuning`, `CONCURRENCY` files at a time. */
async function writeAll(dir: string, tag: string, tuning: Partial<ParquetTuning>, rows: (p: PartitionData) => RawRows | RollupRows, parts: PartitionData[]) {
  // One writer (one DuckDB) for all, as ArchiveSink: its COPYs of different partitions run concurrently.
  const writer = await ParquetWriter.open(tuning);
  const writers = Array.from({ length: CONCURRENCY }, () => writer);
  let bytes = 0;
  let count = 0;
  const files: string[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    writers.map(async (w) => {
      while (next < parts.length) {
        const i = next++;
        const data = rows(parts[i]!);
        const path = join(dir, `${tag}-${i}.parquet`);
        const st = 'timestamps' in data ? await w.writeRaw(data, path) : await w.writeRollups(data, path);
        bytes += st.bytes;
        count += st.rows;
        files.push(path);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  writer.close();
  // CPU time of the whole process (JS + DuckDB threads): a machine-load-independent cost per sample.
  return { bytes, rows: count, seconds, cpuSeconds: (c.user + c.system) / 1e6, files };
}

async function columnBytes(files: string[]): Promise<{ column: string; bytes: number; encodings: string }[]> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const list = files.map((f) => `'${f}'`).join(',');
  const r = await con.runAndReadAll(
    `SELECT path_in_schema AS column, sum(total_compressed_size)::DOUBLE AS bytes, string_agg(DISTINCT encodings, '|') AS encodings FROM parquet_metadata([${list}]) GROUP BY ALL ORDER BY bytes DESC`,
  );
  const rows = r.getRowObjectsJS() as { column: string; bytes: number; encodings: string }[];
  con.closeSync();
  db.closeSync();
  return rows;
}

const fmt = (n: number, d = 3) => n.toFixed(d);
const mps = (rows: number, s: number) => `${fmt(rows / s / 1e6, 2)}M samples/s`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-archive-'));
  try {
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (wall-clock rates shrink when other work shares the cores; per-CPU-second rates do not)`);
    console.log(`archive bench: ${HOSTS * METRICS} series (${HOSTS} hosts x ${METRICS}), ${MINUTES} min at 10 s = ${HOSTS * METRICS * TICKS} samples, ${PARTITIONS} partitions, ${CONCURRENCY} files at a time`);
    if (REALISTIC_ONLY) {
      console.log(JSON.stringify({ bench: 'archive', ...(await realistic(dir)) }));
      return;
    }
    let t0 = performance.now();
    if (DICT_SWEEP) {
      const one = generate(0, 42, 1)[0]!;
      const sweep: [string, Partial<ParquetTuning>][] = [
        ...[1000, 8000, 16_000, 32_768, undefined].map((limit): [string, Partial<ParquetTuning>] => [`dictionary limit ${limit ?? 'DuckDB default (row group / 5)'}`, { dictionarySizeLimit: limit }]),
        ['row groups 245,760 + zstd 3 (before)', { rowGroupSize: 245_760, compressionLevel: 3 }],
        ['row groups 491,520 + zstd 3', { rowGroupSize: 491_520, compressionLevel: 3 }],
        ['row groups 245,760 + zstd 9', { rowGroupSize: 245_760, compressionLevel: 9 }],
        ['row groups 491,520 + zstd 6', { rowGroupSize: 491_520, compressionLevel: 6 }],
        ['row groups 491,520 + zstd 9', { rowGroupSize: 491_520, compressionLevel: 9 }],
      ];
      for (const [label, tuning] of sweep) {
        const w = await writeAll(dir, 'd', tuning, (p) => p.raw, [one]);
        console.log(`${label.padEnd(45)} ${fmt(w.bytes / one.raw.length)} B/sample  ${mps(one.raw.length, w.cpuSeconds)} per CPU-second`);
        for (const f of w.files) await rm(f, { force: true });
      }
      return;
    }
    const parts = generate();
    const total = parts.reduce((s, p) => s + p.raw.length, 0);
    console.log(`generated in ${fmt((performance.now() - t0) / 1000, 1)} s`);

    const ours = await writeAll(dir, 'raw', {}, (p) => p.raw, parts);
    const bps = ours.bytes / total;
    console.log(`archive raw:       ${fmt(bps)} B/sample, ${mps(total, ours.seconds)} wall, ${mps(total, ours.cpuSeconds)} per CPU-second (${(ours.bytes / 2 ** 20).toFixed(1)} MiB, ${fmt(ours.seconds, 1)} s) [zstd 9, V2, 491,520-row groups, dictionary <= 16,000 values, sorted name/series/time]`);
    for (const c of await columnBytes(ours.files)) console.log(`    ${c.column.padEnd(26)} ${fmt(c.bytes / total)} B/sample  ${c.encodings}`);
    const r1m = await writeAll(dir, 'r1m', {}, (p) => p.rollup1m, parts);
    const r1h = await writeAll(dir, 'r1h', {}, (p) => p.rollup1h, parts);
    const share = (r1m.bytes + r1h.bytes) / ours.bytes;
    console.log(`rollups: 1m ${r1m.rows} rows ${(r1m.bytes / 2 ** 20).toFixed(1)} MiB (${fmt((r1m.bytes / ours.bytes) * 100, 1)}% of raw, ${fmt(r1m.bytes / r1m.rows, 1)} B/row), 1h ${r1h.rows} rows ${(r1h.bytes / 2 ** 20).toFixed(2)} MiB (${fmt((r1h.bytes / ours.bytes) * 100, 2)}%); share ${fmt(share * 100, 1)}%`);
    for (const c of await columnBytes(r1m.files)) console.log(`    1m ${c.column.padEnd(23)} ${fmt(c.bytes / r1m.rows, 2)} B/row  ${c.encodings}`);

    await rollupsByKind(dir, parts[0]!);
    const sinkRates = await throughSink(dir, parts.slice(0, 2));
    const base = await writeAll(dir, 'base', { compression: 'snappy', parquetVersion: 'V1', rowGroupSize: 122_880, order: 'input' }, (p) => p.raw, parts);
    const baseBps = base.bytes / total;
    console.log(`baseline raw:      ${fmt(baseBps)} B/sample, ${mps(total, base.seconds)} wall, ${mps(total, base.cpuSeconds)} per CPU-second [DuckDB COPY defaults: snappy, V1, 122,880-row groups, arrival order]`);
    for (const f of [...ours.files, ...r1m.files, ...r1h.files, ...base.files]) await rm(f, { force: true });

    // The choices, one at a time from the chosen settings, on the first partition.
    const sub = [subset(parts[0]!, Math.min(parts[0]!.raw.series.length, 10_000))];
    const n0 = sub[0]!.raw.length;
    console.log(`choices (the first ${sub[0]!.raw.series.length} series of partition 0: ${n0} samples, one file, single-threaded):`);
    const variants: [string, Partial<ParquetTuning>][] = [
      ['chosen: zstd 9, V2, 491,520 rows, dict 16,000, sorted', {}],
      ['sort series_id/time (no name grouping)', { order: 'series-time' }],
      ['sort time/series', { order: 'time-series' }],
      ['arrival order (no sort)', { order: 'input' }],
      ['V1 encodings (PLAIN/dictionary, no DELTA/BSS)', { parquetVersion: 'V1' }],
      ['dictionary limit 1,000 distinct', { dictionarySizeLimit: 1000 }],
      ['dictionary limit: DuckDB default (row group / 5)', { dictionarySizeLimit: undefined }],
      ['row groups 122,880', { rowGroupSize: 122_880 }],
      ['row groups 245,760', { rowGroupSize: 245_760 }],
      ['row groups 1,048,576', { rowGroupSize: 1_048_576 }],
      ['zstd level 1', { compressionLevel: 1 }],
      ['zstd level 3', { compressionLevel: 3 }],
      ['snappy instead of zstd', { compression: 'snappy' }],
    ];
    if (QUICK) variants.splice(7, 3);
    for (const [label, tuning] of variants) {
      const w = await writeAll(dir, 'v', tuning, (p) => p.raw, sub);
      console.log(`  ${label.padEnd(50)} ${fmt(w.bytes / n0)} B/sample  ${mps(n0, w.cpuSeconds)} per CPU-second`);
      for (const f of w.files) await rm(f, { force: true });
    }
    t0 = performance.now();
    const jittered = [subset(generate(5, 7, 1)[0]!, sub[0]!.raw.series.length)];
    const j = await writeAll(dir, 'j', {}, (p) => p.raw, jittered);
    console.log(`  ${'timestamps with 0-4 ms scrape jitter'.padEnd(50)} ${fmt(j.bytes / jittered[0]!.raw.length)} B/sample`);
    for (const f of j.files) await rm(f, { force: true });
    const fleet = fleetModelRows(Math.min(10_000, SERIES));
    const fm = await writeAll(dir, 'f', {}, (p) => p.raw, [fleet]);
    const fb = await writeAll(dir, 'fb', { compression: 'snappy', parquetVersion: 'V1', rowGroupSize: 122_880, order: 'input' }, (p) => p.raw, [fleet]);
    console.log(`  ${`vigil produce data (src/fleet, ${fleet.raw.series.length} series)`.padEnd(50)} ${fmt(fm.bytes / fleet.raw.length)} B/sample (baseline ${fmt(fb.bytes / fleet.raw.length)}): its gauges are full-precision random walks`);

    const compared = await realistic(dir);
    const result = {
      bench: 'archive',
      samples: total,
      samples_per_s: Math.round(total / ours.seconds),
      cpu_samples_per_s: Math.round(total / ours.cpuSeconds),
      load_average: Number(loadavg()[0]!.toFixed(1)),
      bytes_per_sample: Number(fmt(bps)),
      rollup_share: Number(fmt(share, 4)),
      rollup_1m_bytes_per_row: Number(fmt(r1m.bytes / r1m.rows, 2)),
      baseline: 'duckdb copy defaults (snappy, V1, 122880-row groups, arrival order)',
      baseline_samples_per_s: Math.round(total / base.seconds),
      baseline_cpu_samples_per_s: Math.round(total / base.cpuSeconds),
      baseline_bytes_per_sample: Number(fmt(baseBps)),
      ratio: Number(fmt(bps / baseBps)),
      ratio_of: 'bytes_per_sample / baseline_bytes_per_sample',
      speed_ratio: Number(fmt(base.seconds / ours.seconds)),
      // ArchiveSink.flush of partitions 0-1: files written one at a time / `writeConcurrency` at a time.
      sink_serial_samples_per_s: sinkRates[0],
      sink_samples_per_s: sinkRates[1],
      ...compared,
    };
    console.log(JSON.stringify(result));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The realistic data set through ArchiveSink against a Prometheus block of the same samples (issue 16:
 * goal prometheus_ratio <= 0.6). Prints where the archive's bytes go per column.
 */
async function realistic(dir: string): Promise<Record<string, number | string>> {
  const o = { hosts: REALISTIC_HOSTS, metrics: 10, hours: 2, start: START, partitions: 1 };
  const chunks = realisticChunks(o);
  const samples = chunks.reduce((a, c) => a + c.length, 0);
  console.log(`realistic data: ${o.hosts} hosts x ${o.metrics} series, ${o.hours} h at 10 s with 0-40 ms scrape jitter, exporter precision: ${samples} samples`);
  const prom = await prometheusBaseline(dir, chunks);
  if (prom.samples !== samples) throw new Error(`promtool stored ${prom.samples} samples of ${samples}`);
  console.log(`prometheus block (${prom.version}): ${fmt(prom.bytes / samples)} B/sample (chunks ${fmt(prom.chunkBytes / samples)}, index ${fmt(prom.indexBytes / samples)}), ${prom.samples} samples, built in ${fmt(prom.seconds, 1)} s`);
  const ours = await archiveRealistic(dir, 'realistic', chunks);
  const count = await archiveRowCount(ours.root);
  if (count.rows !== samples) throw new Error(`the archive holds ${count.rows} rows of ${samples}`);
  const bps = ours.bytes / samples;
  console.log(`archive (ArchiveSink, ${ours.files} files): ${fmt(bps)} B/sample = ${fmt(ours.bytes / prom.bytes)} of Prometheus's bytes, ${mps(samples, ours.seconds)} wall, ${mps(samples, ours.cpuSeconds)} per CPU-second`);
  for (const c of ours.columns) console.log(`    ${c.column.padEnd(26)} ${fmt(c.bytesPerSample)} B/sample  ${c.encodings}`);
  const compactedBps = ours.compactedBytes / samples;
  console.log(`after vigil archive compact (${ours.compactedFiles} files): ${fmt(compactedBps)} B/sample = ${fmt(ours.compactedBytes / prom.bytes)} of Prometheus's bytes`);
  for (const c of ours.compactedColumns) console.log(`    ${c.column.padEnd(26)} ${fmt(c.bytesPerSample)} B/sample  ${c.encodings}`);
  await rm(ours.root, { recursive: true, force: true });
  const layouts = timestampLayouts(chunks, DEFAULT_TUNING.rowGroupSize);
  console.log(
    `timestamp column as DELTA_BINARY_PACKED, computed from the encoding's rules: one stream per row group in 128-value blocks ${fmt(layouts.oneStream)} B/sample, ` +
      `one page per series ${fmt(layouts.pagePerSeries)} (what the archive writes; DuckDB's own: one stream in 2,048-value blocks, see the sweep)`,
  );
  if (REALISTIC_SWEEP) await realisticSweep(dir, chunks, samples, prom.bytes);
  return {
    realistic_samples: samples,
    realistic_bytes_per_sample: Number(fmt(bps)),
    realistic_timestamp_bytes_per_sample: Number(fmt(ours.columns.find((c) => c.column === 'timestamp')?.bytesPerSample ?? 0)),
    realistic_value_bytes_per_sample: Number(fmt(ours.columns.find((c) => c.column === 'value')?.bytesPerSample ?? 0)),
    prometheus: prom.version,
    prometheus_bytes_per_sample: Number(fmt(prom.bytes / samples)),
    prometheus_chunk_bytes_per_sample: Number(fmt(prom.chunkBytes / samples)),
    prometheus_ratio: Number(fmt(ours.bytes / prom.bytes)),
    prometheus_ratio_of: 'archive bytes as ArchiveSink wrote them / prometheus block bytes, identical samples',
    realistic_compacted_bytes_per_sample: Number(fmt(compactedBps)),
    prometheus_ratio_compacted: Number(fmt(ours.compactedBytes / prom.bytes)),
    realistic_timestamp_page_per_series_bytes_per_sample: Number(fmt(layouts.pagePerSeries)),
  };
}

/** DuckDB's settings, one at a time from the chosen ones, on the realistic data (one file per hour). */
async function realisticSweep(dir: string, chunks: RawRows[], samples: number, promBytes: number): Promise<void> {
  const variants: [string, Partial<ParquetTuning>][] = [
    ['chosen (zstd 9, V2, 491,520 rows, dict 16,000, timestamps a page per series)', {}],
    ['timestamps written by DuckDB (before)', { timestampPages: 'duckdb' }],
    ['zstd 3', { compressionLevel: 3 }],
    ['zstd 15', { compressionLevel: 15 }],
    ['zstd 19', { compressionLevel: 19 }],
    ['row groups 122,880', { rowGroupSize: 122_880 }],
    ['row groups 1,048,576', { rowGroupSize: 1_048_576 }],
    ['dictionary limit 65,536', { dictionarySizeLimit: 65_536 }],
    ['dictionary limit 1,000', { dictionarySizeLimit: 1000 }],
    ['Parquet V1 (no DELTA, no BYTE_STREAM_SPLIT)', { parquetVersion: 'V1' }],
    ['sorted series_id/time', { order: 'series-time' }],
  ];
  console.log('DuckDB settings on the realistic data (each hour of the partition as one file, single-threaded):');
  for (const [label, tuning] of variants) {
    const w = await writeAll(dir, 'rs', tuning, (p) => p.raw, chunks.map((raw) => ({ raw }) as PartitionData));
    const cols = await columnBytes(w.files);
    const col = (name: string) => fmt((cols.find((c) => c.column === name)?.bytes ?? 0) / samples);
    console.log(`  ${label.padEnd(76)} ${fmt(w.bytes / samples)} B/sample = ${fmt(w.bytes / promBytes)} of Prometheus (timestamp ${col('timestamp')}, value ${col('value')})  ${mps(samples, w.cpuSeconds)} per CPU-second`);
    for (const f of w.files) await rm(f, { force: true });
  }
}

/**
 * Where the 1m rollup bytes go, per kind of series (partition 0): each kind's raw and 1m files written
 * alone. min, max, first and last are raw samples of the window, so for a kind whose raw values do not
 * compress (full-precision gauges) they cost what raw samples cost: a lower bound for any lossless
 * rollup file, printed as a share of all raw bytes.
 */
async function rollupsByKind(dir: string, p: PartitionData): Promise<void> {
  const writer = await ParquetWriter.open({});
  let allRaw = 0;
  const lines: { kind: Kind; raw: number; m1: number; samples: number; rows: number; extremes: number }[] = [];
  for (const [kind] of KINDS) {
    const keep = (s: number) => kindOf[s % METRICS] === kind;
    const raw = filterRows(p.raw, keep);
    const m1 = filterRows(p.rollup1m, keep);
    const r = await writer.writeRaw(raw, join(dir, 'kind-raw.parquet'));
    const m = await writer.writeRollups(m1, join(dir, 'kind-1m.parquet'));
    const cols = await columnBytes([join(dir, 'kind-1m.parquet')]);
    const extremes = cols.filter((c) => ['min', 'max', 'first', 'last'].includes(c.column)).reduce((a, c) => a + c.bytes, 0);
    allRaw += r.bytes;
    lines.push({ kind, raw: r.bytes, m1: m.bytes, samples: raw.length, rows: m1.length, extremes });
  }
  writer.close();
  console.log('1m rollups by kind of series (partition 0; share = bytes / all raw bytes of the partition):');
  for (const l of lines) {
    console.log(
      `    ${l.kind.padEnd(9)} raw ${fmt(l.raw / l.samples)} B/sample (${fmt((l.raw / allRaw) * 100, 1)}%)  1m ${fmt(l.m1 / l.rows, 2)} B/row (${fmt((l.m1 / allRaw) * 100, 1)}%), of which min+max+first+last ${fmt(l.extremes / l.rows, 2)} B/row (${fmt((l.extremes / allRaw) * 100, 1)}%)`,
    );
  }
}

/**
 * The write path of `vigil run`: ArchiveSink.flush of two partitions' hour (buffers filled from one
 * DecodedBatch per scrape tick) into a local store, one file at a time and concurrently.
 */
async function throughSink(dir: string, parts: PartitionData[]): Promise<number[]> {
  const line: string[] = [];
  const rates: number[] = [];
  for (const writeConcurrency of [1, CONCURRENCY]) {
    const root = await mkdtemp(join(dir, 'sink-'));
    const writer = await ParquetWriter.open({});
    const sink = new ArchiveSink({ store: new LocalStore(root), writer, writeConcurrency, maxRowsPerFile: Number.MAX_SAFE_INTEGER });
    let total = 0;
    for (let p = 0; p < parts.length; p++) {
      const raw = parts[p]!.raw;
      const table = new SeriesTable();
      const refs = raw.series.map((s) => table.intern(seriesIdentity(s.name, s.labels)).ref);
      const perTick = raw.series.length;
      for (let off = 0; off * perTick < raw.length; off++) {
        const a = off * perTick;
        const n = Math.min(perTick, raw.length - a);
        const batch: DecodedBatch = {
          origin: { topic: 'metrics', partition: p, offset: String(off), key: null }, length: n, seriesRefs: Uint32Array.from(raw.seriesIndex.subarray(a, a + n), (i) => refs[i]!),
          timestamps: raw.timestamps.subarray(a, a + n), values: raw.values.subarray(a, a + n), kinds: new Uint8Array(n), series: table, totalSamples: n,
        };
        await sink.prepare('raw', p, ArchiveSink.hoursOfBatch(batch));
        sink.addRaw(p, off, batch, 0);
        total += n;
      }
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await sink.flush(sink.all());
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    writer.close();
    await rm(root, { recursive: true, force: true });
    rates.push(Math.round(total / seconds));
    line.push(`writeConcurrency ${writeConcurrency}: ${mps(total, seconds)} wall, ${mps(total, (c.user + c.system) / 1e6)} per CPU-second`);
  }
  console.log(`ArchiveSink.flush, partitions 0-${parts.length - 1}: ${line.join('; ')}`);
  return rates;
}

/** The rows of `rows` whose series pass `keep` (same series list, same order). */
function filterRows<T extends RawRows | RollupRows>(rows: T, keep: (series: number) => boolean): T {
  const pick: number[] = [];
  for (let i = 0; i < rows.length; i++) if (keep(rows.seriesIndex[i]!)) pick.push(i);
  const perm = Uint32Array.from(pick);
  const out: Record<string, unknown> = { series: rows.series, length: perm.length };
  for (const [k, v] of Object.entries(rows)) {
    if (v instanceof Float64Array || v instanceof Uint8Array) out[k] = gather(v, perm);
    else if (v instanceof Uint32Array) out[k] = Uint32Array.from(perm, (i) => v[i]!);
  }
  return out as unknown as T;
}

/** The rows of the first `count` series of a partition (its hosts are contiguous), in the same order. */
function subset(p: PartitionData, count: number): PartitionData {
  const src = p.raw;
  let n = 0;
  for (let i = 0; i < src.length; i++) if (src.seriesIndex[i]! < count) n++;
  const raw = { series: src.series.slice(0, count), length: n, seriesIndex: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
  let k = 0;
  for (let i = 0; i < src.length; i++) {
    if (src.seriesIndex[i]! >= count) continue;
    raw.seriesIndex[k] = src.seriesIndex[i]!;
    raw.timestamps[k] = src.timestamps[i]!;
    raw.values[k] = src.values[i]!;
    k++;
  }
  return { ...p, raw };
}

/** `vigil produce` data: the project's fleet model (src/fleet), one hour, as one partition. */
function fleetModelRows(series: number): PartitionData {
  const hostsPerPool = 10;
  const model = new FleetModel({ pools: Math.ceil(series / METRICS / hostsPerPool), hostsPerPool, metricsPerHost: METRICS, seed: 1, startTime: START, intervalMs: INTERVAL });
  const idx = new Map<string, number>();
  const list: ArchiveSeries[] = [];
  const n = model.seriesCount * TICKS;
  const raw = { series: list, length: n, seriesIndex: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
  let k = 0;
  for (let t = 0; t < TICKS; t++) {
    for (const tick of model.tick(START + t * INTERVAL)) {
      for (const s of tick.samples) {
        const key = `${tick.host.index}|${s.name}|${JSON.stringify(s.labels)}`;
        let i = idx.get(key);
        if (i === undefined) {
          const id = seriesIdentity(s.name, { ...tick.host.source, ...s.labels });
          i = list.push({ id: id.id, name: id.name, labels: id.labels }) - 1;
          idx.set(key, i);
        }
        raw.seriesIndex[k] = i;
        raw.timestamps[k] = s.timestamp;
        raw.values[k] = s.value;
        k++;
      }
    }
  }
  const empty = rollupColumns(0);
  return { raw: { ...raw, length: k }, rollup1m: { series: list, length: 0, ...empty }, rollup1h: { series: list, length: 0, ...empty } };
}

await main();
