import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from '../../support/stack.js';
import { until } from '../../support/until.js';
import { createKafka } from '../../../src/kafka/client.js';
import { Engine } from '../../../src/engine/engine.js';
import { rollupModule } from '../../../src/engine/rollup-module.js';
import { metricsRegistry } from '../../../src/obs/metrics.js';
import { collect, fixtureInput, oracle, publish, verify } from '../topology/rollup-fixture.js';

const stack = useStack({ partitions: 2 });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function restoredRecords(): Promise<number> {
  const m = await metricsRegistry.getSingleMetric('vigil_changelog_restored_records_total')?.get();
  return (m?.values ?? []).reduce((n, v) => n + v.value, 0);
}

async function restores(mode: 'tail' | 'full'): Promise<number> {
  const m = await metricsRegistry.getSingleMetric('vigil_changelog_restores_total')?.get();
  return (m?.values ?? []).filter((v) => v.labels.mode === mode).reduce((n, v) => n + v.value, 0);
}

describe('two engine instances in one group', () => {
  it('share partitions; when one stops the other restores its tasks from the changelog and goes on with identical results', async () => {
    const input = fixtureInput({ sources: 4, perSource: 8, scrapes: 30, partitions: 2 });
    const third = input.length / 3;
    const expected = await oracle(input, 10_000);
    const kafka = createKafka(stack.brokers, 'two-instances-test');
    const out = await collect(kafka, stack.registryUrl, stack.config.topics.rollup1m);
    const app = `${stack.config.kafka.clientId}-rollup-1m`;
    const topic = stack.config.topics.metrics;
    const dirOf = new Map<string, string>();
    const engine = (name: string) => {
      const dir = dirOf.get(name) ?? mkdtempSync(join(tmpdir(), `vigil-${name}-`));
      dirOf.set(name, dir);
      dirs.push(dir);
      return new Engine({ config: { ...stack.config, state: { dir } }, modules: [rollupModule({ hourly: false })], embedded: true, httpPort: null, commitIntervalMs: 100 });
    };
    const a = engine('a');
    const b = engine('b');
    let a2: Engine | null = null;
    try {
      await a.start();
      await b.start();
      await publish(kafka, stack.registryUrl, input.slice(0, third), undefined, topic);
      const ra = () => a.runtime(app)!;
      const rb = () => b.runtime(app)!;
      await until(() => ra().assignedPartitions().length === 1 && rb().assignedPartitions().length === 1, 60_000, 'one partition each');
      await until(() => ra().processed + rb().processed >= third, 30_000, 'the first third processed');
      const aHad = ra().assignedPartitions();
      const fullBefore = await restores('full');
      await a.stop(); // clean stop: final commit, leaves the group
      await publish(kafka, stack.registryUrl, input.slice(third, 2 * third), undefined, topic);
      await until(() => rb().assignedPartitions().length === 2, 60_000, 'b taking over both partitions');
      await until(() => rb().processed >= third, 30_000, 'b processing the second third');
      expect(rb().taskFor(aHad[0]!)).toBeDefined();
      expect(await restores('full')).toBeGreaterThan(fullBefore); // b had no state for a's partition
      // a comes back with its old (now stale) LevelDB and ends up with both partitions when b stops:
      // its old partition is restored from its local state plus the changelog tail.
      const tailBefore = await restores('tail');
      a2 = engine('a');
      await a2.start();
      await b.stop();
      const ra2 = () => a2!.runtime(app)!;
      await until(() => ra2().assignedPartitions().length === 2, 60_000, 'a taking both partitions back');
      await publish(kafka, stack.registryUrl, input.slice(2 * third), undefined, topic);
      expect(await out.waitFor(expected.size, 60_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(await restores('tail')).toBeGreaterThan(tailBefore);
      expect(await restoredRecords()).toBeGreaterThan(0);
    } finally {
      await a.stop();
      await b.stop();
      await a2?.stop();
      await out.stop();
    }
    const result = verify(expected, out.seen);
    expect(result).toMatchObject({ missing: 0, different: 0, unexpected: 0, conflicting_duplicates: 0, ok: true });
  });
});
