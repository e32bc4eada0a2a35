import { describe, expect, it } from 'vitest';
import { NotifierStore } from '../../../src/sinks/notify/notifier-store.js';
import type { NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import { event, makeCore, MemoryTaskStorage, webhook } from './fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const config: NotifyConfig = {
  receivers: [webhook('ops')],
  routes: [{ match: [], receivers: ['ops'], groupBy: ['host'], groupWaitMs: 0, groupIntervalMs: 60_000, repeatIntervalMs: 30 * DAY }],
  inhibits: [],
};
const keysOf = (data: Map<string, Buffer>, prefix: string) => [...data.keys()].filter((k) => k.startsWith(prefix));

describe('notifier retention (prune)', () => {
  it('forgets deliveries, history and alerts resolved before the retention, and keeps the rest', async () => {
    const data = new Map<string, Buffer>();
    const { core, receivers } = makeCore(config, { storage: new MemoryTaskStorage(data) });
    // "old" fires and resolves on day 0; "live" fires on day 0 and is still firing; "recent" resolves on day 9.
    await core.ingest([event({ host: 'old' }, 'FIRING', { at: 0 }), event({ host: 'live' }, 'FIRING', { at: 0 })], 0);
    await core.tick(0);
    await core.ingest([event({ host: 'old' }, 'RESOLVED', { sequence: 2, at: HOUR })], HOUR);
    await core.tick(HOUR);
    await core.ingest([event({ host: 'recent' }, 'FIRING', { at: 9 * DAY })], 9 * DAY);
    await core.tick(9 * DAY);
    await core.ingest([event({ host: 'recent' }, 'RESOLVED', { sequence: 2, at: 9 * DAY + HOUR })], 9 * DAY + HOUR);
    await core.tick(9 * DAY + HOUR);
    expect(receivers.get('ops')!.sent).toHaveLength(5);
    expect(keysOf(data, 'd/')).toHaveLength(5);
    expect(keysOf(data, 'h/')).toHaveLength(10); // a transition and a notification entry per send

    const counts = await core.prune(10 * DAY, 7 * DAY);

    // Day-0 deliveries (old firing, old resolved, live firing) and their history entries are gone.
    expect(counts).toEqual({ deliveries: 3, history: 6, alerts: 1 });
    expect(keysOf(data, 'd/')).toHaveLength(2);
    expect(keysOf(data, 'h/')).toHaveLength(4);
    expect(keysOf(data, 'a/').sort()).toEqual(['a/host=live', 'a/host=recent']);
    expect(core.currentAlerts(10 * DAY).map((a) => a.alert.fingerprint).sort()).toEqual(['host=live', 'host=recent']);
    expect(core.historyOf('host=old')).toEqual([]);
    expect(core.historyOf('host=live')).toEqual([]);
    expect(core.historyOf('host=recent')).toHaveLength(4);

    // A restart loads what is left, and a replay of the live alert's first transition is still a replay.
    const again = makeCore(config, { storage: new MemoryTaskStorage(data) });
    await again.core.open();
    expect((await again.core.ingest([event({ host: 'live' }, 'FIRING', { at: 0 })], 10 * DAY)).accepted).toBe(0);
  });

  it('keeps a resolved alert that still waits in a group for its resolved notification', async () => {
    const { core } = makeCore(config);
    await core.ingest([event({ host: 'a' }, 'FIRING', { at: 0 })], 0);
    await core.tick(0);
    await core.ingest([event({ host: 'a' }, 'RESOLVED', { sequence: 2, at: HOUR })], HOUR);
    // No tick: the resolved notification is not sent yet, so the alert is still in its group.
    expect((await core.prune(30 * DAY, 7 * DAY)).alerts).toBe(0);
    expect(core.alert('host=a')?.transition).toBe('RESOLVED');
  });

  it('keeps only the newest history entries of each alert on disk', async () => {
    const data = new Map<string, Buffer>();
    const { core } = makeCore(config, { storage: new MemoryTaskStorage(data) });
    const events = Array.from({ length: 260 }, (_, i) =>
      event({ host: 'flappy' }, i % 2 ? 'RESOLVED' : 'FIRING', { sequence: i + 1, at: i * 1000 }),
    );
    for (const [i, e] of events.entries()) await core.ingest([e], i * 1000);
    expect(keysOf(data, 'h/')).toHaveLength(260);

    const counts = await core.prune(300_000, 7 * DAY);

    expect(counts.history).toBe(60);
    expect(keysOf(data, 'h/')).toHaveLength(200);
    const store = new NotifierStore(new MemoryTaskStorage(data));
    const loaded = await store.load();
    expect(loaded.history.get('host=flappy')!.map((h) => h.at)[0]).toBe(60_000);
  });
});
