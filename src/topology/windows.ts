/**
 * Event-time windows as pure functions: which windows a timestamp falls into, when a window closes.
 * Windows are aligned to the Unix epoch (a 1m window starts at a multiple of 60000 ms), so every
 * task and every instance agrees on window boundaries without coordination.
 */
import { TopologyError } from './api.js';

/** Tumbling (advance = size) or hopping (advance < size) windows with a grace period, all in ms. */
export interface WindowSpec {
  readonly sizeMs: number;
  readonly advanceMs: number;
  readonly graceMs: number;
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new TopologyError(`Window ${name} must be a positive integer of ms: ${v}`, 'INVALID_WINDOW');
}

/** Tumbling windows of `sizeMs` (non-overlapping). */
export function tumbling(sizeMs: number, graceMs = 0): WindowSpec {
  return hopping(sizeMs, sizeMs, graceMs);
}

/** Hopping windows of `sizeMs` starting every `advanceMs` (advance <= size; overlapping when smaller). */
export function hopping(sizeMs: number, advanceMs: number, graceMs = 0): WindowSpec {
  checkPositiveInt('size', sizeMs);
  checkPositiveInt('advance', advanceMs);
  if (!Number.isInteger(graceMs) || graceMs < 0) throw new TopologyError(`Window grace must be >= 0 ms: ${graceMs}`, 'INVALID_WINDOW');
  if (advanceMs > sizeMs) throw new TopologyError(`Window advance ${advanceMs} ms exceeds size ${sizeMs} ms`, 'INVALID_WINDOW');
  return Object.freeze({ sizeMs, advanceMs, graceMs });
}

/** floor(ts / step) * step that also works for negative timestamps. */
export function alignDown(ts: number, step: number): number {
  return Math.floor(ts / step) * step;
}

/**
 * Starts of every window containing `ts` (start <= ts < start + size), ascending.
 * Tumbling: exactly one. Hopping: ceil(size / advance) or fewer.
 */
export function windowStartsFor(ts: number, spec: WindowSpec): number[] {
  const last = alignDown(ts, spec.advanceMs);
  const out: number[] = [];
  for (let start = last - Math.floor((spec.sizeMs - 1) / spec.advanceMs) * spec.advanceMs; start <= last; start += spec.advanceMs) {
    if (ts < start + spec.sizeMs) out.push(start);
  }
  return out;
}

/** Exclusive end of the window starting at `start`. */
export function windowEnd(start: number, spec: WindowSpec): number {
  return start + spec.sizeMs;
}

/** Stream time at which the window starting at `start` closes: end + grace. */
export function closeTime(start: number, spec: WindowSpec): number {
  return start + spec.sizeMs + spec.graceMs;
}

/**
 * True once stream time has reached end + grace: the window's result is final and records for it are late.
 * (Kafka Streams closes at streamTime >= end + grace; a record at exactly end belongs to the next window.)
 */
export function isWindowClosed(start: number, spec: WindowSpec, streamTime: number): boolean {
  return streamTime >= closeTime(start, spec);
}

/** Starts of the windows containing `ts` that are still open at `streamTime` (the others make `ts` late). */
export function openWindowStartsFor(ts: number, spec: WindowSpec, streamTime: number): number[] {
  return windowStartsFor(ts, spec).filter((s) => !isWindowClosed(s, spec, streamTime));
}

/** Parses `30s`, `1m`, `1h30m`, `500ms`, `1d` into ms (the DSL and CLI use the same form). */
export function parseDuration(text: string): number {
  const re = /(\d+)(ms|s|m|h|d|w)/y;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  let total = 0;
  re.lastIndex = 0;
  if (text.length === 0) throw new TopologyError('Duration is empty', 'INVALID_DURATION');
  while (re.lastIndex < text.length) {
    const m = re.exec(text);
    if (!m) throw new TopologyError(`Invalid duration "${text}": expected e.g. 30s, 5m, 1h30m`, 'INVALID_DURATION');
    total += Number(m[1]) * unit[m[2]!]!;
  }
  return total;
}
