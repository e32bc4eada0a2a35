/**
 * The columnar form of one decoded `metrics` record: what the engine's hot path consumes.
 *
 * Layout (struct of arrays, one entry per *valid* sample, in wire order):
 * - `seriesRefs[i]`: dense small integer naming the series in the decoder's `SeriesTable`. It is the
 *   fast key: use it directly as an array index (per-series Float64Array accumulators) or as a Map key
 *   (SMI keys hash fastest in V8). A ref is stable for the life of its SeriesTable (one per decoder,
 *   i.e. per process), never across processes: persist `SeriesInfo.id` / `SeriesInfo.key` instead.
 * - `timestamps[i]`: UTC milliseconds (integers, |t| <= 8.64e15).
 * - `values[i]`: the sample value; NaN and ±Infinity are kept (legal in Prometheus).
 * - `kinds[i]`: 0 UNKNOWN, 1 GAUGE, 2 COUNTER (the Avro enum index, see types.ts).
 *
 * The arrays are views on one ArrayBuffer owned by the batch: the consumer may keep them (the
 * decoder never reuses them).
 */
import type { SeriesTable } from './series-table.js';
import { METRIC_KINDS } from './types.js';

export { SeriesTable, type SeriesInfo } from './series-table.js';

/** Where a record came from (also what dead letters carry). */
export interface RecordOrigin {
  topic: string;
  partition: number;
  /** Kafka offset as kafkajs gives it (decimal string). */
  offset: string;
  key: Buffer | null;
}

/** The valid samples of one record, columnar. See the module comment for the layout. */
export interface DecodedBatch {
  readonly origin: RecordOrigin;
  /** Number of valid samples (may be 0 when every sample was bad). */
  readonly length: number;
  readonly seriesRefs: Uint32Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly kinds: Uint8Array;
  /** The table the refs point into (shared by every batch of one decoder). */
  readonly series: SeriesTable;
  /** Number of samples in the record, valid or not. */
  readonly totalSamples: number;
}

/** Allocates the four columns of a batch of `n` samples on one ArrayBuffer. */
export function allocateColumns(n: number): {
  seriesRefs: Uint32Array;
  timestamps: Float64Array;
  values: Float64Array;
  kinds: Uint8Array;
} {
  const buf = new ArrayBuffer(n * 21);
  return {
    timestamps: new Float64Array(buf, 0, n),
    values: new Float64Array(buf, n * 8, n),
    seriesRefs: new Uint32Array(buf, n * 16, n),
    kinds: new Uint8Array(buf, n * 20, n),
  };
}

/** Name of a kind code (for display and re-encoding). */
export function kindName(code: number): (typeof METRIC_KINDS)[number] {
  return METRIC_KINDS[code] ?? 'UNKNOWN';
}

/**
 * Why a record (or some of its samples) went to `metrics.dlq`; the value of the `vigil.reason` header.
 * Record-level: the whole record is unusable. Sample-level: only the listed samples are.
 */
export type DeadLetterReason =
  // record-level
  | 'not_wire_format'
  | 'unknown_schema_id'
  | 'undecodable'
  | 'incompatible_schema'
  // sample-level
  | 'invalid_metric_name'
  | 'invalid_label_name'
  | 'non_finite_timestamp'
  | 'too_many_labels'
  | 'label_value_too_long'
  | 'too_far_in_future';

/**
 * One record for `metrics.dlq`: the original key and bytes, unchanged. A record with bad samples of
 * several kinds yields one dead letter per reason, each listing its sample indexes (0-based, in the
 * record's `samples` array); the good samples of the record are in the DecodedBatch.
 */
export interface DeadLetter {
  reason: DeadLetterReason;
  origin: RecordOrigin;
  /** The original value bytes. */
  value: Buffer | null;
  /** Human-readable detail (first offending value), sentence case. */
  message: string;
  /** For sample-level reasons: the indexes of the bad samples; empty for record-level reasons. */
  sampleIndexes: number[];
}

/** What decoding one record yields: its valid samples and the dead letters of the rest. */
export interface DecodeResult {
  batch: DecodedBatch;
  deadLetters: DeadLetter[];
}
