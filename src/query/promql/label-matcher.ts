/**
 * PromQL label matchers (`=`, `!=`, `=~`, `!~`) over label sets that include `__name__`. A
 * missing label reads as "" (Prometheus: an empty value is no label); regexes are RE2, fully
 * anchored (src/dsl/regex.ts).
 */
import { compileMatcherRegex, type MatcherRegex } from '../../dsl/regex.js';

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A series' labels, `__name__` included. */
export type Labels = Readonly<Record<string, string>>;

export interface LabelMatcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  matches(value: string): boolean;
}

/** Builds a matcher; returns an error message when the regex is invalid. */
export function newMatcher(type: MatchType, name: string, value: string): LabelMatcher | string {
  if (type === '=') return { name, type, value, matches: (v) => v === value };
  if (type === '!=') return { name, type, value, matches: (v) => v !== value };
  const re: MatcherRegex | string = compileMatcherRegex(value);
  if (typeof re === 'string') return `error parsing regexp: ${re}`;
  if (type === '=~') return { name, type, value, matches: (v) => re.test(v) };
  return { name, type, value, matches: (v) => !re.test(v) };
}

/** True when every matcher holds for `labels`. */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.matches(labels[m.name] ?? '')) return false;
  return true;
}

/** `name="value"` as Prometheus prints a matcher. */
export function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.type}${JSON.stringify(m.value)}`;
}
