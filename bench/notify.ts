/**
 * `npm run bench -- notify [--events 5000] [--latency-events 1000]`
 *
 * The notifier core (routing + grouping + dedup + intent/record in LevelDB + one send at a time) to a
 * local webhook server (node http), one alert per group (group_by id), group_wait 0:
 * 1) events_per_s: alert events ingested in batches of 100 (as Kafka hands them over) until every
 *    notification has reached the webhook.
 * 2) p99_ms: latency from handing one event to the notifier to its webhook request arriving, events
 *    spaced 5 ms apart. Not included: Kafka's fetch wait (up to maxWaitTimeInMs = 100 ms on the
 *    embedded Kafka) and Avro decoding (see bench/decode.ts).
 * Baseline in the same run: bare sequential webhook POSTs (fetch) to the same server; ratio =
 * events_per_s / baseline_per_s.
 * Last line: JSON {bench, events_per_s, p99_ms, p50_ms, baseline, baseline_per_s, ratio}.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertEvent } from '../src/model/types.js';
import { LevelTaskStorage } from '../src/state/level-task-storage.js';
import { createReceivers } from '../src/sinks/notify/create-receivers.js';
import { compileNotifyConfig } from '../src/sinks/notify/notify-config.js';
import { NotifierCore } from '../src/sinks/notify/notifier-core.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return Number(i >= 0 ? args[i + 1]! : def);
};
const EVENTS = arg('events', '5000');
const LATENCY_EVENTS = arg('latency-events', '1000');

const arrivals = new Map<string, number>();
let arrived = 0;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    arrived++;
    if (req.url === '/hook') {
      const fp = (JSON.parse(body) as { alerts: { fingerprint: string }[] }).alerts[0]!.fingerprint;
      arrivals.set(fp, performance.now());
    }
    res.writeHead(200).end('ok');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function alertEvent(i: number, prefix: string): AlertEvent {
  const now = Date.now();
  return {
    event_id: `${prefix}-${i}#1`,
    fingerprint: `${prefix}-${i}`,
    sequence: 1,
    transition: 'FIRING',
    alertname: 'BenchAlert',
    level: 'critical',
    labels: { alertname: 'BenchAlert', id: String(i), host: `host-${i % 100}`, pool: `pool-${i % 10}`, severity: 'critical' },
    annotations: { summary: `alert ${i} is firing` },
    value: i,
    rule_file: 'bench.rules',
    rule_hash: 'h',
    window_start: now - 60_000,
    window_end: now,
    watermark: now,
    active_since: now,
    inputs: {},
  };
}

async function waitFor(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 1));
}

async function baseline(n: number): Promise<number> {
  const body = JSON.stringify({ version: '4', alerts: [{ fingerprint: 'x' }] });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${base}/baseline`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': String(i) }, body });
    await res.text();
  }
  return n / ((performance.now() - t0) / 1000);
}

async function withCore<T>(fn: (core: NotifierCore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-notify-'));
  const storage = await LevelTaskStorage.open(join(dir, 'notify'));
  const config = compileNotifyConfig({
    receivers: [{ name: 'hook', type: 'webhook', url: `${base}/hook` }],
    routes: [{ match: [{ name: 'severity', op: '=~', value: 'critical|page' }], receivers: ['hook'], groupBy: ['id'], groupWaitMs: 0, groupIntervalMs: 300_000, repeatIntervalMs: 4 * 3_600_000 }],
    inhibits: [{ source: [{ name: 'alertname', op: '=', value: 'NodeDown' }], target: [{ name: 'severity', op: '=', value: 'critical' }], equal: ['host'] }],
  });
  const receivers = createReceivers(config, { smtpFrom: 'v@x', outbox: dir, pagerdutyUrl: base, externalUrl: 'http://vigil', env: {} });
  const core = new NotifierCore({ config, receivers, storage, deadLetter: async () => undefined, notifyResolvedWhileSilenced: true });
  await core.open();
  try {
    return await fn(core);
  } finally {
    await core.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// Warm-up (JIT, sockets), not measured.
await baseline(200);
await withCore(async (core) => {
  await core.ingest(Array.from({ length: 200 }, (_, i) => alertEvent(i, 'warm')), Date.now());
  await core.tick(Date.now());
});

const baselinePerS = await baseline(Math.min(EVENTS, 3000));
console.log(`baseline: bare sequential webhook POSTs: ${Math.round(baselinePerS)}/s`);

const eventsPerS = await withCore(async (core) => {
  const t0 = performance.now();
  const ticks: Promise<void>[] = [];
  for (let i = 0; i < EVENTS; i += 100) {
    const batch = Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) => alertEvent(i + j, 'tp'));
    await core.ingest(batch, Date.now());
    ticks.push(core.tick(Date.now()));
  }
  await Promise.all(ticks);
  await waitFor(() => [...arrivals.keys()].filter((k) => k.startsWith('tp-')).length >= EVENTS);
  return EVENTS / ((performance.now() - t0) / 1000);
});
console.log(`throughput: ${EVENTS} events -> ${EVENTS} webhook notifications: ${Math.round(eventsPerS)} events/s`);

const latencies = await withCore(async (core) => {
  const sent = new Map<string, number>();
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    const e = alertEvent(i, 'lat');
    sent.set(e.fingerprint, performance.now());
    await core.ingest([e], Date.now());
    void core.tick(Date.now());
    await new Promise((r) => setTimeout(r, 5));
  }
  await waitFor(() => [...sent.keys()].every((k) => arrivals.has(k)));
  await core.idle();
  return [...sent].map(([k, t]) => arrivals.get(k)! - t).sort((a, b) => a - b);
});
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
const p50 = pct(0.5);
const p99 = pct(0.99);
console.log(`latency event -> webhook at group_wait 0 over ${LATENCY_EVENTS} events: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`);
server.close();
console.log(
  JSON.stringify({
    bench: 'notify',
    events_per_s: Math.round(eventsPerS),
    p99_ms: Number(p99.toFixed(2)),
    p50_ms: Number(p50.toFixed(2)),
    baseline: 'bare sequential webhook POST (fetch)',
    baseline_per_s: Math.round(baselinePerS),
    ratio: Number((eventsPerS / baselinePerS).toFixed(3)),
    requests: arrived,
  }),
);
