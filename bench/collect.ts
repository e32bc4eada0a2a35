// `npm run bench -- collect [--seconds N] [--targets N]`: the collection paths into the embedded Kafka.
// 1. push: InfluxDB line protocol over HTTP (/api/v2/write, 4 requests in flight, retried on 503)
//    -> parse -> SampleBatch records acknowledged by Kafka; samples/s.
// 2. baseline, same run: the same samples handed straight to the SampleBatchPublisher (no HTTP, no
//    parsing); ratio = push / baseline.
// 3. scrape: N local HTTP targets (default 1000, ~60 samples each, text 0.0.4) on one instance at a
//    2 s interval (--interval-ms) for 3 intervals after one warm-up interval: scrapes started per
//    interval, slots missed, failures, scrape duration p50/p99, CPU share of this process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScrapeJob } from '../src/collect/scrape/scrape-config.js';
import type { SamplePublisher } from '../src/collect/sample-publisher.js';
import type { SampleBatchPublisher as Publisher } from '../src/kafka/publisher.js';

// Info logs would interleave with (and, being buffered, follow) the JSON line: warn and above only.
process.env.VIGIL_LOG_LEVEL ??= 'warn';
const { configSchema } = await import('../src/config/config.js');
const { startStack } = await import('../src/dev/stack.js');
const { createKafka } = await import('../src/kafka/client.js');
const { SampleBatchPublisher } = await import('../src/kafka/publisher.js');
const { sampleBatchSerde } = await import('../src/model/serde.js');
const { startPushServer } = await import('../src/collect/push/push-server.js');
const { parseLineProtocol } = await import('../src/collect/push/line-protocol.js');
const { samplesFromLines } = await import('../src/collect/push/push-samples.js');
const { DEFAULT_SOURCE_LABELS } = await import('../src/collect/source-batches.js');
const { rootLogger } = await import('../src/obs/logger.js');
const { ScrapeManager } = await import('../src/collect/scrape/scrape-manager.js');
const { buildTargets } = await import('../src/collect/scrape/targets.js');
const { closeScrapeAgents, scrapeUrl } = await import('../src/collect/scrape/scrape-http.js');

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg('--seconds', 4);
const TARGETS = arg('--targets', 1000);
const SCRAPE_INTERVAL_MS = arg('--interval-ms', 2000);
const LINES_PER_BODY = 5000;
const FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_iowait', 'usage_irq', 'usage_steal', 'usage_guest', 'usage_nice'];
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Bodies of line protocol: 1000 hosts x 8 cores, 8 fields per line. */
function bodies(count: number): string[] {
  const out: string[] = [];
  let t = 1_700_000_000_000;
  for (let b = 0; b < count; b++) {
    const lines: string[] = [];
    for (let i = 0; i < LINES_PER_BODY; i++) {
      const host = (b * LINES_PER_BODY + i) % 1000;
      const fields = FIELDS.map((f, k) => `${f}=${((i * 7 + k * 13) % 1000) / 10}`).join(',');
      lines.push(`cpu,host=host-${host},pool=pool-${host % 40},cpu=cpu${i % 8} ${fields} ${t++}`);
    }
    out.push(lines.join('\n'));
  }
  return out;
}

async function benchPush(url: string, token: string, bodyList: string[], publisher: Publisher, budgetSeconds: number) {
  const before = publisher.stats.samples;
  const start = performance.now();
  let sent = 0;
  let retries = 0;
  let next = 0;
  const deadline = start + budgetSeconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const body = bodyList[next++ % bodyList.length]!;
      for (;;) {
        const res = await fetch(`${url}/api/v2/write?org=o&bucket=b&precision=ms`, { method: 'POST', body, headers: { authorization: `Token ${token}` } });
        await res.arrayBuffer();
        if (res.status === 204) break;
        if (res.status !== 503) throw new Error(`push answered ${res.status}`);
        retries++;
        await new Promise((r) => setTimeout(r, 5));
      }
      sent += LINES_PER_BODY * FIELDS.length;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await publisher.flush();
  const seconds = (performance.now() - start) / 1000;
  const acked = publisher.stats.samples - before;
  return { sent, acked, seconds, retries, perS: acked / seconds };
}

