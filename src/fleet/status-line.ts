/**
 * Status and summary lines of a running fleet (what `vigil produce` and `vigil start` print to
 * stderr): rates since the previous line, totals, event time and the faults in effect.
 */
import { formatFault, type ActiveFault } from './fault-schedule.js';
import { formatDuration } from './time-parse.js';

/** Cumulative counters a line is computed from. */
export interface FleetCounters {
  /** Wall-clock time of the reading, ms. */
  now: number;
  /** Samples delivered (acknowledged by Kafka, or generated when only exposing). */
  samples: number;
  /** Bytes delivered; undefined when nothing is published (left out of the lines). */
  bytes: number | undefined;
  /** Records delivered; undefined when nothing is published. */
  records: number | undefined;
  /** Event time of the last tick, ms. */
  eventTime: number | undefined;
  activeFaults: readonly ActiveFault[];
  /** Extra `key value` fields shown at the end (buffered bytes, scrapes, ...). */
  extra?: Record<string, string>;
}

/** Turns successive counter readings into status lines with per-second rates. */
export class StatusMeter {
  private previous: FleetCounters | undefined;
  private readonly first: FleetCounters;

  constructor(start: FleetCounters) {
    this.first = start;
    this.previous = start;
  }

  /** The line for this reading; rates are over the time since the previous reading. */
  line(c: FleetCounters): string {
    const prev = this.previous ?? c;
    this.previous = c;
    const secs = Math.max((c.now - prev.now) / 1000, 1e-3);
    const parts = [
      `+${formatDuration(c.now - this.first.now)}`,
      `event ${c.eventTime === undefined ? '-' : new Date(c.eventTime).toISOString()}`,
      `${formatCount((c.samples - prev.samples) / secs)} samples/s`,
      ...(c.bytes === undefined ? [] : [`${formatBytes((c.bytes - (prev.bytes ?? 0)) / secs)}/s`]),
      ...(c.records === undefined ? [] : [`records ${formatCount(c.records)}`]),
      `samples ${formatCount(c.samples)}`,
      ...Object.entries(c.extra ?? {}).map(([k, v]) => `${k} ${v}`),
      `faults ${c.activeFaults.length ? c.activeFaults.map(formatFault).join(',') : 'none'}`,
    ];
    return parts.join(' | ');
  }

  /** The closing summary: totals and average rates since the start. */
  summary(c: FleetCounters, faultsSeen: ReadonlySet<string>): string {
    const secs = Math.max((c.now - this.first.now) / 1000, 1e-3);
    return [
      `done in ${formatDuration(c.now - this.first.now)}`,
      c.records === undefined || c.bytes === undefined
        ? `${formatCount(c.samples)} samples`
        : `${formatCount(c.samples)} samples in ${formatCount(c.records)} records (${formatBytes(c.bytes)})`,
      `${formatCount(c.samples / secs)} samples/s`,
      ...(c.bytes === undefined ? [] : [`${formatBytes(c.bytes / secs)}/s`]),
      ...Object.entries(c.extra ?? {}).map(([k, v]) => `${k} ${v}`),
      `faults seen ${faultsSeen.size ? [...faultsSeen].join(',') : 'none'}`,
    ].join(' | ');
  }
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
