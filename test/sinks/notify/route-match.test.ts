import { describe, expect, it } from 'vitest';
import { compileNotifyConfig, type NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import { matchRoutes } from '../../../src/sinks/notify/route-match.js';
import { compileMatcher } from '../../../src/sinks/notify/matchers.js';
import { NotifyConfigError } from '../../../src/sinks/notify/errors.js';
import { webhook } from './fixtures.js';

const base: NotifyConfig = {
  receivers: [webhook('page'), webhook('mail'), webhook('audit'), webhook('fallback')],
  routes: [
    { match: [{ name: 'severity', op: '=', value: 'critical' }], receivers: ['page'], continue: true, groupBy: ['alertname'] },
    { match: [{ name: 'severity', op: '=~', value: 'warning|page' }], receivers: ['mail'] },
    { match: [{ name: 'team', op: '!~', value: 'db.*' }], receivers: ['audit'] },
    { match: [], receivers: ['mail'] },
  ],
  inhibits: [],
  defaultReceiver: 'fallback',
};

describe('matchers', () => {
  it('anchors regexes fully and treats a missing label as empty', () => {
    const m = compileMatcher({ name: 'svc', op: '=~', value: 'api|web' });
    expect(m.matches({ svc: 'api' })).toBe(true);
    expect(m.matches({ svc: 'api2' })).toBe(false);
    expect(m.matches({ svc: 'xweb' })).toBe(false);
    expect(compileMatcher({ name: 'x', op: '=', value: '' }).matches({})).toBe(true);
    expect(compileMatcher({ name: 'x', op: '!~', value: '.+' }).matches({})).toBe(true);
    expect(compileMatcher({ name: 'x', op: '!=', value: 'a' }).matches({ x: 'a' })).toBe(false);
  });
  it('rejects an invalid regex naming label and pattern', () => {
    expect(() => compileMatcher({ name: 'svc', op: '=~', value: '(' })).toThrow(/invalid regex "\(" for label "svc"/);
  });
});

describe('matchRoutes', () => {
  const config = compileNotifyConfig(base);
  const receivers = (labels: Record<string, string>) => matchRoutes(config, labels).map((m) => m.receiver);

  it('uses the first match and stops unless it says continue', () => {
    expect(receivers({ severity: 'critical', team: 'db1' })).toEqual(['page', 'mail']);
    expect(receivers({ severity: 'warning' })).toEqual(['mail']);
    expect(receivers({ severity: 'page' })).toEqual(['mail']);
  });
  it('applies !~ fully anchored', () => {
    expect(receivers({ severity: 'info', team: 'web' })).toEqual(['audit']);
    expect(receivers({ severity: 'info', team: 'db' })).toEqual(['mail']);
  });
  it('sends an alert that matches no route to the default receiver', () => {
    const c = compileNotifyConfig({ ...base, routes: base.routes.slice(0, 2) });
    expect(matchRoutes(c, { severity: 'info' }).map((m) => [m.receiver, m.routeIndex])).toEqual([['fallback', -1]]);
    const none = compileNotifyConfig({ ...base, routes: base.routes.slice(0, 2), defaultReceiver: undefined });
    expect(matchRoutes(none, { severity: 'info' })).toEqual([]);
  });
  it('carries group_by and Alertmanager default timings', () => {
    const [m] = matchRoutes(config, { severity: 'critical' });
    expect(m!.groupBy).toEqual(['alertname']);
    expect(m!.timings).toEqual({ groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 14_400_000 });
  });
});

describe('compileNotifyConfig', () => {
  it('names an unknown receiver type', () => {
    const bad = { ...base, receivers: [...base.receivers, { name: 'chat', type: 'slack' } as never] };
    expect(() => compileNotifyConfig(bad)).toThrow(NotifyConfigError);
    expect(() => compileNotifyConfig(bad)).toThrow(/receiver "chat": unknown receiver type "slack"/);
  });
  it('names an unknown receiver in a route and an unknown default receiver', () => {
    expect(() => compileNotifyConfig({ ...base, routes: [{ match: [], receivers: ['nope'] }] })).toThrow(/route 1: unknown receiver "nope"/);
    expect(() => compileNotifyConfig({ ...base, defaultReceiver: 'ghost' })).toThrow(/default receiver "ghost"/);
  });
});
