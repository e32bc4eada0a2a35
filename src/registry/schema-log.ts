/**
 * Where the registry keeps its records: a log read to the end on start, appended on each change
 * (the `_schemas` topic in Kafka, like the Confluent registry; an in-memory log in unit tests).
 * Record keys and values are the JSON documents described in schema-store.ts.
 */

/** One record of the log; a null value is a tombstone. */
export interface SchemaLogRecord {
  key: string;
  value: string | null;
}

/** The registry's storage. */
export interface SchemaLog {
  /**
   * Starts reading: `onRecord` is called for every record already in the log, in order, and then for
   * every record appended later (by this or another registry). Resolves once the existing records
   * have been delivered.
   */
  start(onRecord: (record: SchemaLogRecord) => void): Promise<void>;
  /** Appends a record durably; resolves after it is acknowledged. */
  append(record: SchemaLogRecord): Promise<void>;
  /** Resolves once every record appended before the call has been delivered to `onRecord`. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

/** A SchemaLog in memory; `records` survive `close()`, so a new registry on the same log recovers them. */
export class InMemorySchemaLog implements SchemaLog {
  readonly records: SchemaLogRecord[] = [];
  private listener: ((r: SchemaLogRecord) => void) | null = null;

  async start(onRecord: (record: SchemaLogRecord) => void): Promise<void> {
    for (const r of this.records) onRecord(r);
    this.listener = onRecord;
  }

  async append(record: SchemaLogRecord): Promise<void> {
    this.records.push(record);
    this.listener?.(record);
  }

  async catchUp(): Promise<void> {}

  async close(): Promise<void> {
    this.listener = null;
  }
}
