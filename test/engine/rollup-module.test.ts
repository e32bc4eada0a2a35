import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { rollupModule } from '../../src/engine/rollup-module.js';
import { engineModules } from '../../src/cli/commands/run.js';
import type { EngineContext } from '../../src/engine/engine-module.js';

function ctx(topics: Record<string, string> = {}): EngineContext {
  const config = configSchema.parse({ topics });
  return { config, registryUrl: 'http://127.0.0.1:1' } as unknown as EngineContext;
}

describe('rollup engine module', () => {
  it('contributes the 1m and 1h topologies on the configured topics', async () => {
    const topologies = await rollupModule().topologies!(ctx({ metrics: 'm', rollup1m: 'r1m', rollup1h: 'r1h', metricsLate: 'late' }));
    expect(topologies.map((t) => [t.applicationId, t.sourceTopics(), t.sinkTopics(), t.lateTopic, t.changelogTopic])).toEqual([
      ['vigil-rollup-1m', ['m'], ['r1m'], 'late', 'vigil-rollup-1m-changelog'],
      ['vigil-rollup-1h', ['r1m'], ['r1h'], 'late', 'vigil-rollup-1h-changelog'],
    ]);
  });

  it('can leave out the hourly rollups', async () => {
    expect((await rollupModule({ hourly: false }).topologies!(ctx())).map((t) => t.applicationId)).toEqual(['vigil-rollup-1m']);
  });

  it('vigil run starts the rollup module first (other areas add theirs after it)', () => {
    expect(engineModules()[0]!.name).toBe('rollup');
  });
});
