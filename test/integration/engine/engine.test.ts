import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from '../../support/stack.js';
import { createKafka } from '../../../src/kafka/client.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';
import { collect, fixtureInput, oracle, publish, verify } from '../topology/rollup-fixture.js';

const stack = useStack({ partitions: 2 });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('engine (vigil run) on a real Kafka broker', () => {
  it('rolls up metrics into metrics.rollup.1m exactly like the test driver, serves /metrics and /healthz', async () => {
    const input = fixtureInput({ sources: 4, perSource: 10, scrapes: 20, partitions: 2 });
    const expected = await oracle(input, 10_000);
    const kafka = createKafka(stack.brokers, 'engine-test');
    await publish(kafka, stack.registryUrl, input, undefined, stack.config.topics.metrics);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-engine-'));
    dirs.push(dir);
    const engine = new Engine({ config: { ...stack.config, state: { dir } }, modules: [rollupModule({ hourly: false })], embedded: true, httpPort: 0, commitIntervalMs: 200 });
    const out = await collect(kafka, stack.registryUrl, stack.config.topics.rollup1m);
    try {
      await engine.start();
      expect(await out.waitFor(expected.size, 60_000)).toBe(true);
      const metrics = await (await fetch(`${engine.url()}/metrics`)).text();
      expect(metrics).toContain(`vigil_topology_records_total{topology="${stack.config.kafka.clientId}-rollup-1m"} 80`);
      expect(metrics).toMatch(/vigil_commit_duration_seconds_count/);
      expect((await fetch(`${engine.url()}/healthz`)).status).toBe(200);
    } finally {
      await engine.stop();
      await out.stop();
    }
    expect(verify(expected, out.seen)).toMatchObject({ missing: 0, different: 0, unexpected: 0, conflicting_duplicates: 0, ok: true });
  });
});
