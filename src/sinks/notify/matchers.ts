/**
 * Label matchers with the rules language's semantics: `=`, `!=`, `=~`, `!~`; regexes are fully
 * anchored; a missing label reads as the empty string (as in Alertmanager).
 */
import { matcherRegex, type MatcherRegex } from '../../dsl/regex.js';
import { NotifyConfigError } from './errors.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher as written in a `match`, `source`, `target` block or a silence. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export type Labels = Readonly<Record<string, string>>;

/** A matcher with its regex compiled once. */
export interface CompiledMatcher extends Matcher {
  matches(labels: Labels): boolean;
}

const OPS: readonly MatchOp[] = ['=', '!=', '=~', '!~'];

export function isMatchOp(op: unknown): op is MatchOp {
  return typeof op === 'string' && (OPS as readonly string[]).includes(op);
}

/** Compiles a matcher; an invalid regex is a NotifyConfigError naming the label and the pattern. */
export function compileMatcher(m: Matcher): CompiledMatcher {
  const { name, op, value } = m;
  if (op === '=') return { name, op, value, matches: (l) => (l[name] ?? '') === value };
  if (op === '!=') return { name, op, value, matches: (l) => (l[name] ?? '') !== value };
  let re: MatcherRegex;
  try {
    re = matcherRegex(value);
  } catch (err) {
    throw new NotifyConfigError(`invalid regex "${value}" for label "${name}": ${(err as Error).message}`);
  }
  if (op === '=~') return { name, op, value, matches: (l) => re.test(l[name] ?? '') };
  return { name, op, value, matches: (l) => !re.test(l[name] ?? '') };
}

export function compileMatchers(ms: readonly Matcher[]): CompiledMatcher[] {
  return ms.map(compileMatcher);
}

/** True when every matcher matches (an empty list matches everything). */
export function matchesAll(ms: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const m of ms) if (!m.matches(labels)) return false;
  return true;
}

/** `name="value"` form used in messages and subjects. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}
