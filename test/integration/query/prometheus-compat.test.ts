/**
 * Vigil against a real Prometheus (Debian's 2.42) on the same samples: Prometheus scrapes a real
 * node_exporter and itself every 2 s and remote-writes everything into `vigil collect` (a
 * process), which publishes to Kafka; the engine's query module (its worker thread, its head)
 * answers. The same PromQL, instant and range, at the same evaluation times must give the same
 * series and values (relative 1e-6) on both, for what Grafana's stock "Node Exporter Full" and
 * "Prometheus 2.0 Stats" dashboards use. promtool's query instant|range (form POST bodies) print the
 * same on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../src/engine/engine.js';
import { queryModule } from '../../../src/query/query-module.js';
import { spawnVigil, type Child } from '../../support/child-process.js';
import { almostEqual } from '../../support/promql-script.js';
import { freePort, promtool, startNodeExporter, startPrometheus, type RunningServer } from '../../support/prometheus.js';
import { stackEnv, useStack } from '../../support/stack.js';
import { until } from '../../support/until.js';

const stack = useStack({ partitions: 2 });
const SCRAPE_S = 2;
let node: RunningServer;
let prometheus: RunningServer;
let collect: Child;
let engine: Engine;
const dirs: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-compat-'));
  dirs.push(dir);
  const pushPort = await freePort();
  // Push only: Prometheus remote-writes everything it scrapes.
  collect = spawnVigil(['collect', '--no-shard'], {
    ...stackEnv(stack, dir),
    VIGIL_PUSH_TOKENS: 'compat-token',
    VIGIL_HTTP_PORT: String(pushPort),
    VIGIL_LOG_LEVEL: 'warn',
  });
  await until(() => /push endpoint on/.test(collect.stderr()), 60_000, 'vigil collect to start');
  engine = new Engine({
    config: { ...stack.config, state: { dir: join(dir, 'state') }, archive: { ...stack.config.archive, root: join(dir, 'archive') } },
    modules: [queryModule({ ui: false })],
    embedded: true,
    httpPort: 0,
  });
  await engine.start();
  node = await startNodeExporter();
  prometheus = await startPrometheus(
    (self) => `
global: { scrape_interval: ${SCRAPE_S}s, scrape_timeout: ${SCRAPE_S}s, evaluation_interval: 1m }
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['${node.address}'] }]
  - job_name: prometheus
    static_configs: [{ targets: ['${self}'] }]
remote_write:
  - url: http://127.0.0.1:${pushPort}/api/v1/write
    authorization: { credentials: compat-token }
    queue_config: { min_shards: 1, max_shards: 1, batch_send_deadline: 1s }
`,
  );
  // Thirty seconds of scrapes in Prometheus before comparing.
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await ask(prometheus.url, '/api/v1/query', { query: 'count_over_time(up{job="node"}[1m])' });
    if (Number((r.data.result as Sample[])[0]?.value?.[1] ?? 0) >= 30 / SCRAPE_S) break;
    if (Date.now() > end) throw new Error('Prometheus did not scrape node_exporter for 30 s');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}, 150_000);

afterAll(async () => {
  await prometheus?.stop();
  await node?.stop();
  await engine?.stop();
  await collect?.stop('SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Sample = { metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> };
type Answer = { status: string; error?: string; data: { resultType: string; result: Sample[] | [number, string] } };

async function ask(base: string, path: string, params: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(params), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return (await res.json()) as Answer;
}

/** Differences between two answers: series sets, timestamps, values (relative 1e-6). */
function differences(vigil: Answer, prom: Answer): string[] {
  if (prom.status !== 'success') return [`prometheus: ${prom.error}`];
  if (vigil.status !== 'success') return [`vigil: ${vigil.error}`];
  if (vigil.data.resultType !== prom.data.resultType) return [`result type ${vigil.data.resultType} != ${prom.data.resultType}`];
  if (prom.data.resultType === 'scalar') {
    const [a, b] = [vigil.data.result as [number, string], prom.data.result as [number, string]];
    return a[0] === b[0] && almostEqual(Number(a[1]), Number(b[1])) ? [] : [`scalar ${a} != ${b}`];
  }
  const key = (s: Sample) => JSON.stringify(Object.entries(s.metric).sort());
  const ours = new Map((vigil.data.result as Sample[]).map((s) => [key(s), s]));
  const out: string[] = [];
  for (const p of prom.data.result as Sample[]) {
    const v = ours.get(key(p));
    ours.delete(key(p));
    if (!v) {
      out.push(`missing ${key(p)}`);
      continue;
    }
    const [pv, vv] = [p.values ?? [p.value!], v.values ?? [v.value!]];
    if (pv.length !== vv.length) out.push(`${key(p)}: ${vv.length} points, prometheus ${pv.length}`);
    pv.forEach(([t, x], i) => {
      const mine = vv[i];
      if (!mine || mine[0] !== t || !almostEqual(Number(mine[1]), Number(x))) out.push(`${key(p)} @${t}: ${mine?.[1]} (at ${mine?.[0]}), prometheus ${x}`);
    });
  }
  for (const k of ours.keys()) out.push(`unexpected ${k}`);
  return out;
}

/**
 * Compares until equal: samples reach Vigil through remote_write and Kafka a few seconds after
 * Prometheus has them. A real difference stays, and fails with the list of differences.
 */
