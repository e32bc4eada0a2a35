import { describe, expect, it } from 'vitest';
import {
  FilterError,
  formatAlertmanagerMatcher,
  matchesFilter,
  parseFilterMatcher,
  silenceMatchesFilter,
} from '../../../src/sinks/notify/api-v2/filter-matchers.js';

const plain = (text: string) => {
  const m = parseFilterMatcher(text);
  return { name: m.name, op: m.op, value: m.value };
};

describe('Alertmanager filter matchers', () => {
  it('parses the forms amtool and Grafana send: quoted or not, all four operators, braces', () => {
    expect(plain('alertname=HighCpu')).toEqual({ name: 'alertname', op: '=', value: 'HighCpu' });
    expect(plain(' host != "web 1" ')).toEqual({ name: 'host', op: '!=', value: 'web 1' });
    expect(plain('host=~"web.*"')).toEqual({ name: 'host', op: '=~', value: 'web.*' });
    expect(plain('host!~web[0-9]')).toEqual({ name: 'host', op: '!~', value: 'web[0-9]' });
    expect(plain('{severity="page"}')).toEqual({ name: 'severity', op: '=', value: 'page' });
    expect(plain('msg="say \\"hi\\", a\\\\b\\nc \\d"')).toEqual({ name: 'msg', op: '=', value: 'say "hi", a\\b\nc \\d' });
    expect(plain('empty=""')).toEqual({ name: 'empty', op: '=', value: '' });
  });

  it('refuses what is not a matcher, stray quotes and bad regexes with a message', () => {
    expect(() => parseFilterMatcher('just-text')).toThrow(FilterError);
    expect(() => parseFilterMatcher('just-text')).toThrow('bad matcher format: just-text');
    expect(() => parseFilterMatcher('a="b')).toThrow(/unescaped double quote/);
    expect(() => parseFilterMatcher('a=b"c')).toThrow(/unescaped double quote/);
    expect(() => parseFilterMatcher('a=~"("')).toThrow(/invalid regex/);
  });

  it('matches labels as Alertmanager does, with its empty-value rules', () => {
    const f = (text: string, labels: Record<string, string>) => matchesFilter([parseFilterMatcher(text)], labels);
    expect(f('host="a"', { host: 'a' })).toBe(true);
    expect(f('host="a"', { host: 'b' })).toBe(false);
    expect(f('host=~"a|b"', { host: 'b' })).toBe(true);
    expect(f('host=~"a"', { host: 'ab' })).toBe(false); // anchored
    // = "" and =~ "" are satisfied by an absent label; != "" and !~ "" by a present one.
    expect(f('team=""', {})).toBe(true);
    expect(f('team=""', { team: 'x' })).toBe(false);
    expect(f('team!=""', { team: 'x' })).toBe(true);
    expect(f('team!=""', {})).toBe(false);
    expect(f('team!~""', { team: '' })).toBe(true);
  });

  it('selects silences whose matchers include every filter matcher exactly', () => {
    const silence = [
      { name: 'alertname', op: '=' as const, value: 'Down' },
      { name: 'host', op: '=~' as const, value: 'web.*' },
    ];
    expect(silenceMatchesFilter(silence, [plain('host=~"web.*"')])).toBe(true);
    expect(silenceMatchesFilter(silence, [plain('host=~"web.*"'), plain('alertname=Down')])).toBe(true);
    expect(silenceMatchesFilter(silence, [plain('host="web.*"')])).toBe(false);
    expect(silenceMatchesFilter(silence, [plain('host=~"web1"')])).toBe(false);
    expect(silenceMatchesFilter(silence, [])).toBe(true);
  });

  it('writes matchers that its parser reads back', () => {
    for (const value of ['plain', 'with "quotes"', 'back\\slash', 'new\nline', '']) {
      const m = { name: 'x', op: '!~' as const, value };
      expect(plain(formatAlertmanagerMatcher(m))).toEqual(m);
    }
  });
});
