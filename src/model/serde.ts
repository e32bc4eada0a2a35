/**
 * Registry-aware Avro serde for Vigil's topics, in the Confluent wire format (byte 0x00, int32
 * big-endian schema id, Avro binary).
 * - encode: registers the reader schema under `<topic>-value` (TopicNameStrategy) once per topic,
 *   then writes with it.
 * - decode: synchronous when the writer id is cached (the usual case), a Promise only on a miss;
 *   data written with any schema the reader can resolve (BACKWARD-compatible) is read into the
 *   reader's shape.
 */
import type avro from 'avsc';
import { contractSchema, type ContractSchemaName } from './avro-schemas.js';
import { HttpRegistryClient, type RegistryClient } from './registry-client.js';
import type { AlertEvent, RollupBatch, SampleBatch } from './types.js';
import { WriterSchemaCache, type WriterEntry, type WriterSchemaCacheOptions } from './writer-schema-cache.js';

export const MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;

export type SerdeErrorCode = 'not_wire_format' | 'unknown_schema_id' | 'undecodable' | 'incompatible_schema';

/** A value that cannot be decoded; `code` is also the dead-letter reason. */
export class SerdeError extends Error {
  constructor(
    readonly code: SerdeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SerdeError';
  }
}

/** The schema id of a wire-format value, or null when `value` is not in the wire format. */
export function wireSchemaId(value: Buffer | null | undefined): number | null {
  if (!value || value.length < WIRE_HEADER_BYTES || value[0] !== MAGIC_BYTE) return null;
  return value.readInt32BE(1);
}

/** The 5-byte header for `schemaId`. */
export function wireHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(WIRE_HEADER_BYTES);
  header[0] = MAGIC_BYTE;
  header.writeInt32BE(schemaId, 1);
  return header;
}

export interface SerdeOptions extends WriterSchemaCacheOptions {
  /** A registry URL or client. */
  registry: string | RegistryClient;
}

/** Serde for one reader schema. Safe to share within a process. */
export class AvroSerde<T> {
  readonly registry: RegistryClient;
  readonly writers: WriterSchemaCache;
  private readonly ids = new Map<string, Promise<number>>();

  constructor(
    readonly reader: avro.Type,
    /** The schema text registered for encoding. */
    readonly schemaText: string,
    options: SerdeOptions,
  ) {
    this.registry = typeof options.registry === 'string' ? new HttpRegistryClient(options.registry) : options.registry;
    this.writers = new WriterSchemaCache(this.registry, reader, options);
  }

  /** The id of the reader schema under subject `<topic>-value`, registering it on first use. */
  schemaId(topic: string): Promise<number> {
    let id = this.ids.get(topic);
    if (!id) {
      id = this.registry.register(`${topic}-value`, this.schemaText).then((n) => {
        if (!this.writers.get(n)) this.writers.add(n, this.schemaText);
        return n;
      });
      // A failed registration is retried on the next call.
      id.catch(() => this.ids.delete(topic));
      this.ids.set(topic, id);
    }
    return id;
  }

  /** Encodes `value` for `topic` (registering the schema on first use). */
  async encode(topic: string, value: T): Promise<Buffer> {
    return this.encodeWithId(await this.schemaId(topic), value);
  }

  /** Encodes with a known schema id (from `schemaId`): synchronous. */
  encodeWithId(schemaId: number, value: T): Buffer {
    return Buffer.concat([wireHeader(schemaId), this.reader.toBuffer(value)]);
  }

  /** Decodes a wire-format value: synchronous when its schema id is cached. Throws/rejects SerdeError. */
  decode(value: Buffer | null): T | Promise<T> {
    const id = wireSchemaId(value);
    if (id === null) throw new SerdeError('not_wire_format', 'Not in the Confluent wire format (magic byte 0, schema id)');
    const entry = this.writers.get(id);
    if (entry) return this.decodeWith(entry, value!);
    return this.writers.load(id).then((e) => this.decodeWith(e, value!));
  }

  /** Decodes with an entry of `writers` (for callers that manage the cache themselves). */
  decodeWith(entry: WriterEntry, value: Buffer): T {
    if (entry.status === 'unknown') throw new SerdeError('unknown_schema_id', entry.message);
    if (entry.status === 'incompatible') throw new SerdeError('incompatible_schema', entry.message);
    try {
      return this.reader.fromBuffer(value.subarray(WIRE_HEADER_BYTES), entry.resolver ?? undefined) as T;
    } catch (err) {
      throw new SerdeError('undecodable', `Cannot decode with schema ${entry.id}: ${(err as Error).message}`);
    }
  }
}

function contractSerde<T>(name: ContractSchemaName, options: SerdeOptions): AvroSerde<T> {
  const { type, text } = contractSchema(name);
  return new AvroSerde<T>(type, text, options);
}

/** Serde of the `metrics` topic value. */
export const sampleBatchSerde = (options: SerdeOptions): AvroSerde<SampleBatch> => contractSerde('sample-batch', options);
/** Serde of the rollup topics' value. */
export const rollupBatchSerde = (options: SerdeOptions): AvroSerde<RollupBatch> => contractSerde('rollup-batch', options);
/** Serde of the `alerts` topic value. */
export const alertEventSerde = (options: SerdeOptions): AvroSerde<AlertEvent> => contractSerde('alert-event', options);
