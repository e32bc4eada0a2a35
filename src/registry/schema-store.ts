/**
 * The registry's state, rebuilt from its log. Log records use the Confluent `_schemas` layout:
 * - key `{"keytype":"SCHEMA","subject":S,"version":N,"magic":1}`,
 *   value `{"subject":S,"version":N,"id":ID,"schema":TEXT,"deleted":false}`;
 * - key `{"keytype":"CONFIG","subject":S|null,"magic":0}`, value `{"compatibilityLevel":LEVEL}`
 *   (subject null = the global level).
 * Pure and synchronous: the server appends the record a method returns, then applies it.
 */
import avro from 'avsc';
import { compatibilityProblems, type CompatibilityLevel, isCompatibilityLevel } from './compatibility.js';
import {
  incompatibleSchema,
  invalidCompatibility,
  invalidSchema,
  invalidVersion,
  schemaNotFound,
  subjectConfigNotFound,
  subjectNotFound,
  versionNotFound,
} from './registry-error.js';
import type { SchemaLogRecord } from './schema-log.js';

/** A registered schema (ids are global: one id per distinct schema text, shared by subjects). */
export interface StoredSchema {
  id: number;
  /** Normalised JSON text (whitespace removed). */
  schema: string;
  type: avro.Type;
}

/** One version of a subject, as the API answers it. */
export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

/** Body of a register / lookup / compatibility request. */
export interface SchemaRequest {
  schema?: unknown;
  schemaType?: unknown;
  references?: unknown;
}

/** Result of planning a registration: the id, and the log record to append when it is new. */
export interface RegisterPlan {
  id: number;
  record: SchemaLogRecord | null;
}

const DEFAULT_LEVEL: CompatibilityLevel = 'BACKWARD';

export class SchemaStore {
  private readonly byId = new Map<number, StoredSchema>();
  private readonly idByText = new Map<string, number>();
  private readonly subjects = new Map<string, { version: number; id: number }[]>();
  private readonly levels = new Map<string | null, CompatibilityLevel>();
  private maxId = 0;

  /** Applies one log record (idempotent: re-applying the same record changes nothing). */
  apply(record: SchemaLogRecord): void {
    const key = JSON.parse(record.key) as { keytype?: string; subject?: string | null; version?: number };
    if (key.keytype === 'CONFIG') {
      const subject = key.subject ?? null;
      if (record.value === null) this.levels.delete(subject);
      else {
        const level = (JSON.parse(record.value) as { compatibilityLevel?: unknown }).compatibilityLevel;
        if (isCompatibilityLevel(level)) this.levels.set(subject, level);
      }
      return;
    }
    if (key.keytype !== 'SCHEMA' || record.value === null) return;
    const v = JSON.parse(record.value) as { subject: string; version: number; id: number; schema: string; deleted?: boolean };
    if (!this.byId.has(v.id)) {
      const type = avro.Type.forSchema(JSON.parse(v.schema) as avro.Schema);
      this.byId.set(v.id, { id: v.id, schema: v.schema, type });
      this.idByText.set(v.schema, v.id);
    }
    this.maxId = Math.max(this.maxId, v.id);
    const versions = this.subjects.get(v.subject) ?? [];
    if (!versions.some((x) => x.version === v.version)) {
      versions.push({ version: v.version, id: v.id });
      versions.sort((a, b) => a.version - b.version);
    }
    this.subjects.set(v.subject, versions);
  }

  schemaById(id: number): StoredSchema {
    const found = this.byId.get(id);
    if (!found) throw schemaNotFound(`Schema ${id} not found`);
    return found;
  }

  subjectNames(): string[] {
    return [...this.subjects.keys()].sort();
  }

  versions(subject: string): number[] {
    return this.versionList(subject).map((v) => v.version);
  }

  /** `version` is a positive integer, "latest" or "-1". */
  version(subject: string, version: string): SubjectVersion {
    const list = this.versionList(subject);
    let entry: { version: number; id: number } | undefined;
    if (version === 'latest' || version === '-1') entry = list[list.length - 1];
    else {
      const n = Number(version);
      if (!/^[0-9]+$/.test(version) || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) throw invalidVersion(version);
      entry = list.find((v) => v.version === n);
    }
    if (!entry) throw versionNotFound(version);
    return { subject, version: entry.version, id: entry.id, schema: this.schemaById(entry.id).schema };
  }

