/**
 * Prometheus remote_write 1.0 request decoding (../shared/reference/interop.md §4): snappy block
 * format, then the `prometheus.WriteRequest` protobuf, read with protobufjs from a JSON
 * descriptor (the fields of prometheus/prompb types.proto and remote.proto that 1.0 uses).
 */
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import type { MetricKind } from '../../model/types.js';

/** The subset of prompb's descriptor that remote_write 1.0 sends. Exported so tests encode with the same spec. */
export const REMOTE_WRITE_DESCRIPTOR = {
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 },
            metadata: { rule: 'repeated', type: 'MetricMetadata', id: 3 },
          },
        },
        MetricMetadata: {
          fields: {
            type: { type: 'MetricType', id: 1 },
            metricFamilyName: { type: 'string', id: 2 },
            help: { type: 'string', id: 4 },
            unit: { type: 'string', id: 5 },
          },
          nested: {
            MetricType: {
              values: { UNKNOWN: 0, COUNTER: 1, GAUGE: 2, HISTOGRAM: 3, GAUGEHISTOGRAM: 4, SUMMARY: 5, INFO: 6, STATESET: 7 },
            },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
};

/** The protobufjs type of `prometheus.WriteRequest`. */
export const WriteRequestType = protobuf.Root.fromJSON(REMOTE_WRITE_DESCRIPTOR).lookupType('prometheus.WriteRequest');

export interface RemoteSeries {
  labels: Array<{ name: string; value: string }>;
  samples: Array<{ value: number; timestamp: number }>;
}

export interface RemoteWriteRequest {
  timeseries: RemoteSeries[];
  /** Kind by metric family name, from the request's metadata (COUNTER/GAUGE only). */
  kinds: Map<string, MetricKind>;
}

/** A body that is not a valid remote_write request (400), or too large once decompressed (413). */
export class RemoteWriteError extends Error {
  constructor(
    readonly code: 'REMOTE_WRITE_INVALID' | 'REMOTE_WRITE_TOO_LARGE',
    message: string,
  ) {
    super(message);
    this.name = 'RemoteWriteError';
  }
}

/** The uncompressed length announced by a snappy block's varint header. */
export function snappyUncompressedLength(body: Uint8Array): number {
  let result = 0;
  for (let i = 0, shift = 0; i < 5 && i < body.length; i++, shift += 7) {
    const b = body[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  throw new RemoteWriteError('REMOTE_WRITE_INVALID', 'invalid snappy block: bad length header');
}

/** Decompresses and decodes a remote_write body; `maxBytes` bounds the decompressed size. */
export function decodeRemoteWrite(body: Uint8Array, maxBytes: number): RemoteWriteRequest {
  const length = snappyUncompressedLength(body);
  if (length > maxBytes) {
    throw new RemoteWriteError('REMOTE_WRITE_TOO_LARGE', `decompressed body of ${length} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  let raw: Uint8Array;
  try {
    raw = snappy.uncompress(body);
  } catch (err) {
    throw new RemoteWriteError('REMOTE_WRITE_INVALID', `invalid snappy block: ${(err as Error).message}`);
  }
  let message: protobuf.Message;
  try {
    message = WriteRequestType.decode(raw);
  } catch (err) {
    throw new RemoteWriteError('REMOTE_WRITE_INVALID', `invalid WriteRequest protobuf: ${(err as Error).message}`);
  }
  const decoded = message as unknown as {
    timeseries?: Array<{ labels?: Array<{ name?: string; value?: string }>; samples?: Array<{ value?: number; timestamp?: unknown }> }>;
    metadata?: Array<{ type?: number; metricFamilyName?: string }>;
  };
  const kinds = new Map<string, MetricKind>();
  for (const m of decoded.metadata ?? []) {
    if (m.metricFamilyName && (m.type === 1 || m.type === 2)) kinds.set(m.metricFamilyName, m.type === 1 ? 'COUNTER' : 'GAUGE');
  }
  const timeseries: RemoteSeries[] = (decoded.timeseries ?? []).map((ts) => ({
    labels: (ts.labels ?? []).map((l) => ({ name: l.name ?? '', value: l.value ?? '' })),
    samples: (ts.samples ?? []).map((s) => ({ value: s.value ?? 0, timestamp: toNumber(s.timestamp) })),
  }));
  return { timeseries, kinds };
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === undefined || v === null) return 0;
  return Number(v.toString());
}
