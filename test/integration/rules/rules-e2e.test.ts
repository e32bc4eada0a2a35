import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from '../../support/stack.js';
import { createKafka } from '../../../src/kafka/client.js';
import { Engine } from '../../../src/engine/engine.js';
import { rulesModule } from '../../../src/rules/rules-engine-module.js';
import { alertEventSerde } from '../../../src/model/serde.js';
import type { AlertEvent } from '../../../src/model/types.js';
import { publishHotHost, T0 } from './hot-host.js';

const stack = useStack({ partitions: 2 });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function runScenario(rulesText: string, repartition: boolean, wanted: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-e2e-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'fleet.rules'), rulesText);
  const kafka = createKafka(stack.brokers, 'rules-e2e');
  await publishHotHost(kafka, stack.registryUrl, { pool: 'p1', env: 'prod' }, stack.config.topics.metrics);

  const events: { key: string; value: AlertEvent }[] = [];
  const alerts = alertEventSerde({ registry: stack.registryUrl });
  const consumer = kafka.consumer({ groupId: `rules-e2e-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [stack.config.topics.alerts], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void events.push({ key: message.key!.toString(), value: await alerts.decode(message.value) }) });
  const config = { ...stack.config, state: { dir: join(dir, 'state') }, rules: { ...stack.config.rules, repartition } };
  const engine = new Engine({ config, modules: [rulesModule({ watch: false })], rulesPaths: [join(dir, 'fleet.rules')], embedded: true, httpPort: 0, commitIntervalMs: 200 });
  let api: { alerts: { alertname: string; phase: string }[] } = { alerts: [] };
  try {
    await engine.start();
    const end = Date.now() + 60_000;
    while (events.length < wanted && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    api = (await (await fetch(`${engine.url()}/api/alerts`)).json()) as typeof api;
  } finally {
    await engine.stop();
    await consumer.disconnect();
  }
  const of = (name: string) => events.filter((e) => e.value.alertname === name).map((e) => [e.value.transition, e.value.labels.host ?? e.value.labels.pool, e.value.window_end - T0, e.value.sequence]);
  return { events, api, of };
}

const HOST_HOT = 'alert HostHot {\n  when max(cpu.load) by (host) > 0.9\n  window 1m\n  for 2m\n  severity critical\n}\n';

describe('rules in vigil run on a real Kafka broker + schema registry', () => {
  it('a CPU fault produces one FIRING and one RESOLVED event on alerts, keyed by fingerprint', async () => {
    const { events, api, of } = await runScenario(HOST_HOT, false, 2);
    expect(api.alerts).toContainEqual(expect.objectContaining({ alertname: 'HostHot', phase: 'resolved' }));
    expect(of('HostHot')).toEqual([
      ['FIRING', 'a', 300_000, 1],
      ['RESOLVED', 'a', 420_000, 2],
    ]);
    expect(events.every((e) => e.key === e.value.fingerprint)).toBe(true);
    expect(new Set(events.map((e) => e.value.event_id)).size).toBe(2);
  }, 120_000);

});
