import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { rulesModule, RulesLoadError } from '../../src/rules/rules-engine-module.js';
import type { EngineContext } from '../../src/engine/engine-module.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ctx = (rulesPaths: string[]) => ({ config: configSchema.parse({}), registryUrl: 'http://localhost:1', rulesPaths }) as unknown as EngineContext;

describe('rules engine module', () => {
  it('refuses to start with rules that do not check, listing every error', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rules-mod-'));
    writeFileSync(join(dir, 'a.rules'), 'alert A { when foo(x) > 1 }\nalert B { window 5 }');
    await expect(async () => rulesModule().topologies!(ctx([dir]))).rejects.toThrow(RulesLoadError);
    await expect(async () => rulesModule().topologies!(ctx([dir]))).rejects.toThrow(/a\.rules:2:18: expected a duration like 5m, got "5"/);
  });

  it('treats a missing rules path as empty and builds the topology', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rules-mod-'));
    writeFileSync(join(dir, 'a.rules'), 'alert A { when avg(x) > 1 }');
    const topologies = await rulesModule().topologies!(ctx([join(dir, 'missing'), dir]));
    // By default groups are evaluated whole, through the repartition topic.
    expect(topologies.map((t) => [t.applicationId, t.sourceTopics(), t.sinkTopics().sort()])).toEqual([
      ['vigil-rules', ['metrics', 'vigil-rules-groups-repartition'], ['alerts', 'metrics', 'vigil-rules-groups-repartition']],
    ]);
  });

  it('evaluates per input partition with rules.repartition false', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rules-mod-'));
    writeFileSync(join(dir, 'a.rules'), 'alert A { when avg(x) > 1 }');
    const perPartition = { ...ctx([dir]), config: configSchema.parse({ rules: { repartition: false } }) } as EngineContext;
    const topologies = await rulesModule().topologies!(perPartition);
    expect(topologies.map((t) => [t.applicationId, t.sourceTopics(), t.sinkTopics().sort()])).toEqual([['vigil-rules', ['metrics'], ['alerts', 'metrics']]]);
  });
});
