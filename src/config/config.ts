/**
 * Vigil configuration: one YAML file validated with zod, overridden by the environment
 * variables of ../shared/design/contracts.md. Every component receives a `VigilConfig`;
 * nothing else reads process.env for these settings.
 */
import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w))+$/, 'expected a duration such as 30s, 5m, 1h30m');

export const configSchema = z
  .object({
    kafka: z
      .object({
        /** Comma-separated bootstrap servers; empty = start the embedded Kafka. */
        brokers: z.string().optional(),
        /** Client id, and the prefix of every consumer group Vigil forms (`<clientId>-rollup-1m`, ...). */
        clientId: z.string().default('vigil'),
        /** Partitions for topics Vigil creates. */
        partitions: z.number().int().positive().default(4),
        /**
         * What runs when `brokers` is empty: `broker` a real Apache Kafka (KRaft, child JVM, data under
         * `dataDir`), `mock` librdkafka's in-process mock cluster (quick runs; lost when the process ends).
         */
        embedded: z.enum(['broker', 'mock']).default('broker'),
        /** Where the embedded broker keeps its data across starts. */
        dataDir: z.string().default('./data/kafka'),
        /** Replication factor of the topics Vigil creates (default: the cluster's broker count, at most 3). */
        replicationFactor: z.number().int().positive().optional(),
        /** min.insync.replicas of those topics (default: the replication factor - 1, at least 1). */
        minInsyncReplicas: z.number().int().positive().optional(),
        /** retention.ms of the topics Vigil creates that are not compacted. */
        retention: z
          .object({
            /** metrics, metrics.late, metrics.dlq, the rollup topics, internal repartition topics. */
            metrics: duration.default('7d'),
            /** alerts and alerts.dlq (keep it below notify.retention: the notifier must remember a delivery as long as the event can be replayed). */
            alerts: duration.default('7d'),
          })
          .strict()
          .default({ metrics: '7d', alerts: '7d' }),
        /**
         * Largest record batch the topics take (the broker's message.max.bytes / the topic's
         * max.message.bytes): every request the engine sends stays under it, larger state is split.
         */
        maxMessageBytes: z.number().int().min(65_536).default(1_048_576),
        /** Compression of changelog requests (state blocks shrink to ~1/4 with gzip, at some CPU). */
        changelogCompression: z.enum(['gzip', 'none']).default('gzip'),
      })
      .strict()
      .default({ clientId: 'vigil', partitions: 4, embedded: 'broker', dataDir: './data/kafka', retention: { metrics: '7d', alerts: '7d' }, maxMessageBytes: 1_048_576, changelogCompression: 'gzip' }),
    schemaRegistry: z
      .object({
        url: z.string().url().optional(),
        /** The compacted topic the embedded registry keeps its schemas in. */
        topic: z.string().default('_schemas'),
      })
      .strict()
      .default({ topic: '_schemas' }),
    topics: z
      .object({
        metrics: z.string().default('metrics'),
        metricsDlq: z.string().default('metrics.dlq'),
        metricsLate: z.string().default('metrics.late'),
        rollup1m: z.string().default('metrics.rollup.1m'),
        rollup1h: z.string().default('metrics.rollup.1h'),
        alerts: z.string().default('alerts'),
        alertsDlq: z.string().default('alerts.dlq'),
        silences: z.string().default('silences'),
        /** Where recording rules publish their samples. */
        recorded: z.string().default('metrics'),
      })
      .strict()
      .default({
        metrics: 'metrics',
        metricsDlq: 'metrics.dlq',
        metricsLate: 'metrics.late',
        rollup1m: 'metrics.rollup.1m',
        rollup1h: 'metrics.rollup.1h',
        alerts: 'alerts',
        alertsDlq: 'alerts.dlq',
        silences: 'silences',
        recorded: 'metrics',
      }),
    state: z.object({ dir: z.string().default('./data/state') }).strict().default({ dir: './data/state' }),
    ingest: z
      .object({
        /**
         * Samples later than the wall clock plus this go to metrics.dlq (reason too_far_in_future) and
         * never move stream time (like Mimir's creation grace period). A fleet replayed faster than real
         * time must start far enough in the past, or raise this.
         */
        maxFuture: duration.default('10m'),
        /**
         * A series' rollup state is dropped after this much stream time without a sample (1h rollups:
         * 3x); a series that ended with a stale marker goes as soon as its windows closed.
         */
        evictSeriesAfter: duration.default('1h'),
      })
      .strict()
      .default({ maxFuture: '10m', evictSeriesAfter: '1h' }),
    archive: z
      .object({
        root: z.string().default('./data/archive'),
        s3Endpoint: z.string().url().optional(),
        retention: z
          .object({ raw: duration.default('30d'), '1m': duration.default('90d'), '1h': duration.default('400d') })
          .strict()
          .default({ raw: '30d', '1m': '90d', '1h': '400d' }),
        /** An open archive buffer becomes a file after this long even if its hour is still open. */
        flushAfter: duration.default('5m'),
        /** ... or once it holds this many rows. */
        maxRowsPerFile: z.number().int().positive().default(4_000_000),
        /** A clean stop writes the buffered rows for at most this long (the rest is re-read at the next start). */
        stopTimeout: duration.default('30s'),
      })
      .strict()
      .default({ root: './data/archive', retention: { raw: '30d', '1m': '90d', '1h': '400d' }, flushAfter: '5m', maxRowsPerFile: 4_000_000, stopTimeout: '30s' }),
    notify: z
      .object({
        smtpUrl: z.string().optional(),
        smtpFrom: z.string().default('vigil@localhost'),
        outbox: z.string().default('./data/outbox'),
        pagerdutyUrl: z.string().url().default('https://events.pagerduty.com/v2/enqueue'),
        /** Receiver for alerts that match no route (a receiver name from the rules files). */
        defaultReceiver: z.string().optional(),
        /** Also notify alerts that resolved while silenced. */
        notifyResolvedWhileSilenced: z.boolean().default(true),
        /** Base URL of this Vigil's HTTP API, used in links (webhook generatorURL, PagerDuty client_url). */
        externalUrl: z.string().url().optional(),
        /** Delivery attempts per notification before it goes to alerts.dlq (exponential backoff with jitter). */
        maxAttempts: z.number().int().positive().default(6),
        /**
         * How long the notifier keeps its delivery log, alert history and resolved alerts (like
         * Alertmanager's --data.retention). Keep it above the alerts topic's retention.
         */
        retention: duration.default('14d'),
      })
      .strict()
      .default({
        smtpFrom: 'vigil@localhost',
        outbox: './data/outbox',
        pagerdutyUrl: 'https://events.pagerduty.com/v2/enqueue',
        notifyResolvedWhileSilenced: true,
        maxAttempts: 6,
        retention: '14d',
      }),
    http: z
      .object({
        port: z.number().int().min(0).max(65535).default(9464),
        /** HTTPS from certificate files (like Prometheus's web config); absent = plain HTTP. */
        tls: z
          .object({
            certFile: z.string().min(1),
            keyFile: z.string().min(1),
            /** CA bundle that client certificates must chain to; setting it asks clients for one. */
            clientCAFile: z.string().min(1).optional(),
            /** With clientCAFile: require a client certificate (default), or verify one only if given. */
            clientAuth: z.enum(['RequireAndVerifyClientCert', 'VerifyClientCertIfGiven']).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ port: 9464 }),
    /**
     * Who may use the HTTP API and UI (not the push endpoint: push.tokens). No tokens = open to
     * anyone who can reach the port (said at start and in the UI).
     */
    api: z
      .object({
        /** Bearer tokens that may read and change state (silences, acks, rule pushes). */
        tokens: z.array(z.string().min(1)).default([]),
        /** Bearer tokens that may only read. */
        readTokens: z.array(z.string().min(1)).default([]),
        /** Reads need a token too (by default only requests that change state do). */
        protectReads: z.boolean().default(false),
        /** Paths that never need a token. */
        openPaths: z.array(z.string().startsWith('/')).default(['/metrics', '/healthz']),
      })
      .strict()
      .default({ tokens: [], readTokens: [], protectReads: false, openPaths: ['/metrics', '/healthz'] }),
    push: z
      .object({
        tokens: z.array(z.string().min(1)).default([]),
        maxBodyBytes: z.number().int().positive().default(10 * 1024 * 1024),
        maxSeriesPerRequest: z.number().int().positive().default(100_000),
      })
      .strict()
      .default({ tokens: [], maxBodyBytes: 10 * 1024 * 1024, maxSeriesPerRequest: 100_000 }),
    query: z
      .object({
        /** Default and largest time one query may take (the `timeout` parameter may shorten it), like Prometheus' --query.timeout. */
        timeout: duration.default('2m'),
        /** Most series one query reads. */
        maxSeries: z.number().int().positive().default(100_000),
        /** Most samples one query reads (and points one step of its evaluation holds), like Prometheus' --query.max-samples. */
        maxSamples: z.number().int().positive().default(50_000_000),
        /** How far back the query head (recent samples in memory) reaches; older samples are read from the archive. */
        headRetention: duration.default('1h'),
        /** Most series the head holds; past it, series that went stale are evicted first (vigil_query_head_* metrics). */
        headMaxSeries: z.number().int().positive().default(200_000),
      })
      .strict()
      .default({ timeout: '2m', maxSeries: 100_000, maxSamples: 50_000_000, headRetention: '1h', headMaxSeries: 200_000 }),
    rules: z
      .object({
        paths: z.array(z.string()).default(['rules']),
        /**
         * Evaluate groups spanning input partitions whole, through a repartition topic (default). false:
         * each task evaluates its own partition (exact only for groups that identify the source).
         */
        repartition: z.boolean().default(true),
      })
      .strict()
      .default({ paths: ['rules'], repartition: true }),
  })
  .strict();

export type VigilConfig = z.infer<typeof configSchema>;

/** A configuration problem a user must fix; the message names the bad key. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Applies the environment variables of contracts.md on top of the parsed file (env wins). */
function applyEnv(raw: Record<string, any>, env: Env): Record<string, any> {
  const out = structuredClone(raw);
  const set = (section: string, key: string, value: unknown) => {
    out[section] = { ...(out[section] ?? {}), [key]: value };
  };
  if (env.KAFKA_BROKERS) set('kafka', 'brokers', env.KAFKA_BROKERS);
  if (env.SCHEMA_REGISTRY_URL) set('schemaRegistry', 'url', env.SCHEMA_REGISTRY_URL);
  if (env.VIGIL_STATE_DIR) set('state', 'dir', env.VIGIL_STATE_DIR);
  if (env.VIGIL_ARCHIVE) set('archive', 'root', env.VIGIL_ARCHIVE);
  if (env.VIGIL_S3_ENDPOINT) set('archive', 's3Endpoint', env.VIGIL_S3_ENDPOINT);
  if (env.VIGIL_SMTP_URL) set('notify', 'smtpUrl', env.VIGIL_SMTP_URL);
  if (env.VIGIL_PAGERDUTY_URL) set('notify', 'pagerdutyUrl', env.VIGIL_PAGERDUTY_URL);
  if (env.VIGIL_HTTP_PORT !== undefined && env.VIGIL_HTTP_PORT !== '') {
    const port = Number(env.VIGIL_HTTP_PORT);
    set('http', 'port', Number.isInteger(port) ? port : env.VIGIL_HTTP_PORT);
  }
  if (env.VIGIL_PUSH_TOKENS) {
    set('push', 'tokens', env.VIGIL_PUSH_TOKENS.split(',').map((t) => t.trim()).filter(Boolean));
  }
  if (env.VIGIL_API_TOKENS) {
    set('api', 'tokens', env.VIGIL_API_TOKENS.split(',').map((t) => t.trim()).filter(Boolean));
  }
  return out;
}

function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length ? `${issue.path.join('.')}.` : '';
        return `${source}: unknown key ${issue.keys.map((k) => `"${where}${k}"`).join(', ')}`;
      }
      return `${source}: "${key}": ${issue.message}`;
    })
    .join('\n');
}

/**
 * Loads the configuration: `path` (or VIGIL_CONFIG, or ./vigil.yaml when it exists), then the
 * environment. Throws ConfigError naming the bad key; never returns a partially valid config.
 */
export function loadConfig(options: { path?: string; env?: Env } = {}): VigilConfig {
  const env = options.env ?? process.env;
  const path = options.path ?? env.VIGIL_CONFIG ?? (existsSync('vigil.yaml') ? 'vigil.yaml' : undefined);
  let raw: unknown = {};
  if (path) {
    if (!existsSync(path)) throw new ConfigError(`config file "${path}" does not exist`);
    try {
      raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${path}: expected a mapping at the top level`);
  }
  const merged = applyEnv(raw as Record<string, any>, env);
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(describeIssues(result.error, path ?? 'environment'));
  return result.data;
}
