/**
 * `npm run bench -- query [--series 10000] [--hours 24]`
 *
 * The query API over one day of an archive: the Vigil-language `avg(cpu_load) by (pool)` (lang=vigil)
 * over the whole day at a 1m step (100 pools x 1440 points from 10k series), through HTTP as a
 * dashboard asks it: cold (first request) and cached (repeat). Baseline in the same run:
 * the same question as one DuckDB SQL over the same 1m rollup files (GROUP BY pool, minute); the
 * two answers are compared value by value.
 *
 * PromQL range queries over the archive's raw hour at a 15 s step (what Grafana asks of the last
 * hour), with the real Prometheus as the baseline in the same run: the same raw samples written as
 * OpenMetrics, backfilled into a TSDB block with promtool, served by Prometheus; the same queries
 * timed on both (first request and best of 3) and their answers compared (relative 1e-6).
 *
 * The archive: metric cpu_load{pool, host}, 100 hosts per pool, gauges as bounded random walks
 * sampled every 10 s. The 8.64M raw samples per 1k series are folded while generated into the 1m and
 * 1h rollups the archive sink would write (24 hourly files each), written with ParquetWriter into a
 * temporary archive in the hive layout; the last hour also as raw samples (the UI's default chart:
 * the last hour at a 15 s step reads raw samples), measured the same way.
 * Last line: JSON {bench, cold_ms, cached_ms, baseline, baseline_ms, ratio, series, points, ...,
 * promql_cold_ms, promql_ms, prometheus_ms, promql_ratio, ...}.
 */
import { mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHttpServer } from '../src/http/http-server.js';
import { seriesId } from '../src/model/series.js';
import { ArchiveSource } from '../src/query/archive-source.js';
import { CombinedSource } from '../src/query/combined-source.js';
import { Head } from '../src/query/head.js';
import { registerQueryRoutes } from '../src/query/query-routes.js';
import type { RawVisitor, RollupResolution, RollupVisitor, SampleSource, SeriesMeta } from '../src/query/sample-source.js';
import { ArchiveQuery } from '../src/sinks/archive/archive-query.js';
import type { ArchiveSeries, RollupRows } from '../src/sinks/archive/archive-rows.js';
import { partKey, type Resolution } from '../src/sinks/archive/layout.js';
import { ParquetWriter } from '../src/sinks/archive/parquet-writer.js';
import { openObjectStore } from '../src/sinks/archive/storage/open-store.js';
import { numArg, rng } from './support/harness.js';
import { compareMatrices, OpenMetricsWriter, rangeQuery, startPrometheusOn } from './support/prometheus-baseline.js';

const SERIES = numArg('series', 10_000);
const HOURS = numArg('hours', 24);
const HOSTS_PER_POOL = 100;
const POOLS = Math.ceil(SERIES / HOSTS_PER_POOL);
const INTERVAL = 10_000;
const PER_MINUTE = 60_000 / INTERVAL;
const T0 = Date.UTC(2026, 10, 1);
const METRIC = 'cpu_load';
const QUERY = `avg(${METRIC}) by (pool)`;
/** PromQL range queries over the raw hour, timed on Vigil and on Prometheus. */
const PROMQL_QUERIES = [`avg by (pool) (${METRIC})`, `sum by (pool) (rate(${METRIC}[5m]))`, `max by (pool) (max_over_time(${METRIC}[5m]))`];
const STEP_S = 60;
const RAW_STEP_S = 15;

const say = (line: string) => console.log(line);
const ms = (x: number) => Math.round(x * 10) / 10;

function rollupRows(series: ArchiveSeries[], length: number): RollupRows & { [k: string]: unknown } {
  return {
    series,
    length,
    seriesIndex: new Uint32Array(length),
    starts: new Float64Array(length),
    counts: new Float64Array(length),
    sums: new Float64Array(length),
    mins: new Float64Array(length),
    maxs: new Float64Array(length),
    firsts: new Float64Array(length),
    lasts: new Float64Array(length),
    increases: new Float64Array(length),
    hasIncrease: new Uint8Array(length),
  };
}

