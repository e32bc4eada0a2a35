import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stackEnv, useStack } from '../../support/stack.js';
import { runCrashScenario } from './rollup-crash-harness.js';

const stack = useStack({ partitions: 2 });

describe('rollup topology under SIGKILL', () => {
  it('killed 5 times while consuming: outputs deduplicated by id equal an uninterrupted run exactly', async () => {
    const lines: string[] = [];
    const env = stackEnv(stack, mkdtempSync(join(tmpdir(), 'vigil-crash-cfg-')));
    const result = await runCrashScenario({ brokers: stack.brokers, registryUrl: stack.registryUrl, cycles: 5, partitions: 2, seed: 42, log: (l) => lines.push(l), topics: stack.config.topics, env });
    if (!result.ok) console.log(lines.join('\n'), result);
    expect(result).toMatchObject({ kills: 5, missing: 0, different: 0, unexpected: 0, conflicting_duplicates: 0, ok: true });
  });
});
