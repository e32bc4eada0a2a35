/** Parsing of the time options of the simulated fleet (durations, start instants). */
import { formatDuration as formatDurationLiteral, parseDurationMs } from '../dsl/duration.js';
import { FleetOptionError } from './fleet-option-error.js';

/** Parses `500ms`, `10s`, `5m`, `1h30m` (the rules language's duration syntax) into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const ms = parseDurationMs(text.trim());
  if (Number.isNaN(ms)) {
    throw new FleetOptionError(`Invalid ${what} "${text}": expected a duration such as 500ms, 10s, 5m, 1h30m`);
  }
  return ms;
}

/** Parses a start instant: epoch milliseconds (digits only) or an ISO-8601 date-time. */
export function parseInstant(text: string, what = 'start time'): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (!Number.isFinite(ms)) {
    throw new FleetOptionError(`Invalid ${what} "${text}": expected epoch milliseconds or an ISO-8601 date-time`);
  }
  return ms;
}

/** Formats milliseconds as a short duration (`1h5m`, `30s`, `250ms`): whole seconds from 1 s up. */
export function formatDuration(ms: number): string {
  return formatDurationLiteral(ms < 1000 ? Math.round(ms) : Math.round(ms / 1000) * 1000);
}
