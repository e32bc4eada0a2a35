/**
 * TypeScript shapes of the contract records (schemas/*.avsc, see ../shared/design/contracts.md).
 * These are what avsc produces when decoding with the Types of `avro-schemas.ts` (no logical-type
 * mapping: `timestamp-millis` longs are plain numbers of UTC milliseconds).
 */

/** Symbols of the `MetricKind` enum, in schema order (the index is the `kinds` code of a DecodedBatch). */
export const METRIC_KINDS = ['UNKNOWN', 'GAUGE', 'COUNTER'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];
/** Numeric kind codes used in `DecodedBatch.kinds` (= the enum index on the wire). */
export const KIND_UNKNOWN = 0;
export const KIND_GAUGE = 1;
export const KIND_COUNTER = 2;

/** One sample of a SampleBatch. `labels` override the batch's `source` labels of the same name. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  /** UTC milliseconds. */
  timestamp: number;
  /** NaN and ±Infinity are legal values (as in Prometheus). */
  value: number;
  kind: MetricKind;
}

/** Value of the `metrics` topic (subject `metrics-value`). */
export interface SampleBatch {
  source: Record<string, string>;
  samples: Sample[];
}

/** One closed window of one series. `labels` are the merged series labels. */
export interface Rollup {
  name: string;
  labels: Record<string, string>;
  /** Window start, UTC milliseconds. */
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
  /** Counter increase over the window (resets handled); null for gauges. */
  increase: number | null;
}

/** Value of `metrics.rollup.1m` / `metrics.rollup.1h`. */
export interface RollupBatch {
  resolution_ms: number;
  rollups: Rollup[];
}

export const TRANSITIONS = ['FIRING', 'ESCALATED', 'DEESCALATED', 'RESOLVED'] as const;
export type Transition = (typeof TRANSITIONS)[number];

/** Value of the `alerts` topic (subject `alerts-value`), keyed by `fingerprint`. */
export interface AlertEvent {
  /** Deterministic; a replay re-emits the same id. */
  event_id: string;
  /** Stable hash of the labels without severity (see `alertFingerprint` in series.ts). */
  fingerprint: string;
  /** Number of this transition for this fingerprint, from 1. */
  sequence: number;
  transition: Transition;
  alertname: string;
  level: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  rule_file: string;
  /** Hash of the rule's checked text. */
  rule_hash: string;
  window_start: number;
  window_end: number;
  /** The task's stream time at evaluation. */
  watermark: number;
  active_since: number;
  inputs: Record<string, number>;
}
