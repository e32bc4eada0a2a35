import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('rules.repartition on a real Kafka broker', () => {
  it('evaluates a group whose sources live on different partitions whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-rep-'));
    dirs.push(dir);
    // Needs both hosts (two sources, two partitions): true only when the group is evaluated whole.
    writeFileSync(join(dir, 'pool.rules'), 'alert PoolBusy { when sum(last(cpu.load) by (host, pool)) by (pool) > 1.2 }\n');
    const kafka = createKafka(stack.brokers, 'rules-rep');
    await publishHotHost(kafka, stack.registryUrl, { pool: 'p1' }, stack.config.topics.metrics);
    const events: AlertEvent[] = [];
    const alerts = alertEventSerde({ registry: stack.registryUrl });
    const consumer = kafka.consumer({ groupId: `rules-rep-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [stack.config.topics.alerts], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void events.push(await alerts.decode(message.value)) });
    const config = { ...stack.config, kafka: { ...stack.config.kafka, partitions: 2 }, state: { dir: join(dir, 'state') }, rules: { ...stack.config.rules, repartition: true } };
    const engine = new Engine({ config, modules: [rulesModule({ watch: false })], rulesPaths: [join(dir, 'pool.rules')], embedded: true, httpPort: null, commitIntervalMs: 200 });
    try {
      await engine.start();
      const end = Date.now() + 60_000;
      while (events.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await engine.stop();
      await consumer.disconnect();
    }
    expect(events.map((e) => [e.alertname, e.transition, e.labels.pool, e.window_end - T0, e.sequence])).toEqual([
      ['PoolBusy', 'FIRING', 'p1', 180_000, 1],
      ['PoolBusy', 'RESOLVED', 'p1', 420_000, 2],
    ]);
  }, 120_000);
});
