/**
 * Crash test: the notifier runs as a child process and is killed with SIGKILL at random points while
 * 1,000 alert events flow through a real Kafka broker. Every transition must reach the webhook at least
 * once; a duplicate can only come from a kill between send and record, so there are at most as many
 * duplicates as kills, each carrying its original's Idempotency-Key. Without kills: no duplicate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '../../../src/kafka/client.js';
import { alertEventSerde } from '../../../src/model/serde.js';
import { spawnTs, type Child } from '../../support/child-process.js';
import { useStack } from '../../support/stack.js';
import { event } from '../../sinks/notify/fixtures.js';
import { startHttpRecorder, type HttpRecorder } from './servers.js';

const stack = useStack({ partitions: 2 });
const EVENTS = 1000;

interface Run {
  deliveries: Map<string, string[]>;
  kills: number;
}

describe('notifier crash safety', () => {
  let http: HttpRecorder;
  let producer: Producer;
  let dir: string;
  const children: Child[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-notify-crash-'));
    http = await startHttpRecorder();
    producer = createKafka(stack.brokers, 'crash-test').producer();
    await producer.connect();
  });
  afterAll(async () => {
    for (const c of children) await c.stop('SIGKILL');
    await producer?.disconnect();
    await http?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function run(name: string, kills: number): Promise<Run> {
    const topic = `${stack.config.kafka.clientId}.alerts-${name}`;
    await ensureTopics(stack.brokers, [
      { name: topic, partitions: 2 },
      { name: `${topic}.dlq`, partitions: 1 },
      { name: `${topic}.silences`, partitions: 1, compacted: true },
    ]);
    const path = `/hook-${name}`;
    const serde = alertEventSerde({ registry: stack.registryUrl });
    const env = { BROKERS: stack.brokers, REGISTRY: stack.registryUrl, STATE_DIR: join(dir, name), HOOK_URL: `${http.url}${path}`, ALERTS_TOPIC: topic, GROUP_ID: `${stack.config.kafka.clientId}-notify-${name}`, VIGIL_LOG_LEVEL: 'error' };
    const start = async () => {
      const c = spawnTs('test/integration/notify/notifier-child.ts', [], env);
      children.push(c);
      await c.waitFor(/READY/, 60_000);
      return c;
    };
    const received = () => http.requests.filter((r) => r.path === path);

    let produced = 0;
    const produceUpTo = async (limit: number) => {
      while (produced < limit) {
        const batch = [];
        for (let i = 0; i < 25 && produced < limit; i++, produced++) {
          const e = event({ alertname: 'Crash', id: String(produced) }, 'FIRING', { at: Date.now(), fingerprint: `${name}-${String(produced).padStart(4, '0')}` });
          batch.push({ key: e.fingerprint, value: await serde.encode(topic, e) });
        }
        await producer.send({ topic, messages: batch });
      }
    };

    // Events flow in one chunk per notifier lifetime; each lifetime but the last is killed at a random
    // point after it has started delivering its chunk.
    const chunk = Math.ceil(EVENTS / (kills + 1));
    let child = await start();
    for (let k = 0; k <= kills; k++) {
      const seen = received().length;
      await produceUpTo(Math.min(EVENTS, (k + 1) * chunk));
      if (k === kills) break;
      await http.waitFor(() => received().length > seen, 60_000);
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      await child.stop('SIGKILL');
      child = await start();
    }
    const deadline = Date.now() + 60_000;
    while (new Set(received().map((r) => r.body.alerts[0].fingerprint)).size < EVENTS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500)); // late duplicates, if any, would show up here
    await child.stop('SIGTERM');

    const deliveries = new Map<string, string[]>();
    for (const r of received()) {
      expect(r.body.alerts).toHaveLength(1);
      const fp = r.body.alerts[0].fingerprint as string;
      deliveries.set(fp, [...(deliveries.get(fp) ?? []), r.headers['idempotency-key'] as string]);
    }
    return { deliveries, kills };
  }

  it('delivers every transition at least once with at most one duplicate per SIGKILL, same key', async () => {
    const { deliveries, kills } = await run('kills', 5);
    expect(deliveries.size).toBe(EVENTS);
    const duplicated = [...deliveries.values()].filter((keys) => keys.length > 1);
    const extra = duplicated.reduce((n, keys) => n + keys.length - 1, 0);
    process.stdout.write(`crash test: ${kills} SIGKILLs, ${deliveries.size} transitions delivered, ${extra} duplicate deliveries\n`);
    expect(extra).toBeLessThanOrEqual(kills);
    for (const keys of duplicated) expect(new Set(keys).size).toBe(1);
  });

  it('delivers every transition exactly once without kills', async () => {
    const { deliveries } = await run('clean', 0);
    expect(deliveries.size).toBe(EVENTS);
    expect([...deliveries.values()].filter((keys) => keys.length > 1)).toEqual([]);
  });
});
