import { describe, expect, it } from 'vitest';
import { compileMatcherRegex, type MatcherRegex } from '../../src/dsl/regex.js';

const re = (source: string) => compileMatcherRegex(source) as MatcherRegex;

describe('matcher regexes (RE2, fully anchored)', () => {
  it('anchors and supports RE2 flags, named groups and classes', () => {
    expect(re('api|web').test('api')).toBe(true);
    expect(re('api|web').test('xapi')).toBe(false);
    expect(re('(?i)API').test('api')).toBe(true);
    expect(re('(?P<x>a)b').test('ab')).toBe(true);
    expect(re('a\\\\1').test('a\\1')).toBe(true);
    expect(re('[[:alpha:]]+').test('abc')).toBe(true);
    expect(re('\\pL+').test('héllo')).toBe(true);
  });

  it('has Go regexp semantics: "." does not match a newline unless (?s)', () => {
    expect(re('a.b').test('a\nb')).toBe(false);
    expect(re('(?s)a.b').test('a\nb')).toBe(true);
  });

  it('rejects what RE2 rejects, with RE2 messages quoting the pattern as written', () => {
    expect(compileMatcherRegex('(a)\\1')).toMatch(/invalid escape sequence: `\\1`/);
    expect(compileMatcherRegex('a(?=b)')).toMatch(/invalid or unsupported Perl syntax: `\(\?=`/);
    expect(compileMatcherRegex('(?<!a)b')).toMatch(/invalid named capture/);
    expect(compileMatcherRegex('a++')).toMatch(/invalid nested repetition operator/);
    expect(compileMatcherRegex('a{1001}')).toMatch(/invalid repeat count/);
    expect(compileMatcherRegex('(a')).toBe('missing closing ): `(a`');
  });

  // JavaScript's backtracking RegExp took 52.9 s for this match inside `vigil run` (issue 15). RE2
  // is linear in the input: the same pattern over a value 4000 times as long completes too (under
  // the unit test timeout, where the backtracking engine would not finish at all).
  it('matches catastrophic-backtracking patterns in linear time', () => {
    const pattern = re('(.*.*)*Z');
    expect(pattern.test('a'.repeat(25))).toBe(false);
    expect(pattern.test('a'.repeat(100_000))).toBe(false);
    expect(pattern.test(`${'a'.repeat(100_000)}Z`)).toBe(true);
    expect(re('(a|aa)+b').test('a'.repeat(100_000))).toBe(false);
  });
});