/** Writes the archive; returns its root and the number of rows written per resolution. */
async function writeArchive(): Promise<{ root: string; rows: Record<Resolution, number>; openMetrics: string }> {
  const root = mkdtempSync(join(tmpdir(), 'vigil-bench-query-'));
  const openMetrics = join(root, 'raw-hour.om');
  const series: ArchiveSeries[] = [];
  for (let i = 0; i < SERIES; i++) {
    const labels = { host: `h${String(i).padStart(5, '0')}`, pool: `p${String(Math.floor(i / HOSTS_PER_POOL)).padStart(3, '0')}` };
    series.push({ id: seriesId(METRIC, labels), name: METRIC, labels });
  }
  const random = rng(42);
  // Bounded random walk per series in [0, 4] (a load average), starting near the pool's level.
  const level = Float64Array.from(series, (_, i) => 0.5 + (Math.floor(i / HOSTS_PER_POOL) % 7) * 0.4 + random() * 0.2);
  const writer = await ParquetWriter.open();
  const rows: Record<Resolution, number> = { raw: 0, '1m': 0, '1h': 0 };
  const place = (resolution: Resolution, hourStart: number) => {
    const path = join(root, partKey({ resolution, hourStart, partition: 0, firstOffset: 0, lastOffset: 0 }));
    mkdirSync(dirname(path), { recursive: true });
    return path;
  };
  const started = performance.now();
  try {
    for (let h = 0; h < HOURS; h++) {
      const hourStart = T0 + h * 3_600_000;
      const m1 = rollupRows(series, SERIES * 60);
      const h1 = rollupRows(series, SERIES);
      const rawPool = h === HOURS - 1 ? SERIES : 0;
      const raw = { s: new Uint32Array(rawPool * 360), t: new Float64Array(rawPool * 360), v: new Float64Array(rawPool * 360), n: 0 };
      let r = 0;
      for (let s = 0; s < SERIES; s++) {
        let v = level[s]!;
        let hSum = 0;
        let hMin = Infinity;
        let hMax = -Infinity;
        let hFirst = 0;
        for (let m = 0; m < 60; m++) {
          const start = hourStart + m * 60_000;
          let sum = 0;
          let min = Infinity;
          let max = -Infinity;
          let first = 0;
          for (let k = 0; k < PER_MINUTE; k++) {
            v = Math.min(4, Math.max(0, v + (random() - 0.5) * 0.1));
            if (k === 0) first = v;
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
            if (s < rawPool) {
              raw.s[raw.n] = s;
              raw.t[raw.n] = start + k * INTERVAL;
              raw.v[raw.n++] = v;
            }
          }
          m1.seriesIndex[r] = s;
          m1.starts[r] = start;
          m1.counts[r] = PER_MINUTE;
          m1.sums[r] = sum;
          m1.mins[r] = min;
          m1.maxs[r] = max;
          m1.firsts[r] = first;
          m1.lasts[r] = v;
          r++;
          if (m === 0) hFirst = first;
          hSum += sum;
          if (min < hMin) hMin = min;
          if (max > hMax) hMax = max;
        }
        level[s] = v;
        h1.seriesIndex[s] = s;
        h1.starts[s] = hourStart;
        h1.counts[s] = PER_MINUTE * 60;
        h1.sums[s] = hSum;
        h1.mins[s] = hMin;
        h1.maxs[s] = hMax;
        h1.firsts[s] = hFirst;
        h1.lasts[s] = v;
      }
      rows['1m'] += (await writer.writeRollups(m1, place('1m', hourStart))).rows;
      rows['1h'] += (await writer.writeRollups(h1, place('1h', hourStart))).rows;
      if (raw.n > 0) {
        rows.raw += (await writer.writeRaw({ series, length: raw.n, seriesIndex: raw.s, timestamps: raw.t, values: raw.v }, place('raw', hourStart))).rows;
        // The same raw samples for the Prometheus baseline.
        const om = new OpenMetricsWriter(openMetrics, METRIC);
        for (let j = 0; j < raw.n; j++) {
          const l = series[raw.s[j]!]!.labels;
          await om.line(`${METRIC}{host="${l.host}",pool="${l.pool}"}`, raw.v[j]!, raw.t[j]!);
        }
        await om.close();
      }
      const elapsed = (performance.now() - started) / 1000;
      process.stdout.write(`\rwriting archive: hour ${h + 1}/${HOURS}, ${rows['1m'].toLocaleString('en')} 1m rollups, ${elapsed.toFixed(1)} s`);
    }
  } finally {
    writer.close();
    process.stdout.write('\n');
  }
  return { root, rows, openMetrics };
}

