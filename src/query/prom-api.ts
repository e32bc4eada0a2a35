/**
 * The data endpoints of Prometheus' HTTP API over Vigil's samples, as pure request -> response
 * functions (they run on the query worker thread, query-worker.ts, or in-process in tests):
 *   query, query_range      PromQL (default) or Vigil's language with `lang=vigil`
 *   series, labels, label_values   with `match[]` (PromQL selectors; Vigil selectors with dotted
 *                           metric names are accepted too), `start`, `end`
 *   metadata, query_exemplars
 * Answers are Prometheus' JSON: `{status: "success", data}` or `{status: "error", errorType,
 * error}` with its status codes (400 bad_data, 422 execution, 503 timeout).
 */
import { matchesAll as vigilMatchesAll } from '../dsl/compile.js';
import { parseQuery } from './parse-query.js';
import { QueryError } from './query-error.js';
import { parseStep, parseTime } from './query-params.js';
import type { SampleSource, SeriesMeta } from './sample-source.js';
import { instantQuery, rangeQuery, type PromQLResult } from './promql/engine.js';
import { matchesAll, type LabelMatcher } from './promql/label-matcher.js';
import { parsePromQL } from './promql/parse.js';
import { PromQLParseError } from './promql/syntax-error.js';
import { formatValue, makeLabels } from './promql/value.js';
import type { VigilQueries, Params } from './vigil-query.js';

export type ApiEndpoint = 'query' | 'query_range' | 'series' | 'labels' | 'label_values' | 'metadata' | 'query_exemplars';

export interface QueryLimitsConfig {
  /** Most series one query reads (and most in a /series answer). */
  maxSeries: number;
  /** Most samples one query reads, and most points one node of it holds. */
  maxSamples: number;
}

export interface PromApiDeps {
  source: SampleSource;
  vigil: VigilQueries;
  limits: QueryLimitsConfig;
  /** The default and largest query timeout (the `timeout` parameter may only shorten it). */
  timeoutMs: number;
  lookbackMs: number;
  now: () => number;
  /** Metric names with their kind, for /api/v1/metadata. */
  metadata?: () => Array<{ metric: string; type: 'counter' | 'gauge' | 'unknown' }>;
  yieldNow?: () => Promise<void>;
  /** Conditions every answer should mention (e.g. the head missing samples at its series cap). */
  warnings?: () => string[];
}

export interface ApiResponse {
  status: number;
  body: string;
}

const seconds = (ms: number) => ms / 1000;
const ok = (data: unknown): ApiResponse => ({ status: 200, body: JSON.stringify({ status: 'success', data }) });

/** The error as Prometheus answers it. */
export function errorResponse(err: unknown): ApiResponse {
  if (err instanceof QueryError) {
    const body: Record<string, unknown> = { status: 'error', errorType: err.errorType, error: err.message };
    if (err.position !== undefined) body.position = err.position;
    return { status: err.status, body: JSON.stringify(body) };
  }
  return { status: 500, body: JSON.stringify({ status: 'error', errorType: 'internal', error: (err as Error).message }) };
}

function formatResult(r: PromQLResult): unknown {
  switch (r.resultType) {
    case 'matrix':
      return { resultType: 'matrix', result: r.result.map((s) => ({ metric: s.metric, values: s.values.map(([t, v]) => [seconds(t), formatValue(v)]) })) };
    case 'vector':
      return { resultType: 'vector', result: r.result.map((s) => ({ metric: s.metric, value: [seconds(s.value[0]), formatValue(s.value[1])] })) };
    case 'scalar':
      return { resultType: 'scalar', result: [seconds(r.result[0]), formatValue(r.result[1])] };
    case 'string':
      return { resultType: 'string', result: [seconds(r.result[0]), r.result[1]] };
  }
}

const one = (v: unknown): string | undefined => (Array.isArray(v) ? (v.length ? String(v[v.length - 1]) : undefined) : v === undefined ? undefined : String(v));

