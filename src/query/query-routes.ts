/**
 * The Prometheus HTTP API routes of a Vigil process (what Grafana's Prometheus data source,
 * promtool and Prometheus clients call), GET and POST (form-encoded, as Grafana and promtool send
 * it, or JSON):
 *   /api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values,
 *   /api/v1/metadata, /api/v1/query_exemplars   answered by a QueryExecutor (the query worker thread
 *                                               in `vigil run`, so a query never runs on the
 *                                               stream-processing thread; in-process in tests)
 *   /api/v1/status/buildinfo, /api/v1/alerts, /api/v1/rules   answered here (the rules engine's view)
 * Errors are Prometheus' `{"status":"error","errorType":...,"error":...}` with its status codes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { counter, histogram } from '../obs/metrics.js';
import type { AlertingView } from './alerting-view.js';
import { registerAlertingRoutes } from './alerting-routes.js';
import { handlePromApi, type ApiEndpoint, type ApiResponse, type QueryLimitsConfig } from './prom-api.js';
import type { SampleSource } from './sample-source.js';
import { VigilQueries, type Params } from './vigil-query.js';

/** Runs the data endpoints somewhere (in-process or on the query worker). */
export interface QueryExecutor {
  request(endpoint: ApiEndpoint, params: Params, labelName?: string): Promise<ApiResponse>;
}

export interface QueryRoutesOptions {
  /** Where queries run; default: in this thread over `source`. */
  executor?: QueryExecutor;
  /** The samples queried in this thread (when no executor is given). */
  source?: SampleSource;
  limits?: Partial<QueryLimitsConfig & { maxPoints: number }>;
  /** Default and largest query timeout (default 2 m, like Prometheus). */
  timeoutMs?: number;
  alerting?: AlertingView;
  now?: () => number;
  /** A Vigil-language range whose end is older than this is closed (cacheable). Default 5 min. */
  closedAfterMs?: number;
  /** Metric kinds for /api/v1/metadata (when no executor is given). */
  metadata?: () => Array<{ metric: string; type: 'counter' | 'gauge' | 'unknown' }>;
}

const requests = counter('vigil_query_requests_total', 'Query API requests by endpoint and outcome', ['endpoint', 'outcome']);
const latency = histogram('vigil_query_request_duration_seconds', 'Query API answer time, on the HTTP thread', ['endpoint'], [0.005, 0.02, 0.1, 0.5, 2, 10, 60]);

export const DEFAULT_LIMITS = { maxSeries: 100_000, maxPoints: 2_000_000, maxSamples: 50_000_000 };
export const DEFAULT_TIMEOUT_MS = 120_000;
export const LOOKBACK_MS = 5 * 60_000;

/** An executor answering in this thread. */
export function inProcessExecutor(options: { source: SampleSource; limits?: QueryRoutesOptions['limits']; timeoutMs?: number; now?: () => number; closedAfterMs?: number; metadata?: () => Array<{ metric: string; type: 'counter' | 'gauge' | 'unknown' }>; yieldNow?: () => Promise<void>; warnings?: () => string[] }): QueryExecutor {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const vigil = new VigilQueries({ source: options.source, limits, now, closedAfterMs: options.closedAfterMs ?? 5 * 60_000 });
  const deps = { source: options.source, vigil, limits, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, lookbackMs: LOOKBACK_MS, now, metadata: options.metadata, yieldNow: options.yieldNow, warnings: options.warnings };
  return { request: (endpoint, params, labelName) => handlePromApi(endpoint, params, deps, labelName) };
}

/** Form bodies as Prometheus reads them: repeated keys (match[]) become arrays. */
function parseForm(body: string): Params {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const params = (request: FastifyRequest): Params => ({ ...(request.query as Params), ...((request.body as Params | undefined) ?? {}) });

/** Registers the query API routes on `app`. */
export async function registerQueryRoutes(app: FastifyInstance, options: QueryRoutesOptions): Promise<void> {
  const executor =
    options.executor ??
    inProcessExecutor({ source: options.source!, limits: options.limits, timeoutMs: options.timeoutMs, now: options.now, closedAfterMs: options.closedAfterMs, metadata: options.metadata });
  const send = (endpoint: ApiEndpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    const labelName = (request.params as { name?: string }).name;
    const timer = performance.now();
    const response = await executor.request(endpoint, params(request), labelName);
    requests.inc({ endpoint, outcome: String(response.status) });
    latency.observe({ endpoint }, (performance.now() - timer) / 1000);
    reply.code(response.status).type('application/json; charset=utf-8');
    return response.body;
  };
  // Encapsulated, so the form parser applies to these routes only.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    const routes: Array<[string, ApiEndpoint]> = [
      ['/api/v1/query', 'query'],
      ['/api/v1/query_range', 'query_range'],
      ['/api/v1/series', 'series'],
      ['/api/v1/labels', 'labels'],
      ['/api/v1/label/:name/values', 'label_values'],
      ['/api/v1/metadata', 'metadata'],
      ['/api/v1/query_exemplars', 'query_exemplars'],
    ];
    for (const [path, endpoint] of routes) {
      scope.get(path, send(endpoint));
      scope.post(path, send(endpoint));
    }
  });
  registerAlertingRoutes(app, options.alerting);
}
