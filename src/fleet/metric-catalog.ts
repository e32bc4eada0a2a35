/**
 * The series every simulated host reports: the metrics the example rules use, then fillers up to
 * the requested count. Label objects are shared by all hosts (only heartbeat's `instance` differs).
 */
import type { MetricKind } from '../model/types.js';
import { FleetOptionError } from './fleet-option-error.js';

/** What drives a series' value in the model. */
export type SeriesRole =
  | 'cpu'
  | 'mem'
  | 'disk'
  | 'requests_ok'
  | 'requests_err'
  | 'errors'
  | 'heartbeat'
  | 'filler_gauge'
  | 'filler_counter';

/** One series of a host, without the host's source labels. */
export interface SeriesDef {
  readonly name: string;
  /** Sample labels; for `heartbeat` the model adds instance=<host> per host. */
  readonly labels: Record<string, string>;
  readonly kind: MetricKind;
  readonly role: SeriesRole;
  /** The http service of request/error series. */
  readonly svc?: string;
}

/** The services whose request and error counters the fleet reports. */
export const SERVICES = ['api', 'web'] as const;

/** Mount points of disk.used_percent; faults fill the last one. */
export const MOUNTS = ['/', '/data'] as const;

function coreSeries(): SeriesDef[] {
  const defs: SeriesDef[] = [
    { name: 'cpu.load', labels: {}, kind: 'GAUGE', role: 'cpu' },
    { name: 'mem.used_percent', labels: {}, kind: 'GAUGE', role: 'mem' },
  ];
  for (const mount of MOUNTS) defs.push({ name: 'disk.used_percent', labels: { mount }, kind: 'GAUGE', role: 'disk' });
  for (const svc of SERVICES) {
    defs.push(
      { name: 'http.requests', labels: { svc, code: '200' }, kind: 'COUNTER', role: 'requests_ok', svc },
      { name: 'http.requests', labels: { svc, code: '500' }, kind: 'COUNTER', role: 'requests_err', svc },
      { name: 'http.errors', labels: { svc, code: '500' }, kind: 'COUNTER', role: 'errors', svc },
    );
  }
  defs.push({ name: 'heartbeat', labels: { job: 'api' }, kind: 'GAUGE', role: 'heartbeat' });
  return defs;
}

/** Number of series that every host reports whatever `--metrics` says. */
export const CORE_SERIES_COUNT = coreSeries().length;

/**
 * The series of one host: the core series then fillers (`sim.gauge_NNN` / `sim.counter_NNN`,
 * alternating) so that there are exactly `metricsPerHost` series.
 */
export function seriesCatalog(metricsPerHost: number): SeriesDef[] {
  if (!Number.isInteger(metricsPerHost) || metricsPerHost < CORE_SERIES_COUNT) {
    throw new FleetOptionError(
      `Invalid metrics per host "${metricsPerHost}": need an integer of at least ${CORE_SERIES_COUNT} (the series the example rules use)`,
    );
  }
  const defs = coreSeries();
  const width = String(metricsPerHost).length;
  for (let i = defs.length; i < metricsPerHost; i++) {
    const n = String(i).padStart(width, '0');
    const counter = i % 2 === 1;
    defs.push(
      counter
        ? { name: `sim.counter_${n}`, labels: {}, kind: 'COUNTER', role: 'filler_counter' }
        : { name: `sim.gauge_${n}`, labels: {}, kind: 'GAUGE', role: 'filler_gauge' },
    );
  }
  return defs;
}
