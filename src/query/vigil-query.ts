/**
 * Queries in Vigil's own expression language (`lang=vigil`): parsed by the rules checker and
 * evaluated with the rules' aggregators over epoch-aligned windows of `step` (range-evaluator.ts),
 * answered in the shapes of Prometheus' API with a `vigil` field (the resolution read). Results of
 * closed ranges are cached.
 */
import { histogram } from '../obs/metrics.js';
import { parseQuery } from './parse-query.js';
import { QueryCache } from './query-cache.js';
import { QueryError } from './query-error.js';
import { parseStep, parseTime } from './query-params.js';
import { evaluateRange, type QueryLimits, type RangeResult } from './range-evaluator.js';
import type { SampleSource } from './sample-source.js';
import { formatValue } from './promql/value.js';

const latency = histogram('vigil_query_duration_seconds', 'Query evaluation time', ['endpoint', 'cached'], [0.005, 0.02, 0.1, 0.5, 2, 10]);

export type Params = Record<string, unknown>;

export interface VigilQueryOptions {
  source: SampleSource;
  limits: QueryLimits;
  now: () => number;
  /** A range whose end is older than this is closed (cacheable). */
  closedAfterMs: number;
}

const seconds = (ms: number) => ms / 1000;

export class VigilQueries {
  private readonly cache = new QueryCache<RangeResult>();
  // The JSON of each result, kept as long as the result is (in the cache): a repeat is only a send.
  private readonly rendered = new WeakMap<RangeResult, Map<string, string>>();

  constructor(private readonly options: VigilQueryOptions) {}

  private async run(query: string, start: number, end: number, stepMs: number, endpoint: string): Promise<RangeResult> {
    if (end < start) throw new QueryError('QUERY_PARAM', 'end: must not be before start', 400);
    const parsed = parseQuery(query);
    const key = QueryCache.key(query, start, end, stepMs);
    const closed = end < this.options.now() - this.options.closedAfterMs;
    const timer = Date.now();
    const hit = closed ? this.cache.get(key) : undefined;
    if (hit) {
      latency.observe({ endpoint, cached: 'true' }, (Date.now() - timer) / 1000);
      return hit;
    }
    const result = await evaluateRange(parsed, { start, end, stepMs }, this.options.source, this.options.limits);
    if (closed) this.cache.set(key, result);
    latency.observe({ endpoint, cached: 'false' }, (Date.now() - timer) / 1000);
    return result;
  }

  /** query_range: a matrix of the windows of `step` ending at each step; `warning` goes in `warnings`. */
  async range(p: Params, warning?: string): Promise<string> {
    const stepMs = parseStep('step', p.step);
    const result = await this.run(String(p.query ?? ''), parseTime('start', p.start), parseTime('end', p.end), stepMs, 'query_range');
    let bodies = this.rendered.get(result);
    if (!bodies) this.rendered.set(result, (bodies = new Map()));
    let body = bodies.get(warning ?? '');
    if (body === undefined) {
      body = JSON.stringify({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: result.series.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [seconds(t), formatValue(v)]) })),
        },
        ...(warning ? { warnings: [warning] } : {}),
        vigil: { resolution: result.resolution },
      });
      bodies.set(warning ?? '', body);
    }
    return body;
  }

  /** query: the window of `window` (default 1m) ending at `time`. */
  async instant(p: Params, warning?: string): Promise<string> {
    const at = parseTime('time', p.time, this.options.now());
    const windowMs = parseStep('window', p.window, 60_000);
    const result = await this.run(String(p.query ?? ''), at - windowMs, at, windowMs, 'query');
    const t = result.times.at(-1);
    const points = result.series.map((s) => ({ metric: s.metric, last: s.values.find(([x]) => x === t) })).filter((s) => s.last);
    const warnings = warning ? { warnings: [warning] } : {};
    if (result.scalar) return JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: points[0] ? [seconds(t!), formatValue(points[0].last![1])] : null }, ...warnings });
    return JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: points.map((s) => ({ metric: s.metric, value: [seconds(s.last![0]), formatValue(s.last![1])] })) },
      ...warnings,
      vigil: { resolution: result.resolution, window: windowMs / 1000 },
    });
  }
}
