/**
 * The push endpoint (fastify): InfluxDB line protocol v1 `POST /write` and v2
 * `POST /api/v2/write`, Prometheus remote_write 1.0 `POST /api/v1/write`.
 *
 * Every request is all or nothing: it is authenticated, read (gzip/snappy bodies bounded by
 * `maxBodyBytes` before and after decompression), parsed and checked completely before anything
 * is handed to the publisher. Status codes: 204 written; 400 bad data (every bad line with its
 * number); 401 no token; 403 wrong token; 413 body too large; 429 too many series; 503 with
 * Retry-After when the publisher is saturated.
 */
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { componentLogger } from '../../obs/logger.js';
import { counter, metricsRegistry } from '../../obs/metrics.js';
import { isBackpressure, type SamplePublisher } from '../sample-publisher.js';
import { DEFAULT_SOURCE_LABELS, type SourceBatches } from '../source-batches.js';
import { parseLineProtocol, parsePrecision } from './line-protocol.js';
import { TokenChecker } from './push-auth.js';
import { countSeries, samplesFromLines, samplesFromRemoteWrite, type PushConversion } from './push-samples.js';
import { decodeRemoteWrite, RemoteWriteError } from './remote-write.js';

export interface PushOptions {
  publisher: SamplePublisher;
  /** Accepted tokens (VIGIL_PUSH_TOKENS); must not be empty. */
  tokens: readonly string[];
  /** Largest body, compressed or not (config.push.maxBodyBytes). */
  maxBodyBytes: number;
  /** Most distinct series in one request (config.push.maxSeriesPerRequest). */
  maxSeriesPerRequest: number;
  /** Label names that form a sample's source (Kafka key); default DEFAULT_SOURCE_LABELS. */
  sourceLabels?: readonly string[];
  /** Clock for points without a timestamp (ms). */
  now?: () => number;
  /** Seconds announced in Retry-After on 429/503. */
  retryAfterSeconds?: number;
}

type Api = 'v1' | 'v2' | 'remote_write';

/** An HTTP error of the push API; `lines` are the per-line problems of a 400. */
class PushError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly lines: Array<{ line: number; message: string }> = [],
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

const MAX_LISTED_PROBLEMS = 100;
const log = componentLogger('push');
const requests = counter('vigil_push_requests_total', 'Push requests by API and status code', ['api', 'code']);
const samplesIn = counter('vigil_push_samples_total', 'Samples accepted by the push endpoint', ['api']);
const stringFields = counter('vigil_push_string_fields_skipped_total', 'Line-protocol string fields skipped (not numeric samples)');

/**
 * Registers the push routes on `app` inside their own encapsulated context (their raw-body
 * parser and error handler do not leak into other routes of the same server).
 */
export async function registerPushRoutes(app: FastifyInstance, options: PushOptions): Promise<void> {
  if (options.tokens.length === 0) throw new Error('push endpoint needs at least one token');
  await app.register(async (scope) => pushPlugin(scope, options));
}

/** Starts a fastify server with the push routes and `GET /metrics` (this process's own metrics). */
export async function startPushServer(
  options: PushOptions & { port: number; host?: string },
): Promise<{ app: FastifyInstance; url: string; port: number; close(): Promise<void> }> {
  const app = Fastify({ logger: false, bodyLimit: options.maxBodyBytes });
  await registerPushRoutes(app, options);
  // Health (InfluxDB's shape) and the process's own metrics, no token; only on a server of our own,
  // as a shared server (vigil start) has its own.
  app.get('/health', async () => ({ name: 'vigil-push', status: 'pass', message: 'ready for writes' }));
  // The process's own metrics (no token: like any Prometheus exporter).
  app.get('/metrics', async (_request, reply) => reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics()));
  await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://127.0.0.1:${port}`, port, close: () => app.close() };
}

