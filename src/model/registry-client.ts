/**
 * A minimal client of a Confluent-compatible schema registry: what the serde needs (register a
 * schema under a subject, fetch a schema by id). Talks REST directly rather than through
 * @kafkajs/confluent-schema-registry, whose `register` also insists on a matching compatibility
 * config and whose subjects default to the record's full name.
 */

/** A registry answer other than success. `errorCode` is the Confluent `error_code` when there is one. */
export class SchemaRegistryError extends Error {
  readonly code = 'SCHEMA_REGISTRY';
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: number | undefined,
    /** True for network failures and 5xx answers: worth retrying later. */
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'SchemaRegistryError';
  }
}

/** What the serde needs from a registry. */
export interface RegistryClient {
  /** Registers `schema` (Avro JSON text) under `subject`; returns its global id (existing or new). */
  register(subject: string, schema: string): Promise<number>;
  /** The schema text with this id; rejects with status 404 when the registry does not know it. */
  schemaById(id: number): Promise<string>;
}

export interface HttpRegistryClientOptions {
  /** Attempts for network failures and 5xx answers (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubling (default 100). */
  retryDelayMs?: number;
}

/** RegistryClient over HTTP. */
export class HttpRegistryClient implements RegistryClient {
  private readonly base: string;
  constructor(
    url: string,
    private readonly options: HttpRegistryClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async register(subject: string, schema: string): Promise<number> {
    const body = (await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema })) as { id?: unknown };
    if (typeof body.id !== 'number') throw new SchemaRegistryError(`Registry answered without an id for subject "${subject}"`, 200, undefined, false);
    return body.id;
  }

  async schemaById(id: number): Promise<string> {
    const body = (await this.request('GET', `/schemas/ids/${id}`)) as { schema?: unknown; schemaType?: unknown };
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
      throw new SchemaRegistryError(`Schema ${id} is ${String(body.schemaType)}, not AVRO`, 200, undefined, false);
    }
    if (typeof body.schema !== 'string') throw new SchemaRegistryError(`Registry answered schema ${id} without a schema`, 200, undefined, false);
    return body.schema;
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const attempts = this.options.attempts ?? 3;
    let delay = this.options.retryDelayMs ?? 100;
    for (let attempt = 1; ; attempt++) {
      let failure: SchemaRegistryError;
      try {
        const res = await fetch(this.base + path, {
          method,
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        let json: unknown;
        try {
          json = text === '' ? {} : JSON.parse(text);
        } catch {
          json = { message: text };
        }
        if (res.ok) return json;
        const { error_code, message } = json as { error_code?: number; message?: string };
        failure = new SchemaRegistryError(
          `Schema registry ${method} ${path}: ${res.status} ${message ?? ''}`.trim(),
          res.status,
          error_code,
          res.status >= 500,
        );
      } catch (err) {
        failure = new SchemaRegistryError(`Schema registry ${method} ${path}: ${(err as Error).message}`, 0, undefined, true);
      }
      if (!failure.retriable || attempt >= attempts) throw failure;
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
}
