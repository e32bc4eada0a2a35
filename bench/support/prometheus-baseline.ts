/**
 * The Prometheus baseline of `npm run bench -- query`: the same raw samples as the archive's raw
 * hour, written as OpenMetrics and turned into a TSDB block by `promtool tsdb create-blocks-from
 * openmetrics`, served by the real Prometheus (Debian's) on a free port; the same PromQL range
 * queries timed against it and against Vigil, and their answers compared (relative 1e-6).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Streams samples into an OpenMetrics file (timestamps in seconds). */
export class OpenMetricsWriter {
  private readonly out: WriteStream;
  private buffer = '';
  constructor(
    readonly path: string,
    metric: string,
  ) {
    this.out = createWriteStream(path);
    this.buffer = `# TYPE ${metric} gauge\n`;
  }

  async line(series: string, value: number, timestampMs: number): Promise<void> {
    this.buffer += `${series} ${value} ${(timestampMs / 1000).toFixed(3)}\n`;
    if (this.buffer.length > 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.out.write(chunk)) await new Promise((r) => this.out.once('drain', r));
  }

  async close(): Promise<void> {
    this.buffer += '# EOF\n';
    await this.flush();
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Builds a TSDB from `openMetricsPath` with promtool and starts Prometheus on it; `createMs` is promtool's time. */
export async function startPrometheusOn(openMetricsPath: string): Promise<PrometheusServer & { createMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-prometheus-'));
  const t = performance.now();
  await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', openMetricsPath, join(dir, 'data')], { maxBuffer: 64 << 20 });
  const createMs = performance.now() - t;
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=10y', '--log.level=warn'],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > end) throw new Error('prometheus did not start on the backfilled TSDB');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    createMs,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

/** One range query against `url`: time taken (ms) and the matrix. */
export async function rangeQuery(url: string, params: Record<string, string>): Promise<{ ms: number; result: Matrix }> {
  const t = performance.now();
  const res = await fetch(`${url}/api/v1/query_range`, { method: 'POST', body: new URLSearchParams(params), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const body = (await res.json()) as { status: string; error?: string; data: { result: Matrix } };
  const ms = performance.now() - t;
  if (body.status !== 'success') throw new Error(`${url}: ${params.query}: ${body.error}`);
  return { ms, result: body.data.result };
}

/** Prometheus' almostEqual. */
function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  return Math.abs(a - b) / (Math.abs(a) + Math.abs(b)) < 1e-6;
}

/** Throws unless both matrices hold the same series, timestamps and values; returns the points compared. */
export function compareMatrices(query: string, vigil: Matrix, prometheus: Matrix): number {
  const key = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort());
  const ours = new Map(vigil.map((s) => [key(s.metric), s]));
  if (ours.size !== prometheus.length) throw new Error(`${query}: ${ours.size} series, Prometheus ${prometheus.length}`);
  let points = 0;
  for (const p of prometheus) {
    const v = ours.get(key(p.metric));
    if (!v || v.values.length !== p.values.length) throw new Error(`${query}: series ${key(p.metric)} differs`);
    p.values.forEach(([t, x], i) => {
      if (v.values[i]![0] !== t || !almostEqual(Number(v.values[i]![1]), Number(x))) throw new Error(`${query}: ${key(p.metric)} @${t}: ${v.values[i]![1]}, Prometheus ${x}`);
      points++;
    });
  }
  return points;
}