/** Counts what the engine reads from the archive (series and rollup / raw rows). */
class CountingSource implements SampleSource {
  rowsRead = 0;
  seriesRead = 0;
  constructor(private readonly inner: SampleSource) {}
  async raw(metric: string, start: number, end: number, visit: RawVisitor): Promise<void> {
    const seen = new Set<string>();
    await this.inner.raw(metric, start, end, (series, columns, from, to) => {
      seen.add(series.key);
      this.rowsRead += to - from;
      visit(series, columns, from, to);
    });
    this.seriesRead += seen.size;
  }
  async rollups(resolution: RollupResolution, metric: string, start: number, end: number, visit: RollupVisitor): Promise<void> {
    const seen = new Set<string>();
    await this.inner.rollups(resolution, metric, start, end, (series, columns, from, to) => {
      seen.add(series.key);
      this.rowsRead += to - from;
      visit(series, columns, from, to);
    });
    this.seriesRead += seen.size;
  }
  series(start: number, end: number, metrics?: readonly string[]): Promise<SeriesMeta[]> {
    return this.inner.series(start, end, metrics);
  }
}

interface Case {
  label: string;
  startS: number;
  endS: number;
  stepS: number;
  /** DuckDB's answer: rows (pool, t = window end in s, v). */
  baselineSql: string;
}

interface Figures {
  coldMs: number;
  cachedMs: number;
  baselineMs: number;
  resolution: string;
  rowsRead: number;
  seriesRead: number;
  resultSeries: number;
  points: number;
}

type Body = { status: string; error?: string; vigil?: { resolution: string }; data: { result: Array<{ metric: Record<string, string>; values: [number, string][] }> } };

