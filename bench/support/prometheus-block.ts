/**
 * A Prometheus TSDB block of given samples, built by the real `promtool tsdb create-blocks-from
 * openmetrics` (Debian's prometheus package; scripts/setup.sh installs it), as the archive bench's
 * size baseline: the same samples, bit for bit, in Prometheus's own storage format.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RawRows } from '../../src/sinks/archive/archive-rows.js';

const run = promisify(execFile);

/** What promtool built. */
export interface PrometheusBlock {
  /** Bytes of every file of the block directories (chunks, index, meta.json, tombstones). */
  bytes: number;
  samples: number;
  series: number;
  chunkBytes: number;
  indexBytes: number;
  seconds: number;
}

/** `name{labels}` in the exposition format (label values escaped). */
function seriesText(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return pairs.length ? `${name}{${pairs.join(',')}}` : name;
}

/**
 * OpenMetrics timestamp (seconds) of `ms`: half a millisecond past it, so that promtool's
 * int64(seconds * 1000) truncation gives back exactly `ms`.
 */
function omTimestamp(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}5`;
}

/** Writes `chunks` (each series' samples in time order across chunks) as an OpenMetrics file. */
export async function writeOpenMetrics(path: string, chunks: readonly RawRows[]): Promise<void> {
  const out = createWriteStream(path);
  const names = new Map<object, string[]>();
  for (const rows of chunks) {
    let texts = names.get(rows.series);
    if (!texts) names.set(rows.series, (texts = rows.series.map((s) => seriesText(s.name, s.labels))));
    let buf = '';
    for (let i = 0; i < rows.length; i++) {
      // String(value) is the shortest decimal that parses back to the same double (Go's ParseFloat too).
      buf += `${texts[rows.seriesIndex[i]!]} ${String(rows.values[i])} ${omTimestamp(rows.timestamps[i]!)}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
        buf = '';
      }
    }
    out.write(buf);
  }
  out.write('# EOF\n');
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return n;
}

/** Builds the blocks of the OpenMetrics file `input` into `outDir` with promtool and measures them. */
export async function buildPrometheusBlock(input: string, outDir: string): Promise<PrometheusBlock> {
  const t0 = performance.now();
  await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, outDir], { maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  // `promtool tsdb list` prints one line per block: ULID, min/max time, duration, samples, chunks, series, size.
  const { stdout } = await run('promtool', ['tsdb', 'list', outDir]);
  let samples = 0;
  let series = 0;
  for (const line of stdout.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 7) continue;
    samples += Number(cols[cols.length - 4]);
    series += Number(cols[cols.length - 2]);
  }
  let chunkBytes = 0;
  let indexBytes = 0;
  for (const e of await readdir(outDir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    chunkBytes += await dirBytes(join(outDir, e.name, 'chunks'));
    indexBytes += (await stat(join(outDir, e.name, 'index'))).size;
  }
  return { bytes: await dirBytes(outDir), samples, series, chunkBytes, indexBytes, seconds };
}

/** `promtool --version`'s first line (which Prometheus built the baseline). */
export async function promtoolVersion(): Promise<string> {
  const { stdout } = await run('promtool', ['--version']);
  return stdout.split('\n')[0]!.trim();
}