/** `lang`: promql, vigil, or absent (PromQL, and Vigil's language for what PromQL cannot parse). */
function language(p: Params): 'promql' | 'vigil' | 'auto' {
  const lang = one(p.lang);
  if (lang === undefined || lang === '') return 'auto';
  if (lang !== 'promql' && lang !== 'vigil') throw new QueryError('QUERY_PARAM', `invalid parameter "lang": "${lang}" is not "promql" or "vigil"`, 400);
  return lang;
}

const FALLBACK_WARNING = 'not PromQL: evaluated in the Vigil rules language (set lang=vigil to ask for it, lang=promql to refuse it)';

/**
 * PromQL, or Vigil's language when `lang` says so, or when the query is outside PromQL's grammar
 * (so no PromQL query, valid or with a type error, changes meaning) and Vigil's language parses it. When neither parses, the error of
 * the parser that read further is the answer.
 */
async function queryIn(p: Params, promql: () => Promise<ApiResponse>, vigil: (warning?: string) => Promise<string>): Promise<ApiResponse> {
  const lang = language(p);
  if (lang === 'vigil') return { status: 200, body: await vigil() };
  try {
    return await promql();
  } catch (err) {
    if (lang !== 'auto' || !(err instanceof PromQLParseError) || !err.grammar) throw err;
    try {
      return { status: 200, body: await vigil(FALLBACK_WARNING) };
    } catch (vigilErr) {
      // Vigil's language parsed it (and failed later), or read further than PromQL: its error.
      const parsed = !(vigilErr instanceof QueryError) || vigilErr.code !== 'QUERY_PARSE';
      throw parsed || (vigilErr.position ?? 0) > (err.position ?? 0) ? vigilErr : err;
    }
  }
}

function deadline(p: Params, deps: PromApiDeps): number {
  const param = one(p.timeout);
  const ms = param === undefined ? deps.timeoutMs : Math.min(deps.timeoutMs, parseStep('timeout', param));
  return Date.now() + ms;
}

function promqlOptions(p: Params, deps: PromApiDeps) {
  return { ...deps.limits, lookbackMs: deps.lookbackMs, deadline: deadline(p, deps), yieldNow: deps.yieldNow };
}

/** A `match[]` selector: PromQL, or Vigil's notation (dotted metric names) when PromQL rejects it. */
export function parseSeriesSelector(text: string): LabelMatcher[] | ((s: SeriesMeta) => boolean) {
  try {
    const e = parsePromQL(text);
    if (e.kind !== 'vector' || e.offsetMs !== 0 || e.at) throw new QueryError('QUERY_PARAM', `invalid parameter "match[]": ${text}: expected a vector selector`, 400);
    return e.matchers;
  } catch (promqlError) {
    try {
      const leaf = parseQuery(`last(${text})`).leaves[0]!;
      return (s) => s.name === leaf.sel.metric && vigilMatchesAll(leaf.sel.matchers, s.labels);
    } catch {
      const message = promqlError instanceof QueryError ? promqlError.message : String(promqlError);
      throw new QueryError('QUERY_PARAM', `invalid parameter "match[]": ${message}`, 400);
    }
  }
}

function matchValues(p: Params): string[] {
  const raw = p['match[]'] ?? p.match;
  return raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
}

/** The label sets (`__name__` included) of the series matching `match[]` in [start, end]. */
async function matchingSeries(p: Params, deps: PromApiDeps, limited: boolean): Promise<Array<Record<string, string>>> {
  const end = parseTime('end', one(p.end), deps.now());
  const start = parseTime('start', one(p.start), end - 3_600_000);
  if (end < start) throw new QueryError('QUERY_PARAM', 'invalid parameter "end": end timestamp must not be before start time', 400);
  const selectors = matchValues(p).map(parseSeriesSelector);
  // Series of named metrics only when every selector names one (the source filters by name).
  const names = selectors.map((s) => (Array.isArray(s) ? s.find((m) => m.name === '__name__' && m.type === '=')?.value : undefined));
  const metrics = selectors.length > 0 && names.every((n) => n !== undefined) ? [...new Set(names as string[])] : undefined;
  const all = await deps.source.series(start, end + 1, metrics);
  const out: Array<Record<string, string>> = [];
  for (const s of all) {
    const labels = makeLabels([['__name__', s.name], ...Object.entries(s.labels)]) as Record<string, string>;
    if (selectors.length > 0 && !selectors.some((sel) => (Array.isArray(sel) ? matchesAll(sel, labels) : sel(s)))) continue;
    out.push(labels);
    if (limited && out.length > deps.limits.maxSeries) throw new QueryError('QUERY_TOO_LARGE', `more than ${deps.limits.maxSeries} series match (query.maxSeries)`, 422);
  }
  return out;
}

