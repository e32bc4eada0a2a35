import { describe, expect, it } from 'vitest';
import { compileMatcher } from '../../../src/sinks/notify/matchers.js';
import { NotifyConfigError } from '../../../src/sinks/notify/errors.js';

describe('notifier matchers', () => {
  it('match regexes fully anchored with RE2 semantics, a missing label as ""', () => {
    const m = compileMatcher({ name: 'svc', op: '=~', value: 'api|web' });
    expect(m.matches({ svc: 'api' })).toBe(true);
    expect(m.matches({ svc: 'xapi' })).toBe(false);
    expect(compileMatcher({ name: 'svc', op: '!~', value: '.+' }).matches({})).toBe(true);
  });

  it('run a catastrophic-backtracking pattern in linear time (a silence cannot stall the notifier)', () => {
    const m = compileMatcher({ name: 'host', op: '=~', value: '(.*.*)*Z' });
    expect(m.matches({ host: 'a'.repeat(25) })).toBe(false);
    expect(m.matches({ host: 'a'.repeat(50_000) })).toBe(false);
  });

  it('refuse what RE2 refuses, naming the label and the pattern', () => {
    expect(() => compileMatcher({ name: 'svc', op: '=~', value: '(a)\\1' })).toThrow(NotifyConfigError);
    expect(() => compileMatcher({ name: 'svc', op: '=~', value: 'a(?=b)' })).toThrow(/invalid regex "a\(\?=b\)" for label "svc": invalid or unsupported Perl syntax/);
  });
});