/** Cold, cached and baseline for one case; checks the API's values against DuckDB's. */
async function measure(c: Case, url: string, counting: CountingSource, archive: ArchiveQuery): Promise<Figures> {
  const ask = async () => {
    const t = performance.now();
    const res = await fetch(`${url}/api/v1/query_range?${new URLSearchParams({ query: QUERY, lang: 'vigil', start: String(c.startS), end: String(c.endS), step: String(c.stepS) })}`);
    const text = await res.text();
    const body = JSON.parse(text) as Body;
    const took = performance.now() - t;
    if (res.status !== 200) throw new Error(`query_range ${res.status}: ${body.error}`);
    return { took, body, text };
  };
  say(`${c.label}:`);
  counting.rowsRead = 0;
  counting.seriesRead = 0;
  const cold = await ask();
  const { rowsRead, seriesRead } = counting;
  const resolution = cold.body.vigil?.resolution ?? '?';
  const result = cold.body.data.result;
  const points = result.reduce((n, s) => n + s.values.length, 0);
  say(`  cold:     ${ms(cold.took)} ms  resolution ${resolution}, read ${seriesRead.toLocaleString('en')} series / ${rowsRead.toLocaleString('en')} rows, result ${result.length} series x ${result[0]?.values.length ?? 0} = ${points.toLocaleString('en')} points`);
  const cachedRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const again = await ask();
    if (again.text !== cold.text) throw new Error('the cached answer differs from the first one');
    cachedRuns.push(again.took);
  }
  const cachedMs = Math.min(...cachedRuns);
  say(`  cached:   ${ms(cachedMs)} ms  (best of 5; median ${ms(cachedRuns.sort((a, b) => a - b)[2]!)} ms; includes JSON over HTTP)`);

  // Baseline: DuckDB over the same files, result rows materialized into JS.
  const baselineRuns: number[] = [];
  let baselineRows: Record<string, unknown>[] = [];
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    baselineRows = (await archive.run(c.baselineSql)).rows;
    baselineRuns.push(performance.now() - t);
  }
  const baselineMs = Math.min(...baselineRuns);
  say(`  baseline: ${ms(baselineMs)} ms  DuckDB SQL (best of ${baselineRuns.map(ms).join(', ')}), ${baselineRows.length.toLocaleString('en')} rows`);

  const duck = new Map(baselineRows.map((r) => [`${r.pool}|${Number(r.t)}`, Number(r.v)]));
  let worst = 0;
  let compared = 0;
  for (const s of result) {
    for (const [t, v] of s.values) {
      const d = duck.get(`${s.metric.pool}|${t}`);
      if (d === undefined) throw new Error(`DuckDB has no value for pool ${s.metric.pool} at ${t}`);
      worst = Math.max(worst, Math.abs(Number(v) - d));
      compared++;
    }
  }
  if (compared !== duck.size) throw new Error(`the API returned ${compared} points, DuckDB ${duck.size}`);
  if (worst > 1e-9) throw new Error(`values differ from DuckDB's by up to ${worst}`);
  say(`  check:    ${compared.toLocaleString('en')} points equal DuckDB's (max abs difference ${worst.toExponential(1)})`);
  return { coldMs: cold.took, cachedMs, baselineMs, resolution, rowsRead, seriesRead, resultSeries: result.length, points };
}

interface PromqlFigures {
  coldMs: number;
  warmMs: number;
  prometheusColdMs: number;
  prometheusMs: number;
  totalMs: number;
  prometheusTotalMs: number;
  points: number;
}

/** Each PromQL range query on Vigil and on Prometheus: first request and best of 3; answers compared. */
async function measurePromql(vigilUrl: string, prometheusUrl: string, startS: number, endS: number): Promise<PromqlFigures> {
  const f: PromqlFigures = { coldMs: 0, warmMs: 0, prometheusColdMs: 0, prometheusMs: 0, totalMs: 0, prometheusTotalMs: 0, points: 0 };
  for (const [i, query] of PROMQL_QUERIES.entries()) {
    const params = { query, start: String(startS), end: String(endS), step: String(RAW_STEP_S) };
    const times = async (url: string) => {
      const first = await rangeQuery(url, params);
      const warm: number[] = [];
      for (let k = 0; k < 3; k++) warm.push((await rangeQuery(url, params)).ms);
      return { first, best: Math.min(...warm) };
    };
    const ours = await times(vigilUrl);
    const theirs = await times(prometheusUrl);
    const points = compareMatrices(query, ours.first.result, theirs.first.result);
    say(`  ${query}: vigil ${ms(ours.first.ms)} ms first, ${ms(ours.best)} ms best of 3; prometheus ${ms(theirs.first.ms)} / ${ms(theirs.best)} ms; ${points.toLocaleString('en')} points equal`);
    if (i === 0) Object.assign(f, { coldMs: ours.first.ms, warmMs: ours.best, prometheusColdMs: theirs.first.ms, prometheusMs: theirs.best });
    f.totalMs += ours.best;
    f.prometheusTotalMs += theirs.best;
    f.points += points;
  }
  return f;
}

