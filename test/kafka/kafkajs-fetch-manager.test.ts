/**
 * patches/kafkajs+2.2.4.patch: kafkajs' fetch manager must not start new fetchers after stop().
 *
 * Unpatched, a stop() that lands while the fetch manager rebalances its fetchers (the broker list changed)
 * stops only the old fetchers; the new ones call the runner's fetch(), which answers [] at once once the
 * runner stopped, and they loop on resolved promises forever (seen as `vigil stack` spinning at 100% CPU on
 * SIGINT after a broker went down and up). The fake fetch below gives up after many calls so that an
 * unpatched kafkajs fails this test instead of hanging the worker.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type FetchManager = { start(): Promise<void>; stop(): Promise<void> };
const createFetchManager = require('kafkajs/src/consumer/fetchManager') as (options: {
  logger: unknown;
  getNodeIds: () => number[];
  fetch: (nodeId: number) => Promise<unknown[]>;
  handler: (batch: unknown) => Promise<void>;
  concurrency?: number;
}) => FetchManager;

const silentLogger = {
  namespace: () => silentLogger,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('kafkajs fetch manager (patched)', () => {
  it('creates no new fetchers when stop() lands during a fetcher rebalance', async () => {
    let running = true;
    let nodeIdCalls = 0;
    let callsAfterStop = 0;
    let stopped: Promise<void> | undefined;
    const manager: FetchManager = createFetchManager({
      logger: silentLogger,
      // Third call = the fetcher's check before its second fetch: a broker joined, and the consumer is
      // being stopped at that moment, so the fetcher fails with a rebalance error while stop() waits for it.
      getNodeIds: () => {
        if (++nodeIdCalls === 3) {
          running = false;
          stopped = manager.stop();
        }
        return nodeIdCalls >= 3 ? [1, 2] : [1];
      },
      fetch: async () => {
        if (!running) {
          // What kafkajs' Runner.fetch does once the consumer stopped.
          if (++callsAfterStop > 10_000) throw new Error('fetchers kept running after stop()');
          return [];
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
        return [];
      },
      handler: async () => undefined,
    });

    await manager.start();
    await stopped;
    expect(nodeIdCalls).toBe(3);
    expect(callsAfterStop).toBe(0);
  });

  it('still rebalances its fetchers when the broker list changes while running', async () => {
    let nodeIds = [1];
    const fetchedFrom = new Set<number>();
    let stopped: Promise<void> | undefined;
    const manager: FetchManager = createFetchManager({
      logger: silentLogger,
      getNodeIds: () => nodeIds,
      fetch: async (nodeId) => {
        fetchedFrom.add(nodeId);
        if (fetchedFrom.has(2)) stopped ??= manager.stop();
        else nodeIds = [1, 2];
        await new Promise((resolve) => setTimeout(resolve, 1));
        return [];
      },
      handler: async () => undefined,
    });
    await manager.start();
    await stopped;
    expect([...fetchedFrom].sort()).toEqual([1, 2]);
  });
});