  /** Finds `request`'s schema among the versions of `subject` (POST /subjects/{subject}). */
  lookup(subject: string, request: SchemaRequest): SubjectVersion {
    const list = this.versionList(subject);
    const { text } = parseRequest(request);
    const id = this.idByText.get(text);
    const entry = id === undefined ? undefined : list.find((v) => v.id === id);
    if (!entry) throw schemaNotFound();
    return { subject, version: entry.version, id: entry.id, schema: text };
  }

  /** Plans registering `request` under `subject`: the existing id, or a new version record. */
  planRegister(subject: string, request: SchemaRequest): RegisterPlan {
    const { text, type } = parseRequest(request);
    const list = this.subjects.get(subject) ?? [];
    const knownId = this.idByText.get(text);
    const existing = knownId === undefined ? undefined : list.find((v) => v.id === knownId);
    if (existing) return { id: existing.id, record: null };
    const problems = compatibilityProblems(
      this.level(subject),
      type,
      list.map((v) => this.schemaById(v.id).type),
    );
    if (problems.length > 0) throw incompatibleSchema(subject, problems);
    const id = knownId ?? this.maxId + 1;
    const version = (list[list.length - 1]?.version ?? 0) + 1;
    return {
      id,
      record: {
        key: JSON.stringify({ keytype: 'SCHEMA', subject, version, magic: 1 }),
        value: JSON.stringify({ subject, version, id, schema: text, deleted: false }),
      },
    };
  }

  /** Compatibility of `request` with a version of `subject` (or all, for transitive levels). */
  checkCompatibility(subject: string, version: string, request: SchemaRequest): string[] {
    const { type } = parseRequest(request);
    const level = this.level(subject);
    const list = this.versionList(subject);
    const target = this.version(subject, version);
    const existing = level.endsWith('_TRANSITIVE')
      ? list.filter((v) => v.version <= target.version).map((v) => this.schemaById(v.id).type)
      : [this.schemaById(target.id).type];
    return compatibilityProblems(level, type, existing);
  }

  /** The effective level of a subject (its own, else the global one). */
  level(subject: string | null): CompatibilityLevel {
    return (subject !== null ? this.levels.get(subject) : undefined) ?? this.levels.get(null) ?? DEFAULT_LEVEL;
  }

  /** The subject's own level; 40408 when it has none. */
  subjectLevel(subject: string): CompatibilityLevel {
    const level = this.levels.get(subject);
    if (!level) throw subjectConfigNotFound(subject);
    return level;
  }

  /** The record setting a level (subject null = global). */
  planConfig(subject: string | null, body: unknown): { level: CompatibilityLevel; record: SchemaLogRecord } {
    const level = (body as { compatibility?: unknown } | null)?.compatibility;
    if (!isCompatibilityLevel(level)) throw invalidCompatibility(level);
    return {
      level,
      record: {
        key: JSON.stringify({ keytype: 'CONFIG', subject, magic: 0 }),
        value: JSON.stringify({ compatibilityLevel: level }),
      },
    };
  }

  /** The tombstone removing a subject's own level. */
  planDeleteConfig(subject: string): { level: CompatibilityLevel; record: SchemaLogRecord } {
    const level = this.subjectLevel(subject);
    return { level, record: { key: JSON.stringify({ keytype: 'CONFIG', subject, magic: 0 }), value: null } };
  }

  private versionList(subject: string): { version: number; id: number }[] {
    const list = this.subjects.get(subject);
    if (!list || list.length === 0) throw subjectNotFound(subject);
    return list;
  }
}

/** Validates a request body and parses its Avro schema (422 42201 when it is not one). */
function parseRequest(request: SchemaRequest): { text: string; type: avro.Type } {
  if (request === null || typeof request !== 'object' || typeof request.schema !== 'string') {
    throw invalidSchema('the request body must be an object with a "schema" string');
  }
  if (request.schemaType !== undefined && request.schemaType !== null && request.schemaType !== 'AVRO') {
    throw invalidSchema(`schema type ${JSON.stringify(request.schemaType)} is not supported (only AVRO)`);
  }
  if (Array.isArray(request.references) && request.references.length > 0) {
    throw invalidSchema('schema references are not supported');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.schema);
  } catch (err) {
    throw invalidSchema(`not JSON: ${(err as Error).message}`);
  }
  try {
    return { text: JSON.stringify(parsed), type: avro.Type.forSchema(parsed as avro.Schema) };
  } catch (err) {
    throw invalidSchema((err as Error).message);
  }
}
