import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { compatibilityProblems, type CompatibilityLevel } from '../../src/registry/compatibility.js';

const rec = (fields: object[]): avro.Type => avro.Type.forSchema({ type: 'record', name: 'R', fields } as avro.Schema);
const v1 = rec([{ name: 'a', type: 'string' }]);
const addOptional = rec([
  { name: 'a', type: 'string' },
  { name: 'b', type: 'long', default: 0 },
]);
const addRequired = rec([
  { name: 'a', type: 'string' },
  { name: 'c', type: 'long' },
]);
const dropA = rec([{ name: 'b', type: 'long', default: 0 }]);

const ok = (level: CompatibilityLevel, candidate: avro.Type, existing: avro.Type[]): boolean =>
  compatibilityProblems(level, candidate, existing).length === 0;

describe('compatibility by Avro resolution', () => {
  it('BACKWARD: the new schema reads the latest one', () => {
    expect(ok('BACKWARD', addOptional, [v1])).toBe(true);
    expect(ok('BACKWARD', addRequired, [v1])).toBe(false);
    expect(ok('BACKWARD', dropA, [v1])).toBe(true);
  });

  it('FORWARD: the latest schema reads the new one', () => {
    expect(ok('FORWARD', addRequired, [v1])).toBe(true);
    expect(ok('FORWARD', dropA, [v1])).toBe(false);
  });

  it('FULL: both ways', () => {
    expect(ok('FULL', addOptional, [v1])).toBe(true);
    expect(ok('FULL', addRequired, [v1])).toBe(false);
    expect(ok('FULL', dropA, [v1])).toBe(false);
  });

  it('checks every earlier version only when transitive', () => {
    // addRequired is only BACKWARD-compatible with versions that already had `c`.
    const withC = rec([
      { name: 'a', type: 'string' },
      { name: 'c', type: 'long', default: 1 },
    ]);
    expect(ok('BACKWARD', addRequired, [v1, withC])).toBe(true);
    expect(ok('BACKWARD_TRANSITIVE', addRequired, [v1, withC])).toBe(false);
  });

  it('NONE accepts anything and a first version is always compatible', () => {
    expect(ok('NONE', addRequired, [v1])).toBe(true);
    expect(ok('FULL_TRANSITIVE', addRequired, [])).toBe(true);
  });

  it('explains the problem', () => {
    expect(compatibilityProblems('BACKWARD', addRequired, [v1])[0]).toMatch(/cannot read data written with an earlier schema: .*c/);
  });
});