async function main(): Promise<void> {
  const wall = performance.now();
  say(`query bench: ${SERIES.toLocaleString('en')} series (${POOLS} pools x ${HOSTS_PER_POOL} hosts), ${HOURS} h at 10 s, query ${QUERY}`);
  const { root, rows, openMetrics } = await writeArchive();
  say(`archive: ${rows['1m'].toLocaleString('en')} 1m rollups, ${rows['1h'].toLocaleString('en')} 1h rollups, ${rows.raw.toLocaleString('en')} raw samples (last hour) in ${root}`);

  const archive = await ArchiveQuery.open(openObjectStore({ root }));
  const counting = new CountingSource(new ArchiveSource(archive));
  const end = T0 + HOURS * 3_600_000;
  const server = createHttpServer({ port: 0, host: '127.0.0.1' });
  await registerQueryRoutes(server.app, { source: new CombinedSource(counting, new Head()), now: () => end + 24 * 3_600_000 });
  await server.listen();
  try {
    const day = await measure(
      {
        label: `${HOURS} h at ${STEP_S} s step`,
        startS: T0 / 1000 + STEP_S,
        endS: end / 1000,
        stepS: STEP_S,
        baselineSql: `SELECT labels['pool'] AS pool, (epoch_ms("start") // 60000 + 1) * 60 AS t, sum("sum") / sum("count") AS v
          FROM rollup_1m WHERE name = '${METRIC}' AND "start" >= epoch_ms(${T0}::BIGINT) AND "start" < epoch_ms(${end}::BIGINT) GROUP BY ALL`,
      },
      server.url(),
      counting,
      archive,
    );
    // The UI's default: the last hour at a 15 s step, answered from raw samples.
    const hour = await measure(
      {
        label: `last hour at ${RAW_STEP_S} s step`,
        startS: end / 1000 - 3600 + RAW_STEP_S,
        endS: end / 1000,
        stepS: RAW_STEP_S,
        baselineSql: `SELECT labels['pool'] AS pool, (epoch_ms("timestamp") // ${RAW_STEP_S * 1000} + 1) * ${RAW_STEP_S} AS t, avg(value) AS v
          FROM raw WHERE name = '${METRIC}' AND "timestamp" >= epoch_ms(${end - 3_600_000}::BIGINT) AND "timestamp" < epoch_ms(${end}::BIGINT) GROUP BY ALL`,
      },
      server.url(),
      counting,
      archive,
    );
    say(`PromQL range queries over the raw hour at ${RAW_STEP_S} s step (baseline: Prometheus on the same samples, backfilled with promtool):`);
    const prometheus = await startPrometheusOn(openMetrics);
    let promql: PromqlFigures;
    try {
      say(`  promtool tsdb create-blocks-from openmetrics: ${ms(prometheus.createMs)} ms`);
      promql = await measurePromql(server.url(), prometheus.url, end / 1000 - 3600 + RAW_STEP_S, end / 1000);
    } finally {
      await prometheus.stop();
    }
    const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    say(`peak RSS ${rssMb} MB, total ${((performance.now() - wall) / 1000).toFixed(1)} s`);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    console.log(
      JSON.stringify({
        bench: 'query',
        cold_ms: ms(day.coldMs),
        cached_ms: ms(day.cachedMs),
        baseline: 'duckdb sql',
        baseline_ms: ms(day.baselineMs),
        ratio: r2(day.coldMs / day.baselineMs),
        series: SERIES,
        points: day.points,
        result_series: day.resultSeries,
        resolution: day.resolution,
        rows_read: day.rowsRead,
        step_s: STEP_S,
        hours: HOURS,
        raw_cold_ms: ms(hour.coldMs),
        raw_cached_ms: ms(hour.cachedMs),
        raw_baseline_ms: ms(hour.baselineMs),
        raw_ratio: r2(hour.coldMs / hour.baselineMs),
        raw_rows_read: hour.rowsRead,
        raw_resolution: hour.resolution,
        promql_cold_ms: ms(promql.coldMs),
        promql_ms: ms(promql.warmMs),
        prometheus_cold_ms: ms(promql.prometheusColdMs),
        prometheus_ms: ms(promql.prometheusMs),
        promql_ratio: r2(promql.warmMs / promql.prometheusMs),
        promql_total_ms: ms(promql.totalMs),
        prometheus_total_ms: ms(promql.prometheusTotalMs),
        promql_queries: PROMQL_QUERIES.length,
        promql_points: promql.points,
        peak_rss_mb: rssMb,
      }),
    );
  } finally {
    await server.close();
    archive.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
