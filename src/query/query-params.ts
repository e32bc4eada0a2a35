/** Parsing of Prometheus HTTP API parameters: times (unix seconds or RFC 3339) and steps. */
import { QueryError } from './query-error.js';

/** A time parameter in ms: unix seconds (with fraction) or RFC 3339; `fallback` when absent. */
export function parseTime(name: string, value: unknown, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new QueryError('QUERY_PARAM', `${name}: missing`, 400);
  }
  const text = String(value);
  if (/^-?\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new QueryError('QUERY_PARAM', `${name}: "${text}" is not a unix timestamp or RFC 3339 time`, 400);
  return ms;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A step or window: seconds (`15`, `0.5`) or a duration (`1m`, `1h30m`), in ms, > 0. */
export function parseStep(name: string, value: unknown, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new QueryError('QUERY_PARAM', `${name}: missing`, 400);
  }
  const text = String(value);
  let ms: number | null = null;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else if (/^(\d+(ms|s|m|h|d|w))+$/.test(text)) {
    ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  }
  if (ms === null || ms <= 0) throw new QueryError('QUERY_PARAM', `${name}: "${text}" is not a positive duration (e.g. 60, 1m, 1h)`, 400);
  return ms;
}