type PreparedBatches = Array<Array<{ source: Record<string, string>; samples: Array<import('../src/model/types.js').Sample> }>>;

async function benchBaseline(prepared: PreparedBatches, publisher: Publisher, budgetSeconds: number) {
  const before = publisher.stats.samples;
  const start = performance.now();
  const deadline = start + budgetSeconds * 1000;
  let i = 0;
  while (performance.now() < deadline) {
    await Promise.all(prepared[i++ % prepared.length]!.map((b) => publisher.publish(b.source, b.samples)));
  }
  await publisher.flush();
  const seconds = (performance.now() - start) / 1000;
  const acked = publisher.stats.samples - before;
  return { acked, seconds, perS: acked / seconds };
}

/** An exposition of ~60 samples like a small exporter's. */
function exposition(i: number): string {
  const lines = ['# HELP app_requests_total Requests.', '# TYPE app_requests_total counter'];
  for (const code of ['200', '400', '500']) for (const path of ['/a', '/b', '/c', '/d']) lines.push(`app_requests_total{code="${code}",path="${path}"} ${i * 7 + code.length}`);
  lines.push('# TYPE app_latency_seconds histogram');
  for (const le of ['0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '+Inf']) lines.push(`app_latency_seconds_bucket{le="${le}"} ${i}`);
  lines.push(`app_latency_seconds_sum ${i * 0.5}`, `app_latency_seconds_count ${i}`);
  lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${1e8 + i}`);
  for (let k = 0; k < 36; k++) lines.push(`app_gauge_${k % 6}{shard="${k}"} ${k * 1.5}`);
  return `${lines.join('\n')}\n`;
}

async function benchScrape(publisher: SamplePublisher) {
  const servers: http.Server[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < TARGETS; i++) {
    const body = exposition(i);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    addresses.push(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  const intervalMs = SCRAPE_INTERVAL_MS;
  const job: ScrapeJob = {
    name: 'bench', intervalMs, timeoutMs: Math.min(10_000, intervalMs - 100), metricsPath: '/metrics', scheme: 'http', honorLabels: false, honorTimestamps: true, params: {}, fileSd: [], staticGroups: [],
  };
  const durations: number[] = [];
  const starts: number[] = [];
  const manager = new ScrapeManager({
    publisher,
    scrape: async (url, timeoutMs) => {
      const t0 = performance.now();
      starts.push(t0);
      const outcome = await scrapeUrl(url, timeoutMs);
      durations.push(performance.now() - t0);
      return outcome;
    },
  });
  const { targets } = buildTargets(job, [{ targets: addresses, labels: {}, source: 'bench' }]);
  const INTERVALS = 3;
  manager.setTargets(targets);
  // The first interval warms up connections; measure the next ones.
  await new Promise((r) => setTimeout(r, intervalMs + 100));
  const s0 = { ...manager.stats };
  const d0 = durations.length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, INTERVALS * intervalMs));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const s1 = { ...manager.stats };
  await manager.close();
  closeScrapeAgents();
  await Promise.all(servers.map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
  const window = durations.slice(d0).sort((a, b) => a - b);
  // Scrapes started inside the window (completions would also count the backlog of the one before).
  const scrapes = starts.filter((t) => t >= t0 && t < t0 + INTERVALS * intervalMs).length;
  return {
    targets: TARGETS,
    intervalMs,
    scrapesPerInterval: scrapes / INTERVALS,
    failures: s1.failures - s0.failures,
    missed: s1.missed - s0.missed,
    samplesPerS: ((s1.samples - s0.samples) / elapsed) * 1000,
    p50: window[Math.floor(window.length * 0.5)] ?? 0,
    p99: window[Math.floor(window.length * 0.99)] ?? 0,
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsed,
  };
}

async function main(): Promise<void> {
  const config = configSchema.parse({});
  log('starting the embedded stack...');
  const stack = await startStack({ config, partitions: 8 });
  const kafka = createKafka(stack.brokers, 'bench-collect');
  const publisher = new SampleBatchPublisher({ kafka, serde: sampleBatchSerde({ registry: stack.registryUrl }), topic: config.topics.metrics, name: 'bench' });
  const token = 'bench-token';
  const push = await startPushServer({ publisher, tokens: [token], maxBodyBytes: 10 * 1024 * 1024, maxSeriesPerRequest: 100_000, port: 0, host: '127.0.0.1' });
  let result = '';
  try {
    const bodyList = bodies(8);
    // Warm-up (schema registration, connections, JIT).
    await benchPush(push.url, token, bodyList.slice(0, 1), publisher, 0.3).catch(() => undefined);
    // Pre-parsed outside the timing: the baseline is the publisher alone.
    const prepared: PreparedBatches = bodyList.map((b) =>
      samplesFromLines(parseLineProtocol(b, 'ms').points, new Set(DEFAULT_SOURCE_LABELS), 0).batches.batches(),
    );
    // Alternating rounds, so a change of load on the shared machine hits both sides alike.
    const ROUNDS = 4;
    const baseline = { acked: 0, seconds: 0, perS: 0 };
    const pushed = { acked: 0, seconds: 0, retries: 0, perS: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const b = await benchBaseline(prepared, publisher, SECONDS / ROUNDS);
      baseline.acked += b.acked;
      baseline.seconds += b.seconds;
      const p = await benchPush(push.url, token, bodyList, publisher, SECONDS / ROUNDS);
      pushed.acked += p.acked;
      pushed.seconds += p.seconds;
      pushed.retries += p.retries;
    }
    baseline.perS = baseline.acked / baseline.seconds;
    pushed.perS = pushed.acked / pushed.seconds;
    log(`baseline (bare publisher): ${Math.round(baseline.perS)} samples/s (${baseline.acked} samples in ${baseline.seconds.toFixed(2)} s)`);
    log(`push (HTTP line protocol -> Kafka): ${Math.round(pushed.perS)} samples/s (${pushed.acked} acked in ${pushed.seconds.toFixed(2)} s, ${pushed.retries} retries after 503)`);
    const scrape = await benchScrape(publisher);
    await publisher.flush();
    log(
      `scrape: ${scrape.targets} targets at ${scrape.intervalMs} ms: ${scrape.scrapesPerInterval.toFixed(0)} scrapes/interval, ${scrape.failures} failures, ${scrape.missed} missed slots, ` +
        `${Math.round(scrape.samplesPerS)} samples/s, scrape p50 ${scrape.p50.toFixed(1)} ms p99 ${scrape.p99.toFixed(1)} ms, CPU ${(scrape.cpuShare * 100).toFixed(0)}% of one core (targets included)`,
    );
    result = JSON.stringify({
        bench: 'collect',
        samples_per_s: Math.round(pushed.perS),
        baseline: 'bare SampleBatchPublisher (no HTTP, no parsing)',
        baseline_per_s: Math.round(baseline.perS),
        ratio: Number((pushed.perS / baseline.perS).toFixed(3)),
        push_retries_503: pushed.retries,
        scrape_targets: scrape.targets,
        scrape_interval_ms: scrape.intervalMs,
        scrape_scrapes_per_interval: Number(scrape.scrapesPerInterval.toFixed(1)),
        scrape_failures: scrape.failures,
        scrape_missed_slots: scrape.missed,
        scrape_samples_per_s: Math.round(scrape.samplesPerS),
        scrape_p50_ms: Number(scrape.p50.toFixed(1)),
        scrape_p99_ms: Number(scrape.p99.toFixed(1)),
        scrape_cpu_share: Number(scrape.cpuShare.toFixed(2)),
      });
  } finally {
    await push.close();
    await publisher.close();
    await stack.stop();
  }
  // Last, after anything the logger still buffers: the JSON line the contract reads.
  await new Promise<void>((resolve) => rootLogger.flush(() => resolve()));
  console.log(result);
}

await main();