function limitOf(p: Params): number {
  const text = one(p.limit);
  if (text === undefined || text === '') return Infinity;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new QueryError('QUERY_PARAM', `invalid parameter "limit": "${text}" is not a non-negative integer`, 400);
  return n === 0 ? Infinity : n;
}

async function dispatch(endpoint: ApiEndpoint, p: Params, deps: PromApiDeps, labelName?: string): Promise<ApiResponse> {
  switch (endpoint) {
    case 'query':
      return queryIn(
        p,
        async () => {
          const t = parseTime('time', one(p.time), deps.now());
          return ok(formatResult(await instantQuery(one(p.query) ?? '', t, deps.source, promqlOptions(p, deps))));
        },
        (warning) => deps.vigil.instant(p, warning),
      );
    case 'query_range':
      return queryIn(
        p,
        async () => {
          const start = parseTime('start', one(p.start));
          const end = parseTime('end', one(p.end));
          const step = parseStep('step', one(p.step));
          return ok(formatResult(await rangeQuery(one(p.query) ?? '', start, end, step, deps.source, promqlOptions(p, deps))));
        },
        (warning) => deps.vigil.range(p, warning),
      );
    case 'series':
      if (matchValues(p).length === 0) throw new QueryError('QUERY_PARAM', 'no match[] parameter provided', 400);
      return ok((await matchingSeries(p, deps, true)).slice(0, limitOf(p)));
    case 'labels': {
      const names = new Set<string>();
      for (const s of await matchingSeries(p, deps, false)) for (const k of Object.keys(s)) names.add(k);
      return ok([...names].sort().slice(0, limitOf(p)));
    }
    case 'label_values': {
      if (!labelName || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(labelName)) throw new QueryError('QUERY_PARAM', `invalid label name: "${labelName}"`, 400);
      const values = new Set<string>();
      for (const s of await matchingSeries(p, deps, false)) {
        const v = s[labelName];
        if (v !== undefined) values.add(v);
      }
      return ok([...values].sort().slice(0, limitOf(p)));
    }
    case 'metadata': {
      const metric = one(p.metric);
      const data: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
      for (const m of deps.metadata?.() ?? []) {
        if (metric !== undefined && metric !== '' && m.metric !== metric) continue;
        data[m.metric] = [{ type: m.type, help: '', unit: '' }];
      }
      const limit = limitOf(p);
      return ok(Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : 1)).slice(0, limit)));
    }
    case 'query_exemplars':
      // Vigil keeps no exemplars; the answer is the empty list Prometheus gives without any.
      if (one(p.query) !== undefined) parsePromQL(one(p.query)!);
      return ok([]);
  }
}

/** Answers one API request; never throws (errors become Prometheus error bodies). */
export async function handlePromApi(endpoint: ApiEndpoint, params: Params, deps: PromApiDeps, labelName?: string): Promise<ApiResponse> {
  try {
    const response = await dispatch(endpoint, params, deps, labelName);
    const warnings = deps.warnings?.() ?? [];
    if (warnings.length === 0 || response.status !== 200) return response;
    const body = JSON.parse(response.body) as { warnings?: string[] };
    return { status: 200, body: JSON.stringify({ ...body, warnings: [...(body.warnings ?? []), ...warnings] }) };
  } catch (err) {
    return errorResponse(err);
  }
}
