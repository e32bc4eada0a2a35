/**
 * Writer schemas by registry id, each with its resolver to one reader schema. Lookups are
 * synchronous once an id is loaded, so decoding never awaits on the hot path; a miss loads the
 * schema from the registry once (concurrent misses share one request). An id the registry does not
 * know is remembered for `negativeTtlMs`; an incompatible one for good (a registry id never changes).
 */
import avro from 'avsc';
import { SchemaRegistryError, type RegistryClient } from './registry-client.js';

/** A usable writer schema. `resolver` is null when the writer is the reader (no resolution needed). */
export interface ReadyWriter {
  status: 'ready';
  id: number;
  writer: avro.Type;
  resolver: avro.Resolver | null;
}
/** The registry does not know the id (cached until `expires`). */
export interface UnknownWriter {
  status: 'unknown';
  id: number;
  message: string;
  expires: number;
}
/** The writer schema cannot be read with the reader schema, or is not Avro. */
export interface IncompatibleWriter {
  status: 'incompatible';
  id: number;
  message: string;
}
export type WriterEntry = ReadyWriter | UnknownWriter | IncompatibleWriter;

export interface WriterSchemaCacheOptions {
  /** How long an unknown id is remembered (default 5000 ms). */
  negativeTtlMs?: number;
  /** Clock for the negative cache (default Date.now). */
  now?: () => number;
  /** Parses a writer schema (default `avro.Type.forSchema`); must match how the reader was parsed. */
  parse?: (schema: avro.Schema) => avro.Type;
}

export class WriterSchemaCache {
  private readonly entries = new Map<number, WriterEntry>();
  private readonly loading = new Map<number, Promise<WriterEntry>>();
  private readonly readerCanonical: string;
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly parse: (schema: avro.Schema) => avro.Type;

  constructor(
    private readonly registry: RegistryClient,
    readonly reader: avro.Type,
    options: WriterSchemaCacheOptions = {},
  ) {
    this.readerCanonical = JSON.stringify(reader.schema());
    this.ttl = options.negativeTtlMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.parse = options.parse ?? ((schema) => avro.Type.forSchema(schema));
  }

  /** The entry for `id` if loaded (and, for unknown ids, not expired); never does IO. */
  get(id: number): WriterEntry | undefined {
    const entry = this.entries.get(id);
    if (entry?.status === 'unknown' && entry.expires <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  /** Loads `id` from the registry (once). Rejects when the registry fails (unreachable, 5xx, 401...): retry later. */
  load(id: number): Promise<WriterEntry> {
    const cached = this.get(id);
    if (cached) return Promise.resolve(cached);
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.fetch(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Adds a writer schema known without the registry (e.g. the id this process registered). */
  add(id: number, schemaText: string): WriterEntry {
    const entry = this.resolve(id, schemaText);
    this.entries.set(id, entry);
    return entry;
  }

  private async fetch(id: number): Promise<WriterEntry> {
    let text: string;
    try {
      text = await this.registry.schemaById(id);
    } catch (err) {
      if (err instanceof SchemaRegistryError && err.status === 404) {
        const entry: UnknownWriter = { status: 'unknown', id, message: `Unknown schema id ${id}`, expires: this.now() + this.ttl };
        this.entries.set(id, entry);
        return entry;
      }
      // Answered, but not a usable Avro schema (e.g. PROTOBUF). Other failures (401, 5xx, network) are
      // the registry's, not the record's: rethrown so the caller retries instead of dead-lettering.
      if (err instanceof SchemaRegistryError && err.status === 200) {
        const entry: IncompatibleWriter = { status: 'incompatible', id, message: err.message };
        this.entries.set(id, entry);
        return entry;
      }
      throw err;
    }
    return this.add(id, text);
  }

  private resolve(id: number, text: string): WriterEntry {
    let writer: avro.Type;
    try {
      writer = this.parse(JSON.parse(text) as avro.Schema);
    } catch (err) {
      return { status: 'incompatible', id, message: `Schema ${id} is not valid Avro: ${(err as Error).message}` };
    }
    if (JSON.stringify(writer.schema()) === this.readerCanonical) return { status: 'ready', id, writer, resolver: null };
    try {
      return { status: 'ready', id, writer, resolver: this.reader.createResolver(writer) };
    } catch (err) {
      return { status: 'incompatible', id, message: `Schema ${id} cannot be read as ${this.reader.name}: ${(err as Error).message}` };
    }
  }
}
