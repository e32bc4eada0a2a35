import { describe, expect, it } from 'vitest';
import type { NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import type { AlertNotification } from '../../../src/sinks/notify/notification.js';
import { event, makeCore, webhook } from './fixtures.js';

const S = 1000;
const M = 60 * S;
const config: NotifyConfig = {
  receivers: [webhook('ops')],
  routes: [{ match: [], receivers: ['ops'], groupBy: ['pool'], groupWaitMs: 30 * S, groupIntervalMs: 5 * M, repeatIntervalMs: 60 * M }],
  inhibits: [],
};

const sentAlerts = (n: unknown) => (n as AlertNotification).alerts.map((a) => `${a.labels.host}:${a.transition}`);

describe('grouping timers on a simulated clock', () => {
  it('waits group_wait, batches the group, then flushes changes every group_interval', async () => {
    const { core, receivers } = makeCore(config);
    const ops = receivers.get('ops')!;
    await core.ingest([event({ pool: 'a', host: 'h1' }, 'FIRING', { at: 0 })], 0);
    await core.tick(10 * S);
    await core.ingest([event({ pool: 'a', host: 'h2' }, 'FIRING', { at: 10 * S })], 10 * S);
    await core.ingest([event({ pool: 'b', host: 'h3' }, 'FIRING', { at: 10 * S })], 10 * S);
    await core.tick(29 * S);
    expect(ops.sent).toHaveLength(0);
    await core.tick(30 * S);
    expect(ops.sent.map(sentAlerts)).toEqual([['h1:FIRING', 'h2:FIRING']]);
    await core.tick(40 * S);
    expect(ops.sent.map(sentAlerts)).toEqual([['h1:FIRING', 'h2:FIRING'], ['h3:FIRING']]);

    // a new alert in pool a waits for the group_interval tick (30s + 5m)
    await core.ingest([event({ pool: 'a', host: 'h4' }, 'FIRING', { at: 60 * S })], 60 * S);
    await core.tick(5 * M);
    expect(ops.sent).toHaveLength(2);
    await core.tick(30 * S + 5 * M);
    expect(sentAlerts(ops.sent[2])).toEqual(['h1:FIRING', 'h2:FIRING', 'h4:FIRING']);
    expect((ops.sent[2] as AlertNotification).reason).toBe('new alerts in group');

    // nothing changed at the next interval: no notification
    await core.tick(30 * S + 10 * M);
    expect(ops.sent).toHaveLength(3);
  });

  it('repeats after repeat_interval, on a group_interval tick', async () => {
    const { core, receivers } = makeCore(config);
    const ops = receivers.get('ops')!;
    await core.ingest([event({ pool: 'a', host: 'h1' }, 'FIRING', { at: 0 })], 0);
    await core.tick(30 * S);
    for (let t = 30 * S + 5 * M; t < 30 * S + 60 * M; t += 5 * M) await core.tick(t);
    expect(ops.sent).toHaveLength(1);
    await core.tick(30 * S + 60 * M);
    expect(ops.sent).toHaveLength(2);
    expect((ops.sent[1] as AlertNotification).reason).toBe('repeat interval elapsed');
    expect(ops.sent[1]!.key).not.toBe(ops.sent[0]!.key);
  });

  it('sends resolved alerts once, then drops them; an empty group disappears', async () => {
    const { core, receivers } = makeCore(config);
    const ops = receivers.get('ops')!;
    const fire = event({ pool: 'a', host: 'h1' }, 'FIRING', { at: 0 });
    await core.ingest([fire, event({ pool: 'a', host: 'h2' }, 'FIRING', { at: 0 })], 0);
    await core.tick(30 * S);
    await core.ingest([event({ pool: 'a', host: 'h1' }, 'RESOLVED', { at: M, sequence: 2 })], M);
    await core.tick(30 * S + 5 * M);
    expect(sentAlerts(ops.sent[1])).toEqual(['h1:RESOLVED', 'h2:FIRING']);
    expect((ops.sent[1] as AlertNotification).reason).toBe('new resolved alerts');
    await core.ingest([event({ pool: 'a', host: 'h2' }, 'RESOLVED', { at: 6 * M, sequence: 2 })], 6 * M);
    await core.tick(30 * S + 10 * M);
    expect(sentAlerts(ops.sent[2])).toEqual(['h2:RESOLVED']);
    expect((ops.sent[2] as AlertNotification).reason).toBe('all alerts resolved');
    expect(core.groups.size).toBe(0);
  });

  it('flushes at once when the first alert is older than group_wait (replay after downtime)', async () => {
    const { core, receivers } = makeCore(config);
    await core.ingest([event({ pool: 'a', host: 'h1' }, 'FIRING', { at: 0 })], 10 * M);
    await core.tick(10 * M);
    expect(receivers.get('ops')!.sent).toHaveLength(1);
  });

  it('treats an escalation as a change and ignores replayed older sequences', async () => {
    const { core, receivers } = makeCore({ ...config, routes: [{ ...config.routes[0]!, groupWaitMs: 0 }] });
    const ops = receivers.get('ops')!;
    await core.ingest([event({ pool: 'a', host: 'h1', severity: 'warning' }, 'FIRING', { at: 0, fingerprint: 'f1' })], 0);
    await core.tick(0);
    const again = await core.ingest([event({ pool: 'a', host: 'h1', severity: 'warning' }, 'FIRING', { at: 0, fingerprint: 'f1' })], S);
    expect(again.accepted).toBe(0);
    await core.ingest([event({ pool: 'a', host: 'h1', severity: 'critical' }, 'ESCALATED', { at: 0, fingerprint: 'f1', sequence: 2 })], M);
    await core.tick(5 * M);
    expect(ops.sent.map(sentAlerts)).toEqual([['h1:FIRING'], ['h1:ESCALATED']]);
  });

  it('keeps groups per receiver for routes with several receivers and continue', async () => {
    const { core, receivers } = makeCore({
      receivers: [webhook('a'), webhook('b')],
      routes: [
        { match: [{ name: 'severity', op: '=', value: 'critical' }], receivers: ['a'], continue: true, groupWaitMs: 0 },
        { match: [], receivers: ['b'], groupWaitMs: 0 },
      ],
      inhibits: [],
    });
    await core.ingest([event({ severity: 'critical', host: 'x' })], 0);
    await core.tick(0);
    expect(receivers.get('a')!.sent).toHaveLength(1);
    expect(receivers.get('b')!.sent).toHaveLength(1);
  });
});
