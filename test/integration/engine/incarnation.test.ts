import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startMockTestStack, testConfig } from '../../support/stack.js';
import { until } from '../../support/until.js';
import { createKafka } from '../../../src/kafka/client.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';
import type { RollupBatch } from '../../../src/model/types.js';
import { collect, fixtureInput, oracle, publish, verify } from '../topology/rollup-fixture.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// On librdkafka's mock: its restart is what makes a new, empty cluster under surviving local state in practice
// (a real cluster keeps its id for life; a recreated topic is the offsets-beyond-end case).
describe('a new embedded Kafka (new cluster incarnation) with surviving LevelDB state', () => {
  it('drops only the stored input offsets: open windows continue, nothing new is skipped', async () => {
    const input = fixtureInput({ sources: 2, perSource: 5, scrapes: 20, partitions: 1 });
    const half = input.length / 2;
    const expected = await oracle(input, 10_000);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-incarnation-'));
    dirs.push(dir);
    const seen = new Map<string, { value: RollupBatch; copies: number; conflicts: number }>();
    const config = testConfig();
    const app = `${config.kafka.clientId}-rollup-1m`;
    for (const part of [input.slice(0, half), input.slice(half)]) {
      const stack = await startMockTestStack({ partitions: 1, config });
      const kafka = createKafka(stack.brokers, 'incarnation-test');
      const out = await collect(kafka, stack.registryUrl, config.topics.rollup1m);
      const engine = new Engine({ config: { ...stack.config, state: { dir } }, modules: [rollupModule({ hourly: false })], embedded: true, httpPort: null, commitIntervalMs: 100 });
      try {
        await engine.start();
        await publish(kafka, stack.registryUrl, part, undefined, config.topics.metrics);
        // offsets restart at 0 on the new cluster: every record must be processed, none skipped
        await until(() => (engine.runtime(app)?.processed ?? 0) === part.length, 60_000, `${part.length} records processed`);
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        await engine.stop();
        await out.stop();
        await stack.stop();
      }
      for (const [id, v] of out.seen) seen.set(id, v);
    }
    expect(verify(expected, seen)).toMatchObject({ missing: 0, different: 0, unexpected: 0, ok: true });
  });
});
