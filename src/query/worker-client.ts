/**
 * The main thread's side of the query worker (query-worker.ts): starts the worker thread, forwards
 * the data endpoints' requests to it and their answers back (a QueryExecutor), and exports the
 * head's bounds as vigil_query_head_* metrics on this process's /metrics. A request the worker
 * does not answer within the query timeout plus a grace period (a query that stopped yielding)
 * gets 503, and the worker is replaced (its head is read again from Kafka).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Gauge } from 'prom-client';
import { counter, metricsRegistry } from '../obs/metrics.js';
import { componentLogger } from '../obs/logger.js';
import { parseDurationMs } from '../dsl/duration.js';
import type { HeadStats } from './head.js';
import type { ApiEndpoint, ApiResponse } from './prom-api.js';
import type { QueryExecutor } from './query-routes.js';
import type { QueryServiceConfig } from './query-service.js';
import type { WorkerRequest } from './query-worker.js';
import type { Params } from './vigil-query.js';

export interface QueryWorker extends QueryExecutor {
  /** The head's latest figures (updated every second). */
  stats(): HeadStats | undefined;
  /** Times the worker was replaced after not answering. */
  readonly restarts: number;
  stop(): Promise<void>;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'response'; id: number; response: ApiResponse }
  | { type: 'stats'; stats: HeadStats }
  | { type: 'stopped' };

const GRACE_MS = 10_000;
const log = componentLogger('query-worker');

let latest: HeadStats | undefined;
/** A gauge read at scrape time from the worker's last report. */
const metric = <K extends keyof HeadStats>(name: string, help: string, key: K, map: (v: HeadStats[K]) => number = Number) => {
  if (metricsRegistry.getSingleMetric(name)) return;
  new Gauge({
    name,
    help,
    registers: [metricsRegistry],
    collect() {
      if (latest) this.set(map(latest[key]));
    },
  });
};
metric('vigil_query_head_series', 'Series in the query head', 'series');
metric('vigil_query_head_samples', 'Samples in the query head', 'samples');
metric('vigil_query_head_max_series', 'The query head\'s series cap (query.headMaxSeries)', 'maxSeries');
metric('vigil_query_head_full', '1 while the query head refuses new series at its cap (none stale to evict)', 'full', (v) => (v ? 1 : 0));
metric('vigil_query_head_dropped_samples_total', 'Samples the query head did not keep because it was full', 'droppedSamples');
metric('vigil_query_head_evicted_series_total', 'Stale series the query head evicted to make room', 'evictedSeries');
const restartsTotal = counter('vigil_query_worker_restarts_total', 'Query worker threads replaced after not answering in time');

/** tsx's ESM register API (its package's `./esm/api` import export), as a file URL. */
function tsxRegisterUrl(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
}

/** The worker's code: compiled JS, or (under tests and tsx) the TypeScript source through tsx. */
function spawn(config: QueryServiceConfig): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const url = new URL('./query-worker.ts', here).href;
    // Resolved here: an eval worker resolves bare names from the process's cwd, which may be anywhere.
    const tsx = tsxRegisterUrl();
    return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`, { eval: true, workerData: config });
  }
  return new Worker(new URL('./query-worker.js', here), { workerData: config });
}

/** Starts the worker and resolves once its service runs (rejects with its startup error). */
export async function startQueryWorker(config: QueryServiceConfig): Promise<QueryWorker> {
  const hardTimeoutMs = parseDurationMs(config.query.timeout) + GRACE_MS;
  const pending = new Map<number, { resolve: (r: ApiResponse) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let restarts = 0;
  let stopping = false;
  let worker: Worker;
  let ready: Promise<void>;

  const failAll = (status: number, message: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.resolve({ status, body: JSON.stringify({ status: 'error', errorType: status === 503 ? 'timeout' : 'internal', error: message }) });
      pending.delete(id);
    }
  };

  const launch = (): Promise<void> => {
    worker = spawn(config);
    const w = worker;
    let started = false;
    return new Promise<void>((resolve, reject) => {
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
        }
        else if (m.type === 'failed') reject(new Error(`query worker failed to start: ${m.error}`));
        else if (m.type === 'stats') latest = m.stats;
        else if (m.type === 'response') {
          const p = pending.get(m.id);
          if (!p) return;
          clearTimeout(p.timer);
          pending.delete(m.id);
          p.resolve(m.response);
        }
      });
      w.on('error', (err) => {
        log.error({ err }, 'query worker error');
        reject(err);
      });
      w.on('exit', (code) => {
        // A worker that never started is not replaced (its start failed, and said why).
        if (stopping || w !== worker || !started) return reject(new Error(`the query worker exited (code ${code}) before it started`));
        log.error({ code }, 'query worker exited; starting a new one');
        failAll(500, `the query worker exited (code ${code})`);
        ready = launch();
        ready.catch((err: Error) => log.error({ err }, 'query worker restart failed'));
      });
    });
  };

  const replace = (reason: string) => {
    restarts++;
    restartsTotal.inc();
    log.warn({ reason }, 'replacing the query worker');
    const old = worker;
    failAll(503, reason);
    ready = launch();
    ready.catch((err: Error) => log.error({ err }, 'query worker restart failed'));
    void old.terminate();
  };

  ready = launch();
  await ready;

  return {
    get restarts() {
      return restarts;
    },
    stats: () => latest,
    async request(endpoint: ApiEndpoint, params: Params, labelName?: string): Promise<ApiResponse> {
      await ready;
      const id = nextId++;
      return new Promise<ApiResponse>((resolve) => {
        const timer = setTimeout(() => replace(`the query worker did not answer within ${hardTimeoutMs / 1000} s (query.timeout + ${GRACE_MS / 1000} s)`), hardTimeoutMs);
        pending.set(id, { resolve, timer });
        worker.postMessage({ type: 'request', id, endpoint, params, labelName } satisfies WorkerRequest);
      });
    },
    async stop() {
      stopping = true;
      failAll(503, 'the query service is stopping');
      const w = worker;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void w.terminate().then(() => resolve()), 15_000);
        w.on('message', (m: WorkerMessage) => {
          if (m.type !== 'stopped') return;
          clearTimeout(timer);
          void w.terminate().then(() => resolve());
        });
        w.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        w.postMessage({ type: 'stop' } satisfies WorkerRequest);
      });
    },
  };
}
