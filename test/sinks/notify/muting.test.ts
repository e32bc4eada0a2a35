import { describe, expect, it } from 'vitest';
import type { NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import type { AlertNotification, SilenceNotice } from '../../../src/sinks/notify/notification.js';
import { parseSilenceRequest, silenceState } from '../../../src/sinks/notify/silences.js';
import { RequestValidationError } from '../../../src/sinks/notify/errors.js';
import { parseAckRequest } from '../../../src/sinks/notify/acks.js';
import { event, makeCore, webhook } from './fixtures.js';

const S = 1000;
const M = 60 * S;
const config: NotifyConfig = {
  receivers: [webhook('ops')],
  routes: [{ match: [], receivers: ['ops'], groupBy: ['host'], groupWaitMs: 0, groupIntervalMs: M, repeatIntervalMs: 10 * M }],
  inhibits: [
    { source: [{ name: 'severity', op: '=', value: 'critical' }], target: [{ name: 'severity', op: '=', value: 'warning' }], equal: ['host'] },
  ],
};
const alerts = (n: unknown) => (n as AlertNotification).alerts.map((a) => `${a.labels.host}/${a.labels.severity}:${a.transition}`);

describe('inhibition', () => {
  it('a firing source mutes targets sharing the equal labels, and stops when it resolves', async () => {
    const { core, receivers } = makeCore(config);
    const ops = receivers.get('ops')!;
    await core.ingest([event({ host: 'a', alertname: 'Down', severity: 'critical' }, 'FIRING', { fingerprint: 'src' })], 0);
    await core.ingest(
      [
        event({ host: 'a', alertname: 'Slow', severity: 'warning' }, 'FIRING', { fingerprint: 't1' }),
        event({ host: 'b', alertname: 'Slow', severity: 'warning' }, 'FIRING', { fingerprint: 't2' }),
      ],
      0,
    );
    await core.tick(0);
    expect(ops.sent.map(alerts).sort()).toEqual([['a/critical:FIRING'], ['b/warning:FIRING']]);
    expect(core.historyOf('t1').some((h) => h.type === 'muted' && h.by === 'inhibited by src')).toBe(true);

    await core.ingest([event({ host: 'a', alertname: 'Down', severity: 'critical' }, 'RESOLVED', { fingerprint: 'src', sequence: 2 })], 10 * S);
    await core.tick(M);
    expect(ops.sent.slice(2).map(alerts)).toEqual([['a/critical:RESOLVED', 'a/warning:FIRING']]);
  });

  it('an alert does not inhibit itself', async () => {
    const { core, receivers } = makeCore({
      ...config,
      inhibits: [{ source: [{ name: 'alertname', op: '=', value: 'X' }], target: [{ name: 'alertname', op: '=', value: 'X' }], equal: [] }],
    });
    await core.ingest([event({ host: 'a', alertname: 'X' })], 0);
    await core.tick(0);
    expect(receivers.get('ops')!.sent).toHaveLength(1);
  });
});

describe('silences', () => {
  const silence = (now: number, endsAt: number, matchers = [{ name: 'host', value: 'a', isRegex: false }]) =>
    parseSilenceRequest({ matchers, endsAt, createdBy: 'alice', comment: 'maintenance <b>' }, now);

  it('validates requests naming the wrong field', () => {
    const ok = { matchers: [{ name: 'host', op: '=', value: 'a' }], endsAt: 10 * M, createdBy: 'alice', comment: 'c' };
    const field = (body: unknown) => {
      try {
        parseSilenceRequest(body, 0);
      } catch (err) {
        expect(err).toBeInstanceOf(RequestValidationError);
        return (err as RequestValidationError).field;
      }
      return 'none';
    };
    expect(field(ok)).toBe('none');
    expect(field({ ...ok, matchers: [] })).toBe('matchers');
    expect(field({ ...ok, matchers: [{ name: '1x', value: 'a' }] })).toBe('matchers[0].name');
    expect(field({ ...ok, matchers: [{ name: 'x', op: '=~', value: '(' }] })).toBe('matchers[0].value');
    expect(field({ ...ok, matchers: [{ name: 'x', op: '<', value: 'a' }] })).toBe('matchers[0].op');
    expect(field({ ...ok, matchers: [{ name: 'x', op: '=~', value: '.*' }] })).toBe('matchers');
    expect(field({ ...ok, endsAt: 'soon' })).toBe('endsAt');
    expect(field({ ...ok, startsAt: 20 * M })).toBe('endsAt');
    expect(field({ ...ok, createdBy: '' })).toBe('createdBy');
    expect(field({ ...ok, comment: undefined })).toBe('comment');
    expect(field([])).toBe('body');
    expect(silenceState(parseSilenceRequest({ ...ok, startsAt: new Date(5 * M).toISOString() }, 0), 0)).toBe('pending');
  });

  it('mutes matching alerts, announces creation and expiry, and re-notifies still-firing alerts when it ends', async () => {
    const { core, receivers } = makeCore({ ...config, receivers: [{ name: 'ops', type: 'email', to: ['ops@example.com'] }] });
    const ops = receivers.get('ops')!;
    await core.ingest([event({ host: 'a', alertname: 'Slow' }, 'FIRING', { fingerprint: 'fa' })], 0);
    await core.tick(0);
    expect(ops.sent).toHaveLength(1);
    const s = silence(S, 5 * M);
    core.applySilence(s, S);
    expect(core.nextWakeup(S)).toBe(S);
    await core.tick(S);
    expect((ops.sent[1] as SilenceNotice).kind).toBe('silence');
    expect((ops.sent[1] as SilenceNotice).action).toBe('created');
    expect((ops.sent[1] as SilenceNotice).alerts.map((a) => a.fingerprint)).toEqual(['fa']);
    // repeat interval passes while silenced: nothing
    await core.ingest([event({ host: 'a', alertname: 'Slow', severity: 'critical' }, 'ESCALATED', { fingerprint: 'fa', sequence: 2 })], 2 * M);
    for (let t = 2 * M; t < 5 * M; t += M) await core.tick(t);
    expect(ops.sent).toHaveLength(2);
    expect(core.nextWakeup(4 * M)).toBeLessThanOrEqual(5 * M);
    await core.tick(5 * M);
    const kinds = ops.sent.slice(2).map((n) => (n.kind === 'silence' ? `silence:${n.action}` : `alerts:${alerts(n).join()}`));
    expect(kinds.sort()).toEqual(['alerts:a/critical:ESCALATED', 'silence:expired']);
  });

  it('sends the resolution of an alert that resolved while silenced (configurable)', async () => {
    for (const notifyResolvedWhileSilenced of [true, false]) {
      const { core, receivers } = makeCore(config, { notifyResolvedWhileSilenced });
      const ops = receivers.get('ops')!;
      await core.ingest([event({ host: 'a' }, 'FIRING', { fingerprint: 'fa' })], 0);
      await core.tick(0);
      core.applySilence(silence(S, 60 * M), S);
      await core.ingest([event({ host: 'a' }, 'RESOLVED', { fingerprint: 'fa', sequence: 2 })], 2 * S);
      await core.tick(M);
      const resolved = ops.sent.filter((n) => n.kind === 'alerts' && alerts(n).includes('a/undefined:RESOLVED'));
      expect(resolved).toHaveLength(notifyResolvedWhileSilenced ? 1 : 0);
      expect(core.groups.size).toBe(0);
    }
  });
});

describe('acknowledgements', () => {
  it('validates ack requests', () => {
    expect(() => parseAckRequest({ author: 'x' })).toThrow(/"fingerprint"/);
    expect(() => parseAckRequest({ fingerprint: 'f', author: ' ' })).toThrow(/"author"/);
    expect(() => parseAckRequest({ fingerprint: 'f', author: 'bob', comment: 3 })).toThrow(/"comment"/);
    expect(parseAckRequest({ fingerprint: 'f', author: 'bob' })).toEqual({ fingerprint: 'f', author: 'bob', comment: '' });
  });

  it('stops repeats for the acknowledged transition until the alert changes', async () => {
    const { core, receivers } = makeCore(config);
    const ops = receivers.get('ops')!;
    await core.ingest([event({ host: 'a', severity: 'warning' }, 'FIRING', { fingerprint: 'fa' })], 0);
    await core.tick(0);
    expect(() => core.makeAck('nope', 'bob', '', S)).toThrow(/"fingerprint"/);
    await core.applyAck(core.makeAck('fa', 'bob', 'on it', S), S, true);
    expect(ops.sent.map((n) => n.kind)).toEqual(['alerts', 'ack']); // the recorder accepts ack notices
    const before = ops.sent.length;
    for (let t = M; t <= 30 * M; t += M) await core.tick(t);
    expect(ops.sent.length).toBe(before);
    await core.ingest([event({ host: 'a', severity: 'critical' }, 'ESCALATED', { fingerprint: 'fa', sequence: 2 })], 31 * M);
    await core.tick(31 * M);
    expect(alerts(ops.sent.at(-1))).toEqual(['a/critical:ESCALATED']);
    expect(core.historyOf('fa').map((h) => h.type)).toEqual(['transition', 'notification', 'ack', 'notification', 'transition', 'notification']);
  });
});
