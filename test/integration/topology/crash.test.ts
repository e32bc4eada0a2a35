import { describe, expect, it } from 'vitest';
import { useStack } from '../../support/stack.js';
import { runChaos } from './chaos-harness.js';

// The run's shared real broker (test/support/kafka-global-setup.ts); the harness names its own topics and groups.
const stack = useStack({ partitions: 2 });

describe('rollup topologies under SIGKILL', () => {
  it('killed 4 times (consuming, committing, restoring): the 1m and 1h rollups read from their topics equal an uninterrupted run exactly', async () => {
    const lines: string[] = [];
    const result = await runChaos({ scenario: 'rollup', brokers: stack.brokers, registryUrl: stack.registryUrl, embedded: false, cycles: 4, seed: 42, sources: 4, scrapes: 400, log: (l) => lines.push(l) });
    if (!result.ok) console.log(lines.join('\n'), JSON.stringify(result));
    expect(result).toMatchObject({ kills: 4, missing: 0, double_counted: 0, different: 0, ok: true });
  }, 240_000);
});
