/**
 * `vigil rules check FILE...` and `vigil rules test FILE...` (contract: rules-language.md, "Tooling contract").
 * check: prints every problem as `file:line:col: message` + source line + caret; exit 1 on any error.
 */
import type { Command } from 'commander';
import { checkRulesFiles, formatRuleError } from '../../dsl/index.js';
import { UserError } from '../user-error.js';
import { runRulesTestFile } from '../../rules/rules-test.js';

function runCheck(files: string[]): void {
  const result = checkRulesFiles(files);
  for (const err of result.errors) process.stderr.write(`${formatRuleError(err, result.sources.get(err.file))}\n`);
  if (result.errors.length) {
    const n = result.errors.length;
    throw new UserError(`${n} error${n === 1 ? '' : 's'} in rules`, 'RULES_INVALID');
  }
  const m = result.model!;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  process.stdout.write(
    `ok: ${count(result.files.length, 'file')}, ${count(m.rules.filter((r) => r.kind === 'alert').length, 'alert')}, ` +
      `${count(m.rules.filter((r) => r.kind === 'record').length, 'recording rule')}, ${count(m.receivers.length, 'receiver')}, ` +
      `${count(m.routes.length, 'route')}, ${count(m.inhibits.length, 'inhibit')}\n`,
  );
}

function runTests(files: string[]): void {
  let failed = 0;
  let passed = 0;
  for (const file of files) {
    const r = runRulesTestFile(file);
    for (const e of r.errors) {
      failed++;
      process.stderr.write(`${file}: ${e}\n`);
    }
    for (const t of r.tests) {
      if (t.failures.length === 0) {
        passed++;
        process.stdout.write(`ok   ${file}: ${t.name}\n`);
        continue;
      }
      failed++;
      process.stdout.write(`FAIL ${file}: ${t.name}\n`);
      for (const f of t.failures) process.stderr.write(`  ${file}: test "${t.name}": ${f}\n`);
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  if (failed) throw new UserError(`${failed} rule test${failed === 1 ? '' : 's'} failed`, 'RULES_TEST_FAILED');
}

export function register(program: Command): void {
  const rules = program.command('rules').description('check and test rules files');
  rules
    .command('check')
    .description('check rules files: every problem as file:line:col: message; exit 1 on any error')
    .argument('<files...>', '.rules files or directories')
    .action((files: string[]) => runCheck(files));
  rules
    .command('test')
    .description('run rule unit tests (promtool-style YAML) on the in-process test driver; exit 1 on any failure')
    .argument('<files...>', 'test YAML files')
    .action((files: string[]) => runTests(files));
}