async function pushPlugin(scope: FastifyInstance, options: PushOptions): Promise<void> {
  const checker = new TokenChecker(options.tokens);
  const sourceLabels = new Set(options.sourceLabels ?? DEFAULT_SOURCE_LABELS);
  const now = options.now ?? Date.now;
  const retryAfter = options.retryAfterSeconds ?? 1;

  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxBodyBytes }, (_req, body, done) => done(null, body));

  scope.addHook('onRequest', async (request) => {
    if (request.routeOptions.config && (request.routeOptions.config as { public?: boolean }).public) return;
    const result = checker.check(request.headers.authorization, (request.query ?? {}) as Record<string, unknown>);
    if (result === 'missing') throw new PushError(401, 'authentication required: send "Authorization: Token <token>"');
    if (result === 'wrong') throw new PushError(403, 'token not accepted');
  });

  scope.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const api = apiOf(request);
    let push: PushError;
    if (error instanceof PushError) push = error;
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
      push = new PushError(413, `request body exceeds the limit of ${options.maxBodyBytes} bytes`);
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      push = new PushError(error.statusCode, error.message);
    } else {
      log.error({ err: error }, 'push request failed');
      push = new PushError(500, `internal error: ${error.message}`);
    }
    return sendError(reply, api, push);
  });

  const lineHandler = (api: 'v1' | 'v2') => async (request: FastifyRequest, reply: FastifyReply) => {
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    const precision = parsePrecision(query.precision, api);
    if (precision === undefined) throw new PushError(400, `invalid precision ${JSON.stringify(query.precision)}`);
    const body = readBody(request, options.maxBodyBytes);
    const text = body.toString('utf8');
    const parsed = parseLineProtocol(text, precision);
    if (parsed.problems.length > 0) throw badLines(parsed.problems, 'unable to parse');
    const conversion = samplesFromLines(parsed.points, sourceLabels, now());
    if (conversion.skippedStringFields > 0) stringFields.inc(conversion.skippedStringFields);
    await publishAll(api, conversion, reply);
  };

  // What InfluxDB clients (Telegraf, influx CLI) probe before writing; unauthenticated, as in InfluxDB.
  scope.route({
    method: ['GET', 'HEAD'],
    url: '/ping',
    config: { public: true },
    handler: async (_request, reply) => reply.code(204).header('X-Influxdb-Version', 'vigil-push-1.8').send(),
  });
  scope.post('/write', lineHandler('v1'));
  scope.post('/api/v2/write', lineHandler('v2'));
  scope.post('/api/v1/write', async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new PushError(400, 'empty remote_write body');
    let decoded;
    try {
      decoded = decodeRemoteWrite(body, options.maxBodyBytes);
    } catch (err) {
      if (err instanceof RemoteWriteError) throw new PushError(err.code === 'REMOTE_WRITE_TOO_LARGE' ? 413 : 400, err.message);
      throw err;
    }
    await publishAll('remote_write', samplesFromRemoteWrite(decoded, sourceLabels), reply);
  });

  async function publishAll(api: Api, conversion: PushConversion, reply: FastifyReply): Promise<void> {
    if (conversion.problems.length > 0) throw badLines(conversion.problems, api === 'remote_write' ? 'invalid time series' : 'invalid series');
    const batches: SourceBatches = conversion.batches;
    if (batches.size > options.maxSeriesPerRequest) {
      const series = countSeries(batches);
      if (series > options.maxSeriesPerRequest) {
        throw new PushError(429, `request has ${series} series, more than the limit of ${options.maxSeriesPerRequest}`, [], retryAfter);
      }
    }
    if (options.publisher.saturated) throw new PushError(503, 'publisher saturated: retry later', [], retryAfter);
    try {
      await Promise.all(batches.batches().map((b) => options.publisher.publish(b.source, b.samples)));
    } catch (err) {
      if (isBackpressure(err)) throw new PushError(503, `publisher saturated: ${err.message}`, [], err.retryAfterSeconds ?? retryAfter);
      throw err;
    }
    samplesIn.inc({ api }, batches.size);
    requests.inc({ api, code: '204' });
    await reply.code(204).send();
  }
}

function apiOf(request: FastifyRequest): Api {
  const path = request.url.split('?')[0];
  return path === '/write' ? 'v1' : path === '/api/v2/write' ? 'v2' : 'remote_write';
}

/** The body, gunzipped when `Content-Encoding: gzip` (bounded, so a small bomb cannot blow up). */
function readBody(request: FastifyRequest, maxBytes: number): Buffer {
  const body = request.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (!Buffer.isBuffer(body)) throw new PushError(400, 'unreadable body');
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip') throw new PushError(415, `unsupported Content-Encoding ${JSON.stringify(encoding)}`);
  try {
    return gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PushError(413, `decompressed body exceeds the limit of ${maxBytes} bytes`);
    }
    throw new PushError(400, `invalid gzip body: ${(err as Error).message}`);
  }
}

function badLines(problems: Array<{ line: number; message: string }>, what: string): PushError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const summary = listed.slice(0, 5).map((p) => `line ${p.line}: ${p.message}`).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return new PushError(400, `${what}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}: ${summary}${more}`, listed);
}

const V2_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  413: 'request too large',
  415: 'unsupported media type',
  429: 'too many requests',
  503: 'unavailable',
};

async function sendError(reply: FastifyReply, api: Api, error: PushError): Promise<void> {
  requests.inc({ api, code: String(error.status) });
  reply.code(error.status);
  if (error.retryAfter !== undefined) reply.header('Retry-After', String(error.retryAfter));
  if (api === 'remote_write') {
    await reply.type('text/plain; charset=utf-8').send(`${error.message}\n`);
    return;
  }
  const lines = error.lines.length > 0 ? { errors: error.lines } : {};
  const body =
    api === 'v2'
      ? { code: V2_CODES[error.status] ?? 'internal error', message: error.message, ...(error.lines[0] ? { line: error.lines[0].line } : {}), ...lines }
      : { error: error.message, ...lines };
  await reply.type('application/json; charset=utf-8').send(body);
}
