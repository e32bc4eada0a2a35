/**
 * The archive bench's realistic data set (issue 16): values at the precision real exporters report
 * and scrape timestamps jittered by tens of ms, modelled on node_exporter's mix per 100 series:
 *   20 constant (sizes, *_info, boot time: integers), 10 rarely-moving integer counters (errors, drops),
 *   20 busy integer counters (bytes, packets; rate log-uniform 1..160k/s), 10 counters with 0.01
 *   resolution (cpu seconds), 15 integer gauges (bytes in 4 KiB pages), 25 gauges with 2 decimals
 *   (load, temperature, percentages; random walks on the 0.01 grid); a host with fewer metrics takes
 *   them evenly from that mix.
 * Each host is scraped every 10 s at a fixed offset plus 0-40 ms of jitter per scrape; all samples
 * of a scrape share its timestamp, as in Prometheus.
 *
 * Its shape matters as much as its values: in production one partition-hour holds thousands of hosts
 * (10M series over 64 partitions: ~1,560 hosts), so a 491,520-row group sorted by (name, series,
 * time) holds ~1,365 series of ONE metric from as many hosts. A few hundred hosts with many metrics
 * would put many series of each host into one row group, where repeated timestamps compress in a way
 * production data never does: the default shape is many hosts with few metrics.
 */
import type { ArchiveSeries, RawRows } from '../../src/sinks/archive/archive-rows.js';
import { seriesIdentity } from '../../src/model/series.js';
import { rng } from './harness.js';

const INTERVAL = 10_000;

type Kind = 'const' | 'rare' | 'busy' | 'fcounter' | 'igauge' | 'dgauge';
const KINDS: [Kind, number][] = [['const', 20], ['rare', 10], ['busy', 20], ['fcounter', 10], ['igauge', 15], ['dgauge', 25]];
const kindOf: Kind[] = KINDS.flatMap(([k, n]) => Array<Kind>(n).fill(k));
const NAMES: Record<Kind, string> = {
  const: 'node_info',
  rare: 'node_errors_total',
  busy: 'node_bytes_total',
  fcounter: 'node_cpu_seconds_total',
  igauge: 'node_memory_bytes',
  dgauge: 'node_load',
};

export interface RealisticOptions {
  hosts: number;
  /** Series per host (at most 100), taken evenly from the mix above. */
  metrics: number;
  /** Whole hours from `start` (an hour boundary). */
  hours: number;
  start: number;
  partitions: number;
  /** Upper bound of the per-scrape jitter, ms (default 40). */
  jitterMs?: number;
  seed?: number;
}

/** One input partition's hosts: per hour, its raw rows in arrival order (scrape after scrape). */
export interface RealisticPartition {
  series: ArchiveSeries[];
  hours: RawRows[];
}

/** Generates the data set, hosts spread over partitions round-robin. */
export function realisticFleet(o: RealisticOptions): RealisticPartition[] {
  const r = rng(o.seed ?? 16);
  const jitter = o.jitterMs ?? 40;
  const ticksPerHour = 3_600_000 / INTERVAL;
  const kinds = Array.from({ length: o.metrics }, (_, m) => kindOf[Math.floor((m * kindOf.length) / o.metrics)]!);
  const out: RealisticPartition[] = [];
  for (let p = 0; p < o.partitions; p++) {
    const hosts: number[] = [];
    for (let h = p; h < o.hosts; h += o.partitions) hosts.push(h);
    const series: ArchiveSeries[] = [];
    for (const h of hosts) {
      for (let m = 0; m < o.metrics; m++) {
        const labels = { pool: `p${String(h >> 6).padStart(3, '0')}`, host: `h${String(h).padStart(5, '0')}`, env: 'prod', instance: `10.${h >> 8}.${h & 255}.1:9100`, job: 'node' };
        const id = seriesIdentity(`${NAMES[kinds[m]!]}_${String(m).padStart(2, '0')}`, labels);
        series.push({ id: id.id, name: id.name, labels: id.labels });
      }
    }
    const ns = series.length;
    const value = new Float64Array(ns);
    const rate = new Float64Array(ns);
    const scale = new Float64Array(ns);
    for (let s = 0; s < ns; s++) {
      const k = kinds[s % o.metrics]!;
      rate[s] = Math.exp(r() * 12);
      // 2-decimal gauges live on different scales: ratios (0-1), loads (0-10), percentages (0-100).
      scale[s] = [1, 10, 100][Math.floor(r() * 3)]!;
      value[s] =
        k === 'const' ? (r() < 0.5 ? 1 : Math.floor(r() * 1e12))
        : k === 'rare' ? Math.floor(r() * 100)
        : k === 'busy' ? Math.floor(r() * 1e9)
        : k === 'fcounter' ? Math.round(r() * 1e8) / 100
        : k === 'igauge' ? Math.floor(r() * 4e6) * 4096
        : Math.round(r() * scale[s]! * 100) / 100;
    }
    const offset = hosts.map(() => Math.floor(r() * INTERVAL));
    const hours: RawRows[] = [];
    for (let hr = 0; hr < o.hours; hr++) {
      const n = ns * ticksPerHour;
      const raw = { series, length: n, seriesIndex: new Uint32Array(n), timestamps: new Float64Array(n), values: new Float64Array(n) };
      let k = 0;
      for (let t = 0; t < ticksPerHour; t++) {
        for (let hi = 0; hi < hosts.length; hi++) {
          const ts = o.start + hr * 3_600_000 + t * INTERVAL + offset[hi]! + Math.floor(r() * jitter);
          for (let m = 0; m < o.metrics; m++) {
            const s = hi * o.metrics + m;
            value[s] = step(kinds[m]!, value[s]!, rate[s]!, scale[s]!, r);
            raw.seriesIndex[k] = s;
            raw.timestamps[k] = ts;
            raw.values[k] = value[s]!;
            k++;
          }
        }
      }
      hours.push(raw);
    }
    out.push({ series, hours });
  }
  return out;
}

function step(kind: Kind, v: number, rate: number, scale: number, r: () => number): number {
  switch (kind) {
    case 'const':
      return v;
    case 'rare':
      return r() < 0.02 ? v + 1 + Math.floor(r() * 3) : v;
    case 'busy':
      return v + Math.round(rate * 10 * (0.7 + 0.6 * r()));
    case 'fcounter':
      return Math.round((v + r() * 10) * 100) / 100;
    case 'igauge':
      return Math.max(0, v + Math.round((r() - 0.5) * 256) * 4096);
    case 'dgauge':
      // A walk of about 1% of the gauge's scale per scrape, on the 0.01 grid.
      return Math.min(scale, Math.max(0, Math.round((v + (r() - 0.5) * 0.02 * scale) * 100) / 100));
  }
}
