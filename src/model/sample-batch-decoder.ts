/**
 * SampleBatchDecoder: a `metrics` record (Kafka message) -> the columnar DecodedBatch of its valid
 * samples + dead letters for what cannot be used (reasons in decoded-batch.ts, layout in
 * docs/data-model.md).
 *
 * `decode` is synchronous whenever the record's schema id is cached (every record after the first
 * of each id) and returns a Promise only on a miss, which fetches the writer schema from the
 * registry once. It rejects only when the registry itself fails (unreachable, 5xx, auth: retry later); every
 * problem of the record itself becomes a dead letter.
 */
import avro from 'avsc';
import { contractSchema } from './avro-schemas.js';
import {
  allocateColumns,
  type DeadLetter,
  type DeadLetterReason,
  type DecodedBatch,
  type DecodeResult,
  type RecordOrigin,
  SeriesTable,
} from './decoded-batch.js';
import { HttpRegistryClient, type RegistryClient } from './registry-client.js';
import { MISSING, SeriesCache } from './series-cache.js';
import {
  CONTRACT_LAYOUT,
  MAX_TIMESTAMP_MS,
  parseSampleBatch,
  TIMESTAMP_PROBLEM,
  UndecodableError,
  type FastLayout,
  type SampleSink,
} from './sample-batch-parser.js';
import { fastLayout } from './writer-layout.js';
import { WIRE_HEADER_BYTES, wireSchemaId } from './serde.js';
import type { SampleBatch } from './types.js';
import { WriterSchemaCache, type WriterEntry } from './writer-schema-cache.js';

/** The fields of a Kafka message the decoder reads (a kafkajs `KafkaMessage` plus where it came from). */
export interface MetricsRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface SampleBatchDecoderOptions {
  /** Registry URL or client, to fetch writer schemas by id. */
  registry: string | RegistryClient;
  /** Table to intern series into (default: a new one, see `decoder.series`). */
  series?: SeriesTable;
  /** Bound of the series key cache (default 1,000,000 keys). */
  maxCacheEntries?: number;
  /** How long an unknown schema id is remembered (default 5000 ms). */
  negativeTtlMs?: number;
  now?: () => number;
}

/** avsc `long` read as a double, so out-of-range timestamps become a per-sample problem, not a decode failure. */
const LONG_AS_DOUBLE = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => Number(b.readBigInt64LE(0)),
  toBuffer: (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(Math.trunc(n)));
    return b;
  },
  fromJSON: Number,
  toJSON: (n: number) => n,
  isValid: (n: unknown) => typeof n === 'number' && Number.isInteger(n),
  compare: (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1),
});
const parseWithLongs = (schema: avro.Schema): avro.Type =>
  avro.Type.forSchema(schema, { registry: { long: LONG_AS_DOUBLE } } as Partial<avro.ForSchemaOptions>);

const KIND_CODES: Record<string, number> = { UNKNOWN: 0, GAUGE: 1, COUNTER: 2 };

/** `SampleSink.bad` code of a sample beyond `DecodeOptions.notAfter` (set by the decoder, not the parser). */
const FUTURE_PROBLEM = 2;

/** Per-call options of `decode`. */
export interface DecodeOptions {
  /**
   * Latest timestamp accepted (ms): later samples become `too_far_in_future` dead letters. The caller
   * passes its wall clock plus its bound (config `ingest.maxFuture`); undefined = no bound.
   */
  notAfter?: number;
}

/** Collects one record's samples into growable scratch columns. */
class Scratch implements SampleSink {
  refs = new Uint32Array(256);
  timestamps = new Float64Array(256);
  values = new Float64Array(256);
  kinds = new Uint8Array(256);
  /** Index of each pushed sample in the record (the parser reports every sample once, in order). */
  indexes = new Uint32Array(256);
  length = 0;
  seen = 0;
  bads: number[] = [];

  reset(): void {
    this.length = 0;
    this.seen = 0;
    if (this.bads.length > 0) this.bads = [];
  }

