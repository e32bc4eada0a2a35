/**
 * The shapes the fleet produces: one SampleBatch (schemas/sample-batch.avsc) per host per tick.
 * Kept structural so they are assignable to the model types of src/model/ (the Avro record shape).
 */

export type Labels = Record<string, string>;

/** Avro enum MetricKind of the SampleBatch schema. */
export type MetricKind = 'UNKNOWN' | 'GAUGE' | 'COUNTER';

/** One sample, exactly the Avro record `vigil.metrics.Sample`. */
export interface Sample {
  name: string;
  labels: Labels;
  /** Event time, Unix epoch milliseconds. */
  timestamp: number;
  value: number;
  kind: MetricKind;
}

/** An error in fleet options (bad duration, fault spec, shape); `code` is stable. */
export class FleetOptionError extends Error {
  constructor(
    message: string,
    readonly code = 'FLEET_BAD_OPTION',
  ) {
    super(message);
    this.name = 'FleetOptionError';
  }
}
