/** Parsing of the time options of the simulated fleet (durations, start instants). */
import { FleetOptionError } from './fleet-option-error.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `500ms`, `10s`, `5m`, `1h30m` (the rules language's duration syntax) into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(trimmed)) {
    throw new FleetOptionError(`Invalid ${what} "${text}": expected a duration such as 500ms, 10s, 5m, 1h30m`);
  }
  let total = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(n) * UNIT_MS[unit!]!;
  return total;
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

/** Formats milliseconds as a short duration (`1h5m`, `30s`, `250ms`) for status lines. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s || parts.length === 0) parts.push(`${s}s`);
  return parts.join('');
}
