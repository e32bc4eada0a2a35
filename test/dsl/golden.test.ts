import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSources } from '../../src/dsl/index.js';
import { countParses } from '../../src/dsl/parse.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'dsl');
const list = (sub: string) => readdirSync(join(dir, sub)).filter((f) => f.endsWith('.rules')).sort();

describe('golden: valid rules files', () => {
  for (const name of list('valid')) {
    it(`${name} parses once and checks clean`, () => {
      const source = readFileSync(join(dir, 'valid', name), 'utf8');
      expect(countParses(source, name)).toBe(1);
      const result = checkSources([{ file: name, source }]);
      expect(result.errors.map((e) => e.location)).toEqual([]);
      expect(result.model!.rules.length + result.model!.receivers.length).toBeGreaterThan(0);
    });
  }
});

describe('golden: invalid rules files', () => {
  for (const name of list('invalid')) {
    it(`${name} gives exactly the expected errors`, () => {
      const source = readFileSync(join(dir, 'invalid', name), 'utf8');
      const expected = readFileSync(join(dir, 'invalid', name.replace(/\.rules$/, '.errors')), 'utf8').trim().split('\n');
      const result = checkSources([{ file: name, source }]);
      expect(result.errors.map((e) => e.location)).toEqual(expected);
      expect(result.model).toBeNull();
    });
  }
});
