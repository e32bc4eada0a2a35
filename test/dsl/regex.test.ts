import { describe, expect, it } from 'vitest';
import { compileMatcherRegex } from '../../src/dsl/regex.js';

describe('matcher regexes (RE2-like, fully anchored)', () => {
  it('anchors and supports RE2 flags and named groups', () => {
    const re = compileMatcherRegex('api|web') as RegExp;
    expect(re.test('api')).toBe(true);
    expect(re.test('xapi')).toBe(false);
    expect((compileMatcherRegex('(?i)API') as RegExp).test('api')).toBe(true);
    expect((compileMatcherRegex('(?P<x>a)b') as RegExp).test('ab')).toBe(true);
    expect((compileMatcherRegex('a\\\\1') as RegExp).test('a\\1')).toBe(true);
  });

  it('rejects what RE2 rejects', () => {
    expect(compileMatcherRegex('(a)\\1')).toMatch(/backreferences/);
    expect(compileMatcherRegex('a(?=b)')).toMatch(/lookahead/);
    expect(compileMatcherRegex('(?<!a)b')).toMatch(/lookbehind/);
    expect(compileMatcherRegex('a++')).toMatch(/possessive/);
    expect(compileMatcherRegex('a{1001}')).toMatch(/1000/);
    expect(compileMatcherRegex('(a')).toMatch(/Unterminated group/);
  });
});