async function expectSame(path: string, params: Record<string, string>, timeoutMs = 30_000): Promise<number> {
  let diff: string[] = [];
  let points = 0;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [prom, vigil] = [await ask(prometheus.url, path, params), await ask(engine.url()!, path, params)];
    diff = differences(vigil, prom);
    points = prom.data?.resultType === 'scalar' ? 1 : (prom.data.result as Sample[]).reduce((n, s) => n + (s.values?.length ?? 1), 0);
    if (diff.length === 0 || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(diff, `${params.query}: ${diff.slice(0, 10).join('; ')}`).toEqual([]);
  return points;
}

// What the stock dashboards ask (Node Exporter Full, Prometheus 2.0 Stats), with ranges scaled to
// the 2 s scrape interval of this test.
const QUERIES = [
  'up',
  'sum by (job) (up)',
  'node_load1',
  'rate(node_cpu_seconds_total{mode="idle"}[10s])',
  'sum by (mode) (irate(node_cpu_seconds_total[10s]))',
  '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[10s])) * 100)',
  'count(count by (cpu) (node_cpu_seconds_total))',
  'node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes',
  '(1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100',
  '1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes',
  'rate(node_network_receive_bytes_total[10s])',
  'topk(3, rate(node_network_receive_bytes_total[10s]))',
  'bottomk(2, node_filesystem_size_bytes)',
  'increase(node_context_switches_total[20s])',
  'delta(node_memory_MemFree_bytes[20s])',
  'deriv(node_memory_MemFree_bytes[20s])',
  'predict_linear(node_memory_MemFree_bytes[20s], 60)',
  'avg_over_time(node_load1[20s])',
  'max_over_time(node_procs_running[20s])',
  'quantile_over_time(0.9, scrape_duration_seconds[20s])',
  'rate(node_cpu_seconds_total{mode="user"}[10s] offset 6s)',
  'max_over_time(rate(node_cpu_seconds_total{mode="user"}[10s])[20s:4s])',
  'histogram_quantile(0.9, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[20s])))',
  'histogram_quantile(0.99, sum by (le, handler) (rate(prometheus_http_response_size_bytes_bucket[20s])))',
  'sum by (handler) (rate(prometheus_http_requests_total[20s]))',
  'rate(prometheus_tsdb_head_samples_appended_total[10s])',
  'prometheus_tsdb_head_series',
  'quantile(0.5, rate(node_cpu_seconds_total[10s]))',
  'stddev by (mode) (rate(node_cpu_seconds_total[10s]))',
  'count_values("v", up)',
  'up * on (instance) group_left (version) prometheus_build_info',
  'up == bool 1',
  'scrape_samples_scraped > 10',
  'up{job="node"} or up{job="prometheus"} unless up{job="nothing"}',
  'label_replace(up, "host", "$1", "instance", "([^:]+):.*")',
  'absent(no_such_metric)',
  'time() - process_start_time_seconds',
  'timestamp(up)',
  'scalar(sum(up))',
  'changes(node_boot_time_seconds[20s])',
];

describe('Vigil and Prometheus on the same samples', () => {
  it('give the same series and values for instant queries at the same times', async () => {
    const t = Math.floor(Date.now() / 1000) - 8;
    let answered = 0;
    for (const query of QUERIES) {
      if ((await expectSame('/api/v1/query', { query, time: String(t) })) > 0) answered++;
      // Off a scrape boundary too.
      await expectSame('/api/v1/query', { query, time: (t - 7.3).toFixed(3) });
    }
    // Not vacuous: (nearly) every query has a non-empty answer to compare.
    expect(answered).toBeGreaterThanOrEqual(QUERIES.length - 2);
  });

  it('give the same matrices for range queries', async () => {
    const end = Math.floor(Date.now() / 1000) - 8;
    let points = 0;
    for (const query of QUERIES.filter((q) => !q.startsWith('scalar('))) points += await expectSame('/api/v1/query_range', { query, start: String(end - 24), end: String(end), step: '3' });
    expect(points).toBeGreaterThan(300);
  });

  it('list the same series and label values', async () => {
    const end = String(Math.floor(Date.now() / 1000) - 8);
    const start = String(Number(end) - 20);
    const norm = (a: { data: Array<Record<string, string>> }) => a.data.map((s) => JSON.stringify(Object.entries(s).sort())).sort();
    const series = async (base: string) => (await fetch(`${base}/api/v1/series?${new URLSearchParams({ 'match[]': 'node_cpu_seconds_total', start, end })}`)).json() as Promise<{ data: Array<Record<string, string>> }>;
    expect(norm(await series(engine.url()!))).toEqual(norm(await series(prometheus.url)));
    const values = async (base: string) => ((await (await fetch(`${base}/api/v1/label/mode/values?${new URLSearchParams({ start, end, 'match[]': 'node_cpu_seconds_total' })}`)).json()) as { data: string[] }).data;
    expect(await values(engine.url()!)).toEqual(await values(prometheus.url));
  });

  it('print the same with promtool query instant and range (form POSTs)', async () => {
    const t = String(Math.floor(Date.now() / 1000) - 8);
    const lines = (s: string) => s.trim().split('\n').sort();
    const instant = (base: string) => promtool(['query', 'instant', `--time=${t}`, base, 'sum by (job) (rate(scrape_samples_scraped[10s]))']);
    expect(lines(await instant(engine.url()!))).toEqual(lines(await instant(prometheus.url)));
    const range = (base: string) => promtool(['query', 'range', `--start=${Number(t) - 20}`, `--end=${t}`, '--step=5s', base, 'up']);
    const ours = await range(engine.url()!);
    expect(ours).toMatch(/up\{instance=.*job="node"\} =>/);
    expect(lines(ours)).toEqual(lines(await range(prometheus.url)));
  });
});
