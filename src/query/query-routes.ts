/**
 * The query API in the shapes of Prometheus' HTTP API (so existing tools can read it), with
 * queries written in Vigil's expression language: /api/v1/query, /api/v1/query_range,
 * /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values, /api/v1/alerts, /api/v1/rules.
 * Errors: 400 `bad_data` with the position of a parse error, 422 `execution` past the limits.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { matchesAll } from '../dsl/compile.js';
import { counter, histogram } from '../obs/metrics.js';
import type { AlertingView } from './alerting-view.js';
import { parseQuery } from './parse-query.js';
import { QueryCache } from './query-cache.js';
import { QueryError } from './query-error.js';
import { parseStep, parseTime } from './query-params.js';
import { evaluateRange, type QueryLimits, type RangeResult } from './range-evaluator.js';
import type { SampleSource } from './sample-source.js';

export interface QueryRoutesOptions {
  source: SampleSource;
  limits?: Partial<QueryLimits>;
  alerting?: AlertingView;
  now?: () => number;
  /** A range whose end is older than this is closed (cacheable). Default 5 min. */
  closedAfterMs?: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxSeries: 100_000, maxPoints: 2_000_000 };

const queries = counter('vigil_query_requests_total', 'Query API requests by endpoint and outcome', ['endpoint', 'outcome']);
const latency = histogram('vigil_query_duration_seconds', 'Query evaluation time', ['endpoint', 'cached'], [0.005, 0.02, 0.1, 0.5, 2, 10]);

const value = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
const seconds = (ms: number) => ms / 1000;

type Params = Record<string, unknown>;
const params = (request: FastifyRequest): Params => ({ ...(request.query as Params), ...((request.body as Params) ?? {}) });

function fail(reply: FastifyReply, err: unknown, endpoint: string): unknown {
  if (err instanceof QueryError) {
    queries.inc({ endpoint, outcome: String(err.status) });
    reply.code(err.status);
    return {
      status: 'error',
      errorType: err.status === 422 ? 'execution' : 'bad_data',
      error: err.message,
      ...(err.position !== undefined ? { position: err.position } : {}),
    };
  }
  queries.inc({ endpoint, outcome: '500' });
  reply.code(500);
  return { status: 'error', errorType: 'internal', error: (err as Error).message };
}

