/**
 * The contract Avro schemas (schemas/*.avsc) loaded once per process and parsed with avsc.
 * Every component uses these Types as the *reader* schemas; writers may use any BACKWARD-compatible
 * schema (see serde.ts for the writer -> reader resolution).
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';

/** Names of the contract schemas (file `schemas/<name>.avsc`). */
export type ContractSchemaName = 'sample-batch' | 'rollup-batch' | 'alert-event';

/** One loaded contract schema. */
export interface ContractSchema {
  name: ContractSchemaName;
  /** The schema text as in the file (what gets registered). */
  text: string;
  /** Parsed JSON schema. */
  schema: avro.Schema;
  /** avsc Type (no logical types: longs are numbers). */
  type: avro.Type;
}

const cache = new Map<ContractSchemaName, ContractSchema>();

/** Returns the contract schema `name`, loading and parsing it on first use (cached for the process). */
export function contractSchema(name: ContractSchemaName): ContractSchema {
  let found = cache.get(name);
  if (!found) {
    // src/model and dist/model are both two levels below the package root.
    const text = readFileSync(new URL(`../../schemas/${name}.avsc`, import.meta.url), 'utf8');
    const schema = JSON.parse(text) as avro.Schema;
    found = { name, text, schema, type: avro.Type.forSchema(schema) };
    cache.set(name, found);
  }
  return found;
}

/** Shorthand for the avsc Types of the three contract schemas. */
export function avroTypes(): { sampleBatch: avro.Type; rollupBatch: avro.Type; alertEvent: avro.Type } {
  return {
    sampleBatch: contractSchema('sample-batch').type,
    rollupBatch: contractSchema('rollup-batch').type,
    alertEvent: contractSchema('alert-event').type,
  };
}
