/**
 * Prometheus' own PromQL test scripts (test/fixtures/promql/*.test, copied from
 * prometheus/prometheus v2.42.0 promql/testdata, Apache-2.0), run against Vigil's PromQL engine.
 * Every eval command is a test: instant evaluation, then range mode at the same time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, ScriptRunner, type ScriptCommand } from '../../support/promql-script.js';

const dir = join(import.meta.dirname, '../../fixtures/promql');

/**
 * Where the grammar Vigil parses with (@prometheus-io/lezer-promql, Prometheus 3's) does not accept
 * Prometheus 2.42 syntax: the original is a parse error (400), the rewritten query must pass.
 */
const GRAMMAR_DIFFERENCES: Array<{ from: RegExp; to: string }> = [
  // Prometheus 3 renamed holt_winters; the grammar only knows the new name.
  { from: /\bholt_winters\(/g, to: 'double_exponential_smoothing(' },
  // Numbers ending in a dot (`1.`) are not in the grammar's number token.
  { from: /(\d)\.(?!\d)/g, to: '$1.0' },
];

function rewrite(expr: string): string {
  return GRAMMAR_DIFFERENCES.reduce((e, d) => e.replace(d.from, d.to), expr);
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.test'))) {
  describe(file, () => {
    const runner = new ScriptRunner();
    let pending: ScriptCommand[] = [];
    for (const cmd of parseScript(readFileSync(join(dir, file), 'utf8'))) {
      if (cmd.kind !== 'eval') {
        pending.push(cmd);
        continue;
      }
      const setup = pending;
      pending = [];
      it(`line ${cmd.line}: ${cmd.fail ? 'fails: ' : ''}${cmd.expr}`, async () => {
        for (const c of setup) {
          if (c.kind === 'clear') runner.clear();
          else if (c.kind === 'load') runner.load(c);
        }
        const rewritten = rewrite(cmd.expr);
        if (rewritten !== cmd.expr) {
          const original = await runner.eval(cmd);
          expect(original.failure).toMatch(/parse error/);
        }
        const outcome = await runner.eval({ ...cmd, expr: rewritten });
        expect(outcome.unsupported, 'answered 422 unsupported').toBeUndefined();
        expect(outcome.failure).toBeNull();
      });
    }
  });
}
