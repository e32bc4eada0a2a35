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
  RegistryError,
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

interface VersionEntry {
  version: number;
  id: number;
  deleted: boolean;
}

/** Result of planning a change: the answer and the log records to append. */
export interface ChangePlan<T> {
  result: T;
  records: SchemaLogRecord[];
}

const schemaKey = (subject: string, version: number): string => JSON.stringify({ keytype: 'SCHEMA', subject, version, magic: 1 });

export class SchemaStore {
  private readonly byId = new Map<number, StoredSchema>();
  private readonly idByText = new Map<string, number>();
  /** Every version of each subject, soft-deleted ones included (permanently deleted ones removed). */
  private readonly subjects = new Map<string, VersionEntry[]>();
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
    if (key.keytype !== 'SCHEMA') return;
    if (record.value === null) {
      // Tombstone: the version was permanently deleted.
      const list = this.subjects.get(key.subject ?? '');
      if (list) {
        const rest = list.filter((e) => e.version !== key.version);
        if (rest.length > 0) this.subjects.set(key.subject!, rest);
        else this.subjects.delete(key.subject!);
      }
      return;
    }
    const v = JSON.parse(record.value) as { subject: string; version: number; id: number; schema: string; deleted?: boolean };
    if (!this.byId.has(v.id)) {
      const type = avro.Type.forSchema(JSON.parse(v.schema) as avro.Schema);
      this.byId.set(v.id, { id: v.id, schema: v.schema, type });
      this.idByText.set(v.schema, v.id);
    }
    this.maxId = Math.max(this.maxId, v.id);
    const versions = this.subjects.get(v.subject) ?? [];
    const known = versions.find((x) => x.version === v.version);
    if (known) known.deleted = v.deleted === true;
    else {
      versions.push({ version: v.version, id: v.id, deleted: v.deleted === true });
      versions.sort((a, b) => a.version - b.version);
    }
    this.subjects.set(v.subject, versions);
  }

  schemaById(id: number): StoredSchema {
    const found = this.byId.get(id);
    if (!found) throw schemaNotFound(`Schema ${id} not found`);
    return found;
  }

  /** Subjects with at least one live version (`deleted`: soft-deleted ones too). */
  subjectNames(deleted = false): string[] {
    return [...this.subjects].filter(([, list]) => deleted || list.some((e) => !e.deleted)).map(([s]) => s).sort();
  }

  /** The [subject, version] pairs that use schema `id` (live versions). */
  usesOf(id: number): { subject: string; version: number }[] {
    this.schemaById(id);
    const out: { subject: string; version: number }[] = [];
    for (const [subject, list] of this.subjects) for (const e of list) if (e.id === id && !e.deleted) out.push({ subject, version: e.version });
    return out.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version));
  }

  versions(subject: string): number[] {
    return this.versionList(subject).map((v) => v.version);
  }

  /** `version` is a positive integer, "latest" or "-1". */
  version(subject: string, version: string): SubjectVersion {
    const entry = findVersion(this.versionList(subject), version);
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
    const all = this.subjects.get(subject) ?? [];
    const list = all.filter((e) => !e.deleted);
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
    // Numbering continues after soft-deleted versions, as in the Confluent registry.
    const version = (all[all.length - 1]?.version ?? 0) + 1;
    return {
      id,
      record: {
        key: schemaKey(subject, version),
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

  /**
   * Deletes a subject: soft (versions hidden, kept in the log) or, after a soft delete, permanent
   * (tombstones). Answers the deleted version numbers.
   */
  planDeleteSubject(subject: string, permanent: boolean): ChangePlan<number[]> {
    const all = this.subjects.get(subject) ?? [];
    if (all.length === 0) throw subjectNotFound(subject);
    const live = all.filter((e) => !e.deleted);
    if (permanent) {
      if (live.length > 0) throw new RegistryError(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`);
      return { result: all.map((e) => e.version), records: all.map((e) => ({ key: schemaKey(subject, e.version), value: null })) };
    }
    if (live.length === 0) throw new RegistryError(404, 40404, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`);
    return { result: live.map((e) => e.version), records: live.map((e) => this.deletedRecord(subject, e)) };
  }

  /** Deletes one version (soft, or permanent after soft); answers its number. */
  planDeleteVersion(subject: string, version: string, permanent: boolean): ChangePlan<number> {
    const all = this.subjects.get(subject) ?? [];
    if (all.length === 0) throw subjectNotFound(subject);
    const entry = findVersion(permanent ? all : all.filter((e) => !e.deleted), version);
    if (!entry) throw versionNotFound(version);
    if (permanent) {
      if (!entry.deleted) throw new RegistryError(404, 40407, `Subject '${subject}' Version ${entry.version} was not deleted first before being permanently deleted`);
      return { result: entry.version, records: [{ key: schemaKey(subject, entry.version), value: null }] };
    }
    return { result: entry.version, records: [this.deletedRecord(subject, entry)] };
  }

  private deletedRecord(subject: string, e: VersionEntry): SchemaLogRecord {
    const schema = this.schemaById(e.id).schema;
    return { key: schemaKey(subject, e.version), value: JSON.stringify({ subject, version: e.version, id: e.id, schema, deleted: true }) };
  }

  /** The live versions of a subject; 40401 when there are none. */
  private versionList(subject: string): VersionEntry[] {
    const list = this.subjects.get(subject)?.filter((e) => !e.deleted);
    if (!list || list.length === 0) throw subjectNotFound(subject);
    return list;
  }
}

/** `version` is a positive integer, "latest" or "-1" (42202 otherwise). */
function findVersion(list: VersionEntry[], version: string): VersionEntry | undefined {
  if (version === 'latest' || version === '-1') return list[list.length - 1];
  const n = Number(version);
  if (!/^[0-9]+$/.test(version) || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) throw invalidVersion(version);
  return list.find((v) => v.version === n);
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
