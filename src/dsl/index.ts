/**
 * Public entry of the rules language (pure: text -> AST -> checked model; no topology, state or sinks).
 *
 * - `checkRulesFiles(paths)`: reads and checks `.rules` files (directories are searched for them),
 *   returning every error of every file, or the checked model (rules, receivers, routes, inhibits).
 *   The notifier uses `model.receivers`, `model.routes` and `model.inhibits`.
 * - `checkSources(files)`: the same over in-memory texts.
 * - `formatRuleError(err, source)`: `file:line:col: message`, the source line and a caret.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkSources, type CheckResult, type SourceFile } from './check.js';
import { RuleError } from './errors.js';

export { checkSources, type CheckResult, type SourceFile } from './check.js';
export { RuleError, formatRuleError, type RuleErrorCode } from './errors.js';
export { parseRulesFile } from './parse.js';
export type * from './model.js';
export type * as Ast from './ast.js';
export { renderTemplate, type TemplateContext } from './template.js';

/** Expands paths: a directory yields its `*.rules` files (recursively, sorted), a file itself. */
export function expandRulesPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push(p);
      continue;
    }
    if (st.isDirectory()) {
      const entries = readdirSync(p).sort();
      const files = entries.filter((e) => e.endsWith('.rules')).map((e) => join(p, e));
      const dirs = entries.map((e) => join(p, e)).filter((e) => statSync(e).isDirectory());
      out.push(...files.filter((f) => statSync(f).isFile()), ...expandRulesPaths(dirs));
    } else out.push(p);
  }
  return out;
}

/**
 * Reads and checks rules files together. A file that cannot be read is reported as a RuleError
 * (code FILE) at 1:1 and the others are still checked.
 */
export function checkRulesFiles(paths: string[]): CheckResult {
  const sources: SourceFile[] = [];
  const readErrors: RuleError[] = [];
  for (const file of expandRulesPaths(paths)) {
    try {
      sources.push({ file, source: readFileSync(file, 'utf8') });
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      readErrors.push(new RuleError('FILE', `cannot read file: ${reason}`, { file, line: 1, col: 1, offset: 0 }));
    }
  }
  const result = checkSources(sources);
  if (readErrors.length) return { ...result, model: null, errors: [...readErrors, ...result.errors] };
  return result;
}
