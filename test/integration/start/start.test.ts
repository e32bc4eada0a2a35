/**
 * `vigil start` end to end (the demo as `npm start` runs it, in a temporary directory): the first
 * e-mail lands in ./data/outbox and the alert shows on /api/v1/alerts; SIGTERM stops it cleanly
 * (exit 0); a second start in the same directory resumes from the state it left (the embedded broker's
 * topics and offsets in ./data/kafka, the schema ids, the engine's state, the fleet's position) and sends no
 * new firing notification for the alert that is still firing.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailedAlerts, startDir, startVigil, topicKeys, waitFor, type RunningVigil } from './vigil-start.js';

interface ApiAlert {
  fingerprint: string;
  state: string;
  labels: Record<string, string>;
}

let dir: string;
let running: RunningVigil | undefined;

beforeAll(() => {
  dir = startDir();
});

afterAll(async () => {
  await running?.stop(5_000);
  // A broker killed with its parent may still be writing its last files for a moment.
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
});

const firing = async (v: RunningVigil) => ((await v.get<{ data: { alerts: ApiAlert[] } }>('/api/v1/alerts')).data.alerts).filter((a) => a.state === 'firing');

describe('vigil start', () => {
  it('fires and mails an alert, stops cleanly on SIGTERM, and resumes without re-firing it', async () => {
    const t0 = Date.now();
    running = await startVigil(dir);
    const first = running;
    expect(first.stdout()).toMatch(/^KAFKA_BROKERS=\S+\nSCHEMA_REGISTRY_URL=http:\S+\n/);

    // The first e-mail of an alert that /api/v1/alerts lists as firing.
    const alert = await waitFor(
      'a mailed alert that /api/v1/alerts lists as firing',
      async () => {
        const mailed = (await mailedAlerts(dir)).filter((m) => m.status === 'FIRING');
        const now = await firing(first);
        return now.find((a) => mailed.some((m) => m.fingerprint === a.fingerprint));
      },
      100_000,
    );
    const firstMailAt = Date.now() - t0;
    const mailsOf = async () => (await mailedAlerts(dir)).filter((m) => m.status === 'FIRING' && m.fingerprint === alert.fingerprint);
    const before = await mailsOf();
    expect(before.length).toBe(1);

    const brokers = /^KAFKA_BROKERS=(\S+)$/m.exec(first.stdout())![1]!;
    const registry = /^SCHEMA_REGISTRY_URL=(\S+)$/m.exec(first.stdout())![1]!;
    const schemaId = async (url: string) => ((await (await fetch(`${url}/subjects/metrics-value/versions/latest`)).json()) as { id: number }).id;
    const firstSchemaId = await schemaId(registry);
    // The alert's events of the first run, which the embedded broker keeps in ./data/kafka.
    const eventsBefore = (await topicKeys(brokers, 'alerts')).filter((k) => k === alert.fingerprint).length;

    const code = await first.stop();
    expect(code, first.stderr().slice(-3000)).toBe(0);
    expect(first.stderr()).toMatch(/vigil start: stopping: SIGTERM\n(.*\n)*vigil start: stopped\n$/);
    running = undefined;
    const stoppedAt = Date.now() - t0;

    // Same directory: the broker finds its topics and offsets again, the engine its state, the notifier
    // its delivery log, the registry its schemas, the fleet where it left off.
    const restartedAt = Date.now();
    running = await startVigil(dir);
    const second = running;
    await waitFor('the fleet to continue where it left off', () => (/fleet: continuing the fleet of the previous run after/.test(second.stderr()) ? true : undefined), 30_000, 200);
    const secondRegistry = /^SCHEMA_REGISTRY_URL=(\S+)$/m.exec(second.stdout())![1]!;
    expect(await schemaId(secondRegistry)).toBe(firstSchemaId);
    await waitFor(`${alert.labels.alertname} ${alert.fingerprint} firing again after the restart`, async () => ((await firing(second)).some((a) => a.fingerprint === alert.fingerprint) ? true : undefined), 90_000);
    const refiringAt = Date.now() - t0;
    // Longer than the route's group_wait (30 s), so a re-fired alert would have been mailed by now.
    await new Promise((r) => setTimeout(r, 45_000));
    expect((await firing(second)).map((a) => a.fingerprint)).toContain(alert.fingerprint);
    const history = await second.get<{ history: Array<{ type: string; at: number; transition?: string; receiver?: string }> }>(`/api/v1/alerts/${alert.fingerprint}/history`);
    const after = await mailsOf();
    expect(after.map((m) => m.file), JSON.stringify(history.history, null, 1)).toEqual(before.map((m) => m.file));
    // The rules engine did not emit the alert again either (the notifier records every transition it takes in).
    const transitions = history.history.filter((h) => h.type === 'transition');
    expect(transitions.length, JSON.stringify(transitions)).toBeGreaterThan(0);
    expect(transitions.filter((h) => h.at >= restartedAt), JSON.stringify(transitions)).toEqual([]);
    // ... and the alerts topic (the same cluster, resumed) holds no new event of it.
    const secondBrokers = /^KAFKA_BROKERS=(\S+)$/m.exec(second.stdout())![1]!;
    expect(eventsBefore).toBeGreaterThan(0);
    expect((await topicKeys(secondBrokers, 'alerts')).filter((k) => k === alert.fingerprint).length).toBe(eventsBefore);
    // Nor did it reach the pager (the log) or another receiver: one notification per receiver in all.
    const notifications = history.history.filter((h) => h.type === 'notification');
    expect(new Set(notifications.map((n) => n.receiver)).size, JSON.stringify(notifications)).toBe(notifications.length);

    const code2 = await second.stop();
    running = undefined;
    expect(code2, second.stderr().slice(-3000)).toBe(0);
    console.log(`vigil start: first e-mail after ${firstMailAt} ms, stopped at ${stoppedAt} ms, firing again at ${refiringAt} ms, done at ${Date.now() - t0} ms`);
  }, 240_000);
});
