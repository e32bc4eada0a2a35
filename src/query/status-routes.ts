/**
 * GET /api/v1/status: the health of the pipeline at a glance (the web UI's Status page), read from
 * the process's prom-client registry and the engine's status lines:
 *   consumerLag    records behind the high watermark, in total and per topology (vigil_consumer_lag)
 *   samples        samples/s the engine in this process ingests (vigil_engine_samples_total), or without an engine, what its producers (fleet, collector, push) publish,
 *                  measured between status requests over up to `rateWindowMs`; records/s per topology
 *   late, dlq      records and samples sent to metrics.late / dead-letter topics since start
 *   archive        objects and bytes in the archive store (listed at most every `archiveListMs`),
 *                  and what this process wrote
 *   components     the engine modules' and topologies' one-line status
 * Answers `{status: 'success', data: {...}}` like the rest of the API.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { metricsRegistry } from '../obs/metrics.js';
import type { ObjectStore } from '../sinks/archive/storage/object-store.js';

export interface StatusRoutesOptions {
  /** Default: the shared registry of src/obs/metrics.ts. */
  registry?: Registry;
  /** The archive store whose size is reported. */
  archive?: ObjectStore;
  /** One-line status per component (e.g. the engine's modules). */
  components?: () => Record<string, string>;
  now?: () => number;
  /** Samples/s is measured over (at most) this much time; default 60 s. */
  rateWindowMs?: number;
  /** The archive is listed again once its last listing is this old; default 30 s. */
  archiveListMs?: number;
}

/** Samples the engine in this process took in; when it runs no engine, samples its producers published. */
const ENGINE_SAMPLES = 'vigil_engine_samples_total';
const SAMPLE_COUNTERS = ['vigil_publisher_samples_total', 'vigil_push_samples_total'];

type Values = Map<string, Array<{ value: number; labels: Record<string, string | number> }>>;

const sum = (values: Values, name: string, where: (labels: Record<string, string | number>) => boolean = () => true) =>
  (values.get(name) ?? []).filter((v) => where(v.labels)).reduce((n, v) => n + v.value, 0);

/** Sums of `name` by the value of `label`. */
const by = (values: Values, name: string, label: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const v of values.get(name) ?? []) {
    const k = String(v.labels[label] ?? '');
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
};

export function registerStatusRoutes(app: FastifyInstance, options: StatusRoutesOptions = {}): void {
  const registry = options.registry ?? metricsRegistry;
  const now = options.now ?? Date.now;
  const windowMs = options.rateWindowMs ?? 60_000;
  const listEvery = options.archiveListMs ?? 30_000;
  const startedAt = now();
  // (time, samples total) at earlier requests: the rate is measured against the newest one that is
  // at least a window old (or the oldest one when none is).
  const history: Array<{ t: number; v: number }> = [];
  let listing: { at: number; result: Promise<{ objects: number; bytes: number } | { error: string }> } | undefined;

  const read = async (): Promise<Values> => {
    const values: Values = new Map();
    for (const m of await registry.getMetricsAsJSON()) values.set(m.name, m.values as Array<{ value: number; labels: Record<string, string | number> }>);
    return values;
  };

  const archiveSize = () => {
    const store = options.archive;
    if (!store) return undefined;
    const t = now();
    if (!listing || t - listing.at >= listEvery) {
      const result = store.list('').then(
        (objects) => ({ objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) }),
        (err: Error) => ({ error: err.message }),
      );
      listing = { at: t, result };
    }
    return listing.result;
  };

  const samplesRate = (total: number): { perSecond: number | null; overSeconds: number } => {
    const t = now();
    if (history.length === 0) history.push({ t: startedAt, v: 0 });
    while (history.length > 1 && history[1]!.t <= t - windowMs) history.shift();
    const base = history[0]!;
    if (history.at(-1)!.t < t) history.push({ t, v: total });
    if (history.length > 1000) history.splice(1, 1);
    const span = t - base.t;
    return span >= 1000 ? { perSecond: Math.round(((total - base.v) / span) * 1000 * 10) / 10, overSeconds: Math.round(span / 1000) } : { perSecond: null, overSeconds: 0 };
  };

  app.get('/api/v1/status', async () => {
    const values = await read();
    const ingested = sum(values, ENGINE_SAMPLES);
    const samplesTotal = values.has(ENGINE_SAMPLES) ? ingested : SAMPLE_COUNTERS.reduce((n, name) => n + sum(values, name), 0);
    const size = await archiveSize();
    return {
      status: 'success',
      data: {
        uptimeSeconds: Math.round((now() - startedAt) / 1000),
        consumerLag: { total: sum(values, 'vigil_consumer_lag'), byTopology: by(values, 'vigil_consumer_lag', 'topology') },
        samples: {
          counted: values.has(ENGINE_SAMPLES) ? 'ingested by the engine' : 'published by this process',
          total: samplesTotal,
          ...samplesRate(samplesTotal),
          recordsPerSecondByTopology: by(values, 'vigil_topology_records_per_second', 'topology'),
        },
        late: {
          records: sum(values, 'vigil_late_records_total'),
          samples: sum(values, 'vigil_late_samples_total') + sum(values, 'vigil_rules_late_samples_total'),
        },
        dlq: {
          records: sum(values, 'vigil_dlq_records_total'),
          samples: sum(values, 'vigil_dlq_samples_total'),
          byReason: by(values, 'vigil_dlq_records_total', 'reason'),
          notifications: sum(values, 'vigil_notify_dead_letters_total'),
        },
        archive: {
          url: options.archive?.url ?? null,
          ...(size ?? {}),
          bytesWritten: sum(values, 'vigil_archive_bytes_written_total'),
          filesWritten: sum(values, 'vigil_archive_files_written_total'),
          bufferedRows: sum(values, 'vigil_archive_buffered_rows'),
        },
        components: options.components?.() ?? {},
      },
    };
  });
}
