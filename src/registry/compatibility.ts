/**
 * Schema compatibility by Avro schema resolution (avsc `createResolver`): a reader can read data
 * written with a writer schema iff avsc can build a resolver from the writer to the reader.
 */
import type avro from 'avsc';

/** The compatibility levels of the Confluent registry. */
export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Why `reader` cannot read data written with `writer`, or null if it can. */
export function readProblem(reader: avro.Type, writer: avro.Type): string | null {
  try {
    reader.createResolver(writer);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Checks `candidate` against the existing versions of a subject (oldest first) under `level`.
 * Returns the list of problems (empty = compatible).
 */
export function compatibilityProblems(level: CompatibilityLevel, candidate: avro.Type, existing: avro.Type[]): string[] {
  if (level === 'NONE' || existing.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? existing : existing.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    if (backward) {
      const p = readProblem(candidate, old);
      if (p) problems.push(`new schema cannot read data written with an earlier schema: ${p}`);
    }
    if (forward) {
      const p = readProblem(old, candidate);
      if (p) problems.push(`an earlier schema cannot read data written with the new schema: ${p}`);
    }
  }
  return problems;
}
