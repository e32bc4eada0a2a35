/**
 * Series identity (docs/data-model.md): a series is its metric name plus the union of source and
 * sample labels (a sample label overrides a source label of the same name; an empty value means
 * "no such label", as in Prometheus). Its canonical form is `name{a="1",b="2"}` with label names
 * sorted and values escaped; its id is xxh64 (seed 0) of the canonical form's UTF-8 bytes.
 */
import xxhash from 'xxhash-wasm';
import type { DeadLetterReason, SeriesInfo } from './decoded-batch.js';

const hasher = await xxhash();

/** Most labels a series may have (after merging). */
export const MAX_LABELS = 64;
/** Longest label value, in UTF-8 bytes. */
export const MAX_LABEL_VALUE_BYTES = 2048;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True if `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:.]*`. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** True if `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/** Why a series is invalid, or null when it is valid. */
export interface SeriesProblem {
  reason: DeadLetterReason;
  message: string;
}

/**
 * Sets a label on a plain object. A label may be called `__proto__` (a valid name): plain assignment
 * would change the prototype and lose it, so that one name is defined as an own property.
 */
export function setLabel(labels: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  else labels[name] = value;
}

/** Checks a metric name and its merged labels against the validity rules of contracts.md. */
export function checkSeries(name: string, labels: Readonly<Record<string, string>>): SeriesProblem | null {
  if (!isValidMetricName(name)) return { reason: 'invalid_metric_name', message: `Invalid metric name: ${JSON.stringify(name)}` };
  let count = 0;
  for (const label in labels) {
    count++;
    if (!isValidLabelName(label)) {
      return { reason: 'invalid_label_name', message: `Invalid label name: ${JSON.stringify(label)}` };
    }
    const value = labels[label]!;
    // UTF-8 is at most 3 bytes per UTF-16 unit, so short strings skip the byte count.
    if (value.length * 3 > MAX_LABEL_VALUE_BYTES && Buffer.byteLength(value, 'utf8') > MAX_LABEL_VALUE_BYTES) {
      return {
        reason: 'label_value_too_long',
        message: `Label value too long: ${JSON.stringify(label)} has ${Buffer.byteLength(value, 'utf8')} bytes (max ${MAX_LABEL_VALUE_BYTES})`,
      };
    }
  }
  if (count > MAX_LABELS) return { reason: 'too_many_labels', message: `Too many labels: ${count} (max ${MAX_LABELS})` };
  return null;
}

/**
 * Merges source and sample labels: sample overrides source, empty values are dropped, keys come out
 * sorted (so the result's key order is the canonical order).
 */
export function mergeLabels(
  source: Readonly<Record<string, string>>,
  sample: Readonly<Record<string, string>>,
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const k in source) setLabel(merged, k, source[k]!);
  for (const k in sample) setLabel(merged, k, sample[k]!);
  return sortedLabels(merged);
}

/** The labels with keys in canonical (sorted) order and empty values removed. */
export function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) {
    const v = labels[k]!;
    if (v !== '') setLabel(out, k, v);
  }
  return out;
}

/** Escapes a label value for the canonical form: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : value;
}

const NEEDS_ESCAPE = /[\\"\n]/;
const ESCAPED = /[\\"\n]/g;

/** Canonical label set `{a="1",b="2"}`: names sorted, empty values dropped, values escaped. */
export function canonicalLabels(labels: Readonly<Record<string, string>>): string {
  let out = '{';
  let first = true;
  for (const k of Object.keys(labels).sort()) {
    const v = labels[k]!;
    if (v === '') continue;
    out += `${first ? '' : ','}${k}="${escapeLabelValue(v)}"`;
    first = false;
  }
  return `${out}}`;
}

/** Canonical series form `name{a="1",b="2"}` (what the series id hashes). */
export function canonicalSeries(name: string, labels: Readonly<Record<string, string>>): string {
  return name + canonicalLabels(labels);
}

/** A 64-bit hash in the representations Vigil uses. */
export interface Hash64 {
  /** Signed int64 (two's complement of the unsigned hash): the archive's BIGINT. */
  id: bigint;
  /** 16 lower-case hex digits of the unsigned hash. */
  key: string;
  hi: number;
  lo: number;
}

/** xxh64 (seed 0) of the UTF-8 bytes of `text`. */
export function hash64(text: string): Hash64 {
  const u = hasher.h64(text);
  return {
    id: BigInt.asIntN(64, u),
    key: u.toString(16).padStart(16, '0'),
    hi: Number(u >> 32n),
    lo: Number(u & 0xffffffffn),
  };
}

/**
 * Canonical form of a series given its label names already sorted (`sortedNames`, each a key of
 * `labels`); empty values are skipped.
 */
export function canonicalOfSorted(name: string, sortedNames: readonly string[], labels: Readonly<Record<string, string>>): string {
  let canonical = `${name}{`;
  let first = true;
  for (const k of sortedNames) {
    const v = labels[k]!;
    if (v === '') continue;
    canonical += `${first ? '' : ','}${k}="${escapeLabelValue(v)}"`;
    first = false;
  }
  return `${canonical}}`;
}

/** High and low 32 bits (unsigned) of xxh64 (seed 0) of `text`: `hash64` without its BigInt and hex forms. */
export function hash64Parts(text: string): { hi: number; lo: number } {
  const hex = hasher.h64ToString(text);
  return { hi: parseInt(hex.slice(0, 8), 16), lo: parseInt(hex.slice(8), 16) };
}

/** Full identity of a series from its name and merged labels (not validated: see checkSeries). */
export function seriesIdentity(name: string, labels: Readonly<Record<string, string>>): Omit<SeriesInfo, 'ref'> {
  const names = Object.keys(labels).sort();
  const sorted: Record<string, string> = {};
  for (const k of names) if (labels[k] !== '') setLabel(sorted, k, labels[k]!);
  const canonical = canonicalOfSorted(name, names, labels);
  const h = hash64(canonical);
  return { id: h.id, key: h.key, hi: h.hi, lo: h.lo, name, labels: Object.freeze(sorted), canonical };
}

/** The archive's `series_id` (signed BIGINT) of a series. */
export function seriesId(name: string, labels: Readonly<Record<string, string>>): bigint {
  return hash64(canonicalSeries(name, labels)).id;
}

/**
 * Alert fingerprint: 16 hex digits of xxh64 of the canonical label set without `severity`
 * (same canonical form as series, without the metric name).
 */
export function alertFingerprint(labels: Readonly<Record<string, string>>): string {
  const { severity: _severity, ...rest } = labels;
  return hash64(canonicalLabels(rest)).key;
}
