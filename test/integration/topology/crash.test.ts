import { describe, expect, it } from 'vitest';
import { useStack } from '../../support/stack.js';
import { runCrashScenario } from './rollup-crash-harness.js';

const stack = useStack({ partitions: 2 });

describe('rollup topology under SIGKILL', () => {
  it('killed 5 times while consuming: outputs deduplicated by id equal an uninterrupted run exactly', async () => {
    const lines: string[] = [];
    const result = await runCrashScenario({ brokers: stack.brokers, registryUrl: stack.registryUrl, cycles: 5, partitions: 2, seed: 42, log: (l) => lines.push(l) });
    if (!result.ok) console.log(lines.join('\n'), result);
    expect(result).toMatchObject({ kills: 5, missing: 0, different: 0, unexpected: 0, conflicting_duplicates: 0, ok: true });
  });
});
