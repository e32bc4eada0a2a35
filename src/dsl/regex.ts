/**
 * Matcher regexes: RE2 syntax and semantics, fully anchored, matched in linear time by re2js (a
 * port of Go's regexp, the engine Prometheus and Alertmanager use). JavaScript's backtracking
 * RegExp is never used for a user's pattern: `(.*.*)*Z` against 25 characters took 52.9 s there and
 * stopped the engine; here any pattern costs O(pattern x input). A pattern that passes
 * `vigil rules check` means the same thing in Prometheus/Alertmanager, and what RE2 rejects
 * (backreferences, lookaround, possessive quantifiers, repeat counts over 1000) is refused with
 * RE2's own message.
 */
import { RE2JS } from 're2js';

/** A compiled, fully anchored matcher regex. */
export interface MatcherRegex {
  /** The pattern as written (without the anchoring). */
  readonly source: string;
  /** True when the whole of `value` matches. */
  test(value: string): boolean;
}

/** RE2 syntax errors read "error parsing regexp: <what>: `<where>`"; keep what and where. */
function describe(err: unknown): string {
  return (err as Error).message.replace(/^error parsing regexp: /, '');
}

/** Compiles `source` anchored at both ends; returns an error message (without position) when invalid. */
export function compileMatcherRegex(source: string): MatcherRegex | string {
  try {
    // Compiled alone first so that an error quotes the user's text, not the anchoring around it.
    RE2JS.compile(source);
  } catch (err) {
    return describe(err);
  }
  const re = RE2JS.compile(`^(?:${source})$`);
  return { source, test: (value: string) => re.matches(value) };
}

/** Like compileMatcherRegex, but throws an Error with the message when the pattern is invalid. */
export function matcherRegex(source: string): MatcherRegex {
  const r = compileMatcherRegex(source);
  if (typeof r === 'string') throw new Error(r);
  return r;
}