  push(ref: number, timestamp: number, value: number, kind: number): void {
    const i = this.length++;
    if (i === this.refs.length) this.grow();
    this.refs[i] = ref;
    this.timestamps[i] = timestamp;
    this.values[i] = value;
    this.kinds[i] = kind;
    this.indexes[i] = this.seen++;
  }

  bad(index: number, code: number): void {
    this.bads.push(index, code);
    this.seen = index + 1;
  }

  /** Moves the samples later than `notAfter` to the bad ones (keeping the order of the rest). */
  dropAfter(notAfter: number): void {
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.timestamps[i]! > notAfter) {
        this.bads.push(this.indexes[i]!, FUTURE_PROBLEM);
        continue;
      }
      if (kept !== i) {
        this.refs[kept] = this.refs[i]!;
        this.timestamps[kept] = this.timestamps[i]!;
        this.values[kept] = this.values[i]!;
        this.kinds[kept] = this.kinds[i]!;
        this.indexes[kept] = this.indexes[i]!;
      }
      kept++;
    }
    this.length = kept;
  }

  private grow(): void {
    const n = this.refs.length * 2;
    const g = <T extends Uint32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.refs = g(this.refs, (k) => new Uint32Array(k));
    this.timestamps = g(this.timestamps, (k) => new Float64Array(k));
    this.values = g(this.values, (k) => new Float64Array(k));
    this.kinds = g(this.kinds, (k) => new Uint8Array(k));
    this.indexes = g(this.indexes, (k) => new Uint32Array(k));
  }
}

export class SampleBatchDecoder {
  readonly writers: WriterSchemaCache;
  readonly seriesCache: SeriesCache;
  private readonly scratch = new Scratch();
  private readonly reader: avro.Type;
  /** Per writer id: its fast layout, or null when it needs avsc. */
  private readonly layouts = new Map<number, FastLayout | null>();

  constructor(options: SampleBatchDecoderOptions) {
    const registry = typeof options.registry === 'string' ? new HttpRegistryClient(options.registry) : options.registry;
    this.reader = parseWithLongs(contractSchema('sample-batch').schema);
    this.writers = new WriterSchemaCache(registry, this.reader, {
      negativeTtlMs: options.negativeTtlMs,
      now: options.now,
      parse: parseWithLongs,
    });
    this.seriesCache = new SeriesCache({ table: options.series, maxEntries: options.maxCacheEntries });
  }

  /** The table every DecodedBatch of this decoder points into. */
  get series(): SeriesTable {
    return this.seriesCache.table;
  }

  /** Decodes one record: synchronously when its schema id is cached, else after fetching it. */
  decode(record: MetricsRecord, options?: DecodeOptions): DecodeResult | Promise<DecodeResult> {
    const id = wireSchemaId(record.value);
    if (id === null) return this.recordFailure(record, 'not_wire_format', 'Not in the Confluent wire format (magic byte 0, schema id)');
    const entry = this.writers.get(id);
    if (entry !== undefined) return this.decodeWith(entry, record, options);
    return this.writers.load(id).then((e) => this.decodeWith(e, record, options));
  }

  /** `decode`, always as a Promise. */
  async decodeAsync(record: MetricsRecord, options?: DecodeOptions): Promise<DecodeResult> {
    return this.decode(record, options);
  }

  private decodeWith(entry: WriterEntry, record: MetricsRecord, options?: DecodeOptions): DecodeResult {
    if (entry.status === 'unknown') return this.recordFailure(record, 'unknown_schema_id', entry.message);
    if (entry.status === 'incompatible') return this.recordFailure(record, 'incompatible_schema', entry.message);
    const scratch = this.scratch;
    scratch.reset();
    let total: number;
    try {
      const layout = entry.resolver === null ? CONTRACT_LAYOUT : this.layoutOf(entry.id, entry.writer);
      if (layout !== null) {
        total = parseSampleBatch(record.value!, WIRE_HEADER_BYTES, this.seriesCache, scratch, layout);
      } else {
        const batch = this.reader.fromBuffer(record.value!.subarray(WIRE_HEADER_BYTES), entry.resolver ?? undefined) as SampleBatch;
        total = this.fromObjects(batch, scratch);
      }
    } catch (err) {
      scratch.reset();
      const detail = err instanceof UndecodableError ? err.message : (err as Error).message;
      return this.recordFailure(record, 'undecodable', `Cannot decode a SampleBatch with schema ${entry.id}: ${detail}`);
    }
    if (options?.notAfter !== undefined) scratch.dropAfter(options.notAfter);
    return { batch: this.toBatch(record, scratch, total), deadLetters: this.sampleFailures(record, scratch, options?.notAfter) };
  }

