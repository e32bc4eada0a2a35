import { describe, expect, it } from 'vitest';
import { NotifierStore } from '../../../src/sinks/notify/notifier-store.js';
import { needsUpdate } from '../../../src/sinks/notify/dedup.js';
import { backoffDelay } from '../../../src/sinks/notify/retry-stage.js';
import type { NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import type { Notification } from '../../../src/sinks/notify/notification.js';
import { event, makeCore, MemoryTaskStorage, webhook } from './fixtures.js';

const config: NotifyConfig = {
  receivers: [webhook('ops')],
  routes: [{ match: [], receivers: ['ops'], groupBy: ['host'], groupWaitMs: 0, groupIntervalMs: 60_000, repeatIntervalMs: 3_600_000 }],
  inhibits: [],
};

describe('needsUpdate (dedup stage)', () => {
  const base = { sendResolved: true, repeatIntervalMs: 100, allFiringAcked: false, now: 1000 };
  it('follows Alertmanager', () => {
    expect(needsUpdate({ ...base, last: null, firing: ['a'], resolved: [] })).toBe('first notification');
    expect(needsUpdate({ ...base, last: null, firing: [], resolved: ['a'] })).toBeNull();
    const last = { firing: ['a'], resolved: [], at: 950 };
    expect(needsUpdate({ ...base, last, firing: ['a'], resolved: [] })).toBeNull();
    expect(needsUpdate({ ...base, last, firing: ['a', 'b'], resolved: [] })).toBe('new alerts in group');
    expect(needsUpdate({ ...base, last, firing: [], resolved: ['a2'] })).toBe('all alerts resolved');
    expect(needsUpdate({ ...base, last, firing: ['b'], resolved: ['a2'] })).toBe('new alerts in group');
    expect(needsUpdate({ ...base, last: { ...last, firing: ['a', 'b'] }, firing: ['b'], resolved: ['a2'] })).toBe('new resolved alerts');
    expect(needsUpdate({ ...base, last: { ...last, at: 900 }, firing: ['a'], resolved: [] })).toBe('repeat interval elapsed');
    expect(needsUpdate({ ...base, allFiringAcked: true, last: { ...last, at: 900 }, firing: ['a'], resolved: [] })).toBeNull();
    expect(needsUpdate({ ...base, last, firing: [], resolved: [] })).toBeNull();
  });
  it('backs off exponentially with jitter under a cap', () => {
    const o = { maxAttempts: 9, baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, o, () => 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, o, () => 0)).toBe(0);
  });
});

describe('delivery log', () => {
  it('records each delivered transition by event id + receiver with the idempotency key', async () => {
    const storage = new MemoryTaskStorage();
    const { core, receivers } = makeCore(config, { storage });
    const e = event({ host: 'a' });
    await core.ingest([e], 0);
    await core.tick(0);
    const sent = receivers.get('ops')!.sent[0]!;
    const store = new NotifierStore(storage);
    expect(await store.delivery(e.event_id, 'ops')).toEqual({ key: sent.key, at: 0, outcome: 'sent', attempts: 1 });
    expect(await store.delivery(e.event_id, 'other')).toBeUndefined();
  });

  it('after a crash between send and record resends exactly that notification with the same key', async () => {
    const data = new Map<string, Buffer>();
    const first = makeCore(config, { storage: new MemoryTaskStorage(data) });
    const delivered: Notification[] = [];
    // The process "dies" right after the receiver got the notification: send never returns.
    first.receivers.get('ops')!.send = async (n) => {
      delivered.push(n);
      return new Promise(() => undefined);
    };
    await first.core.ingest([event({ host: 'a' }), event({ host: 'b' })], 0);
    void first.core.tick(0);
    await new Promise((r) => setImmediate(r));
    // One send at a time: the second notification waits for the first to be recorded.
    expect(delivered).toHaveLength(1);

    const second = makeCore(config, { storage: new MemoryTaskStorage(data) });
    await second.core.open();
    expect(await second.core.resendPending(1000)).toBe(2);
    const resent = second.receivers.get('ops')!.sent;
    expect(resent).toHaveLength(2);
    // exactly one duplicate, with the original's key
    expect(resent.filter((n) => n.key === delivered[0]!.key)).toHaveLength(1);
    // the groups now know they were notified: no further sends
    for (let t = 1000; t < 600_000; t += 60_000) await second.core.tick(t);
    expect(resent).toHaveLength(2);

    const third = makeCore(config, { storage: new MemoryTaskStorage(data) });
    await third.core.open();
    expect(await third.core.resendPending(2000)).toBe(0);
    await third.core.tick(2000);
    expect(third.receivers.get('ops')!.sent).toHaveLength(0);
  });

  it('keeps ingested events across a restart (durable scheduling before the offset commit)', async () => {
    const data = new Map<string, Buffer>();
    const first = makeCore({ ...config, routes: [{ ...config.routes[0]!, groupWaitMs: 30_000 }] }, { storage: new MemoryTaskStorage(data) });
    await first.core.ingest([event({ host: 'a' }, 'FIRING', { at: 0 })], 0);
    const second = makeCore({ ...config, routes: [{ ...config.routes[0]!, groupWaitMs: 30_000 }] }, { storage: new MemoryTaskStorage(data) });
    await second.core.open();
    expect(second.core.nextWakeup(1000)).toBe(30_000);
    await second.core.tick(30_000);
    expect(second.receivers.get('ops')!.sent).toHaveLength(1);
    // a replay of the same event after the restart is ignored
    expect((await second.core.ingest([event({ host: 'a' }, 'FIRING', { at: 0 })], 31_000)).accepted).toBe(0);
  });
});

describe('retry stage', () => {
  it('retries retryable failures then succeeds; gives up into the dead-letter sink', async () => {
    const { core, receivers, dead } = makeCore(config, { maxAttempts: 3 });
    const ops = receivers.get('ops')!;
    ops.failures = [{ retryable: true, error: new Error('HTTP 500') }, { retryable: true, error: new Error('HTTP 500') }];
    await core.ingest([event({ host: 'a' })], 0);
    await core.tick(0);
    expect(ops.sent).toHaveLength(1);
    expect(dead).toHaveLength(0);

    ops.failures = [1, 2, 3].map(() => ({ retryable: true, error: new Error('HTTP 503') }));
    await core.ingest([event({ host: 'b' })], 1);
    await core.tick(1);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toBe('gave up after 3 attempts: HTTP 503');

    ops.failures = [{ retryable: false, error: new Error('HTTP 400') }];
    await core.ingest([event({ host: 'c' })], 2);
    await core.tick(2);
    expect(dead[1]!.reason).toBe('not retryable: HTTP 400');
    expect(core.historyOf('host=c').at(-1)).toMatchObject({ type: 'notification', outcome: 'dlq', attempts: 1 });
  });
});
