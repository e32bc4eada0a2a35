import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchRules, type RulesReloadReport, type RulesWatcher } from '../../src/rules/rules-watcher.js';
import { RulesModule } from '../../src/rules/rules-processor.js';
import { checkRulesFiles } from '../../src/dsl/index.js';

let dir = '';
let watcher: RulesWatcher | null = null;
afterEach(async () => {
  await watcher?.close();
  watcher = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rules hot reload', () => {
  it('keeps the old rules on a bad file and applies a good one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
    const file = join(dir, 'a.rules');
    writeFileSync(file, 'alert A { when avg(x) > 1 }\nalert B { when avg(y) > 1 }\n');
    const module = new RulesModule(checkRulesFiles([dir]).model!);
    const engine = module.createEngine();
    const reports: RulesReloadReport[] = [];
    let wake: () => void = () => {};
    watcher = watchRules({
      paths: [dir],
      apply: (m) => module.reload(m),
      report: (r) => {
        reports.push(r);
        wake();
      },
      debounceMs: 50,
    });
    await watcher.ready;
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    let p = next();
    writeFileSync(file, 'alert A { when avg(x) > 1 }\nalert B { when avg(y) > }\n');
    await p;
    expect(reports[0]!.ok).toBe(false);
    expect(reports[0]!.errors[0]).toMatch(/a\.rules:2:25: expected .* got "}"\nalert B \{ when avg\(y\) > \}\n {24}\^/);
    expect(engine.loadedRules.map((r) => r.name)).toEqual(['A', 'B']);
    p = next();
    writeFileSync(file, 'alert A { when avg(x) > 1 }\nalert B { when avg(y) > 2 }\n');
    await p;
    expect(reports[1]).toMatchObject({ ok: true, changed: ['B'], kept: ['A'], removed: [] });
  });
});