  private layoutOf(id: number, writer: avro.Type): FastLayout | null {
    let layout = this.layouts.get(id);
    if (layout === undefined) {
      layout = fastLayout(writer, this.reader);
      this.layouts.set(id, layout);
    }
    return layout;
  }

  /** The slow path for other writer schemas: samples already decoded by avsc. */
  private fromObjects(batch: SampleBatch, sink: SampleSink): number {
    const cache = this.seriesCache;
    const ctx = cache.source(`\uffff${JSON.stringify(batch.source)}`, () => batch.source);
    const samples = batch.samples;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      // Length-prefixed, so no name or value content can make two different samples share a key.
      let key = `${s.name.length}:${s.name}`;
      for (const k in s.labels) {
        const v = s.labels[k]!;
        key += `${k.length}:${k}${v.length}:${v}`;
      }
      const bytes = Buffer.from(key);
      let ref = cache.lookup(ctx, bytes, 0, bytes.length);
      if (ref === MISSING) ref = cache.resolve(ctx, bytes, 0, bytes.length, s.name, s.labels);
      if (ref < 0) sink.bad(i, ref);
      else if (!(Math.abs(s.timestamp) <= MAX_TIMESTAMP_MS)) sink.bad(i, TIMESTAMP_PROBLEM);
      else sink.push(ref, s.timestamp, s.value, KIND_CODES[s.kind] ?? 0);
    }
    return samples.length;
  }

  private toBatch(record: MetricsRecord, scratch: Scratch, total: number): DecodedBatch {
    const n = scratch.length;
    const cols = allocateColumns(n);
    cols.seriesRefs.set(scratch.refs.subarray(0, n));
    cols.timestamps.set(scratch.timestamps.subarray(0, n));
    cols.values.set(scratch.values.subarray(0, n));
    cols.kinds.set(scratch.kinds.subarray(0, n));
    return { origin: originOf(record), length: n, totalSamples: total, series: this.seriesCache.table, ...cols };
  }

  /** One dead letter per reason, listing that reason's sample indexes. */
  private sampleFailures(record: MetricsRecord, scratch: Scratch, notAfter?: number): DeadLetter[] {
    const bads = scratch.bads;
    if (bads.length === 0) return [];
    const byReason = new Map<DeadLetterReason, DeadLetter>();
    for (let i = 0; i < bads.length; i += 2) {
      const index = bads[i]!;
      const code = bads[i + 1]!;
      const problem =
        code === TIMESTAMP_PROBLEM
          ? { reason: 'non_finite_timestamp' as const, message: `Timestamp out of range (more than ${MAX_TIMESTAMP_MS} ms from 1970)` }
          : code === FUTURE_PROBLEM
            ? { reason: 'too_far_in_future' as const, message: `Timestamp too far in the future: later than ${notAfter} (the wall clock plus ingest.maxFuture)` }
            : this.seriesCache.problem(code);
      let letter = byReason.get(problem.reason);
      if (!letter) {
        letter = { reason: problem.reason, origin: originOf(record), value: record.value, message: problem.message, sampleIndexes: [] };
        byReason.set(problem.reason, letter);
      }
      letter.sampleIndexes.push(index);
    }
    return [...byReason.values()];
  }

  private recordFailure(record: MetricsRecord, reason: DeadLetterReason, message: string): DecodeResult {
    const origin = originOf(record);
    const cols = allocateColumns(0);
    return {
      batch: { origin, length: 0, totalSamples: 0, series: this.seriesCache.table, ...cols },
      deadLetters: [{ reason, origin, value: record.value, message, sampleIndexes: [] }],
    };
  }
}

function originOf(record: MetricsRecord): RecordOrigin {
  return { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key };
}