/** Registers the query API routes on `app`. */
export async function registerQueryRoutes(app: FastifyInstance, options: QueryRoutesOptions): Promise<void> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const closedAfter = options.closedAfterMs ?? 5 * 60_000;
  const cache = new QueryCache<RangeResult>();

  async function run(query: string, start: number, end: number, stepMs: number, endpoint: string): Promise<RangeResult> {
    if (end < start) throw new QueryError('QUERY_PARAM', 'end: must not be before start', 400);
    const parsed = parseQuery(query);
    const key = QueryCache.key(query, start, end, stepMs);
    const closed = end < now() - closedAfter;
    const timer = Date.now();
    const hit = closed ? cache.get(key) : undefined;
    if (hit) {
      latency.observe({ endpoint, cached: 'true' }, (Date.now() - timer) / 1000);
      return hit;
    }
    const result = await evaluateRange(parsed, { start, end, stepMs }, options.source, limits);
    if (closed) cache.set(key, result);
    latency.observe({ endpoint, cached: 'false' }, (Date.now() - timer) / 1000);
    return result;
  }

  // The JSON of each result, kept as long as the result is (in the cache): a repeat is only a send.
  const rendered = new WeakMap<RangeResult, string>();
  const queryRange = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const p = params(request);
      const stepMs = parseStep('step', p.step);
      const result = await run(String(p.query ?? ''), parseTime('start', p.start), parseTime('end', p.end), stepMs, 'query_range');
      queries.inc({ endpoint: 'query_range', outcome: '200' });
      let body = rendered.get(result);
      if (body === undefined) {
        body = JSON.stringify({
          status: 'success',
          data: {
            resultType: 'matrix',
            result: result.series.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [seconds(t), value(v)]) })),
          },
          vigil: { resolution: result.resolution },
        });
        rendered.set(result, body);
      }
      reply.type('application/json; charset=utf-8');
      return body;
    } catch (err) {
      return fail(reply, err, 'query_range');
    }
  };
  app.get('/api/v1/query_range', queryRange);
  app.post('/api/v1/query_range', queryRange);

  const instant = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const p = params(request);
      const at = parseTime('time', p.time, now());
      const windowMs = parseStep('window', p.window, 60_000);
      const result = await run(String(p.query ?? ''), at - windowMs, at, windowMs, 'query');
      const t = result.times.at(-1);
      queries.inc({ endpoint: 'query', outcome: '200' });
      const points = result.series.map((s) => ({ metric: s.metric, last: s.values.find(([x]) => x === t) })).filter((s) => s.last);
      if (result.scalar) return { status: 'success', data: { resultType: 'scalar', result: points[0] ? [seconds(t!), value(points[0].last![1])] : null } };
      return {
        status: 'success',
        data: { resultType: 'vector', result: points.map((s) => ({ metric: s.metric, value: [seconds(s.last![0]), value(s.last![1])] })) },
        vigil: { resolution: result.resolution, window: windowMs / 1000 },
      };
    } catch (err) {
      return fail(reply, err, 'query');
    }
  };
  app.get('/api/v1/query', instant);
  app.post('/api/v1/query', instant);

  /** Series of the `match[]` selectors (each parsed by the rules parser) in [start, end]. */
  async function matchingSeries(p: Params, limited = true): Promise<Array<Record<string, string>>> {
    const end = parseTime('end', p.end, now());
    const start = parseTime('start', p.start, end - 3_600_000);
    const raw = p['match[]'] ?? p.match;
    const selectors = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
    const leaves = selectors.map((s) => parseQuery(`last(${s})`).leaves[0]!);
    const metrics = leaves.length ? [...new Set(leaves.map((l) => l.sel.metric))] : undefined;
    const all = await options.source.series(start, end, metrics);
    const kept = leaves.length ? all.filter((s) => leaves.some((l) => l.sel.metric === s.name && matchesAll(l.sel.matchers, s.labels))) : all;
    if (limited && kept.length > limits.maxSeries) throw new QueryError('QUERY_TOO_LARGE', `more than ${limits.maxSeries} series match`, 422);
    return kept.map((s) => ({ __name__: s.name, ...s.labels }));
  }

  app.get('/api/v1/series', async (request, reply) => {
    try {
      const p = params(request);
      if (p['match[]'] === undefined && p.match === undefined) throw new QueryError('QUERY_PARAM', 'match[]: at least one selector is required', 400);
      return { status: 'success', data: await matchingSeries(p) };
    } catch (err) {
      return fail(reply, err, 'series');
    }
  });

  app.get('/api/v1/labels', async (request, reply) => {
    try {
      const names = new Set<string>();
      for (const s of await matchingSeries(params(request), false)) for (const k of Object.keys(s)) names.add(k);
      return { status: 'success', data: [...names].sort() };
    } catch (err) {
      return fail(reply, err, 'labels');
    }
  });

  app.get<{ Params: { name: string } }>('/api/v1/label/:name/values', async (request, reply) => {
    try {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(request.params.name)) {
        throw new QueryError('QUERY_PARAM', `label name "${request.params.name}" is not valid`, 400);
      }
      const values = new Set<string>();
      for (const s of await matchingSeries(params(request), false)) {
        const v = s[request.params.name];
        if (v !== undefined) values.add(v);
      }
      return { status: 'success', data: [...values].sort() };
    } catch (err) {
      return fail(reply, err, 'label_values');
    }
  });

  const alerting = options.alerting;
  if (alerting) {
    app.get('/api/v1/alerts', async () => ({
      status: 'success',
      data: {
        alerts: alerting.alerts().map((a) => ({
          labels: a.labels,
          annotations: a.annotations,
          state: a.state,
          activeAt: new Date(a.activeAt).toISOString(),
          value: a.value === null ? null : value(a.value),
          fingerprint: a.fingerprint,
          level: a.level,
          query: a.query,
          explanation: a.explanation,
        })),
      },
    }));
    app.get('/api/v1/rules', async () => {
      const view = alerting.rules();
      const active = alerting.alerts();
      const files = [...new Set([...view.files, ...view.rules.map((r) => r.file)])];
      return {
        status: 'success',
        data: {
          groups: files.map((file) => ({
            name: file,
            file,
            rules: view.rules
              .filter((r) => r.file === file)
              .map((r) => ({
                name: r.name,
                type: r.kind === 'alert' ? 'alerting' : 'recording',
                query: r.query,
                duration: r.forMs / 1000,
                labels: r.labels,
                health: 'ok',
                alerts: active.filter((a) => a.labels.alertname === r.name).map((a) => ({ labels: a.labels, state: a.state, activeAt: new Date(a.activeAt).toISOString() })),
              })),
          })),
        },
        vigil: { errors: view.errors, lastReload: view.lastReload === null ? null : new Date(view.lastReload).toISOString() },
      };
    });
  }
}
