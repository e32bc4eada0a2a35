/**
 * PromQL values while a query is evaluated (prometheus/promql/value.go): a series is its label set
 * (`__name__` included) with points at evaluation timestamps; an instant vector is one sample per
 * series at one timestamp. Label sets are plain frozen objects; `labelsKey` is their identity.
 */
import { setLabel } from '../../model/series.js';
import type { Labels } from './label-matcher.js';

export type { Labels };

/** A series with points in time order: ts[i] (ms) -> vs[i]. */
export interface Series {
  metric: Labels;
  ts: number[];
  vs: number[];
}

export type Matrix = Series[];

export interface Sample {
  metric: Labels;
  v: number;
  /** The sample's own timestamp (vector selectors keep it for timestamp()). */
  t: number;
}

export type Vector = Sample[];

const keys = new WeakMap<Labels, string>();

/** The identity of a label set: names sorted, `\xff`-separated. */
export function labelsKey(labels: Labels): string {
  let k = keys.get(labels);
  if (k === undefined) {
    const names = Object.keys(labels).sort();
    k = '';
    for (const n of names) k += `${n}\xff${labels[n]}\xff`;
    keys.set(labels, k);
  }
  return k;
}

/** A label set from entries; empty values are dropped (Prometheus: an empty label is no label). */
export function makeLabels(entries: Iterable<[string, string]>): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) if (v !== '') setLabel(out, k, v);
  return out;
}

/** `labels` with `name` set to `value` (removed when value is ""). */
export function withLabel(labels: Labels, name: string, value: string): Labels {
  const out: Record<string, string> = {};
  for (const k in labels) if (k !== name) setLabel(out, k, labels[k]!);
  if (value !== '') setLabel(out, name, value);
  return out;
}

const dropped = new WeakMap<Labels, Labels>();

/** `labels` without `__name__`. */
export function dropMetricName(labels: Labels): Labels {
  if (!('__name__' in labels)) return labels;
  let d = dropped.get(labels);
  if (!d) {
    const out: Record<string, string> = {};
    for (const k in labels) if (k !== '__name__') setLabel(out, k, labels[k]!);
    dropped.set(labels, (d = out));
  }
  return d;
}

/** Only the named labels (`keep`) or all but them. */
export function pickLabels(labels: Labels, names: readonly string[], keep: boolean): Labels {
  const out: Record<string, string> = {};
  for (const k in labels) if (names.includes(k) === keep) setLabel(out, k, labels[k]!);
  return out;
}

/** `{a="1", b="2"}` as Prometheus prints a label set in messages. */
export function formatLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ')}}`;
}

/** Compares label sets as Prometheus sorts a matrix (labels.Compare). */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  for (let i = 0; i < Math.min(an.length, bn.length); i++) {
    if (an[i] !== bn[i]) return an[i]! < bn[i]! ? -1 : 1;
    const av = a[an[i]!]!;
    const bv = b[bn[i]!]!;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return an.length - bn.length;
}

/**
 * A sample value as Prometheus writes it (strconv.FormatFloat(v, 'f', -1, 64)): the shortest
 * decimal that reads back as v, never an exponent; NaN, +Inf, -Inf.
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  if (!/e/i.test(s)) return s;
  const [mantissa, exp] = s.split(/e/i) as [string, string];
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const point = (mantissa.replace(/^-/, '').indexOf('.') === -1 ? mantissa.replace(/^-/, '').length : mantissa.replace(/^-/, '').indexOf('.')) + Number(exp);
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}
