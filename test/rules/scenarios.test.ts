import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRulesTestFile } from '../../src/rules/rules-test.js';

const root = join(import.meta.dirname, '..', '..');
const dirs = [join(root, 'test', 'rules', 'scenarios'), join(root, 'rules', 'tests')];

describe('rules test scenarios (vigil rules test files)', () => {
  for (const dir of dirs) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    } catch {
      continue;
    }
    for (const f of files) for (const repartition of [false, true]) {
      it(`${dir.slice(root.length + 1)}/${f}${repartition ? ' (repartitioned)' : ''}`, () => {
        const r = runRulesTestFile(join(dir, f), { repartition });
        expect(r.errors).toEqual([]);
        const failures = r.tests.flatMap((t) => t.failures.map((x) => `${t.name}: ${x}`));
        expect(failures).toEqual([]);
        expect(r.tests.length).toBeGreaterThan(0);
      });
    }
  }
});
