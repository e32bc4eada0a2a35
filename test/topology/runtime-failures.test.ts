/**
 * Failure paths of the runtime's commit (house-style: like Kafka Streams' TaskManager tests), on an
 * in-process FakeKafka with injected faults: a storage write that fails, a changelog/output send that
 * fails while records keep being processed, a commit prepared behind a failing one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import type { TopologyRuntime } from '../../src/topology/runtime.js';
import { FakeKafka } from './support/fake-kafka.js';
import { metricsRegistry } from '../../src/obs/metrics.js';
import { fakeRuntime, flakyStorageFactory, totals } from './support/runtime-fixture.js';

let runtime: TopologyRuntime | null = null;
afterEach(async () => {
  await runtime?.stop();
  runtime = null;
});

function gate() {
  let release!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    release = res;
    reject = rej;
  });
  return { promise, release, reject };
}

function feed(kafka: FakeKafka, key: string, n: number): void {
  for (let i = 0; i < n; i++) kafka.append('in', 0, key, '1');
}

/** Output ids on `out` and the last value per key (what a consumer of `out` would see). */
function outputs(kafka: FakeKafka) {
  const ids = kafka.records('out').map((r) => r.headers!['vigil.id']!.toString());
  return { ids, distinct: new Set(ids).size };
}

/** Waits until the task's totals are `expected`; on a timeout the error shows what they are. */
async function settle(r: TopologyRuntime, expected: Record<string, number>, what: string): Promise<void> {
  try {
    await until(() => JSON.stringify(totals(r)) === JSON.stringify(expected), 3000, what);
  } catch {
    expect(totals(r), what).toEqual(expected);
  }
}

/** A runtime on a FakeKafka that processed and committed `n` records of key `a`. */
async function startCommitted(n: number, extra: Parameters<typeof fakeRuntime>[2] = {}) {
  const kafka = new FakeKafka();
  const storage = flakyStorageFactory();
  const r = fakeRuntime(kafka, storage, extra);
  runtime = r;
  feed(kafka, 'a', n);
  await r.start();
  await settle(r, { a: n }, `first ${n}`);
  await r.commitAll();
  return { kafka, storage, r };
}

/** After a last commit: `n` distinct outputs, the last one the total `n`. */
async function expectAllOutputs(r: TopologyRuntime, kafka: FakeKafka, n: number): Promise<void> {
  await r.commitAll();
  expect(outputs(kafka).distinct).toBe(n);
  expect(kafka.records('out').at(-1)!.value!.toString()).toBe(String(n));
}

describe('TopologyRuntime: a failed commit', () => {
  it('storage write fails: the records since the last durable commit are consumed again, none lost', async () => {
    const { kafka, storage, r } = await startCommitted(10);
    feed(kafka, 'a', 10);
    await settle(r, { a: 20 }, 'second ten');
    storage.last('sum-0').failNext = 1;
    await r.commitAll().catch(() => undefined);
    feed(kafka, 'a', 10);
    await settle(r, { a: 30 }, 'after the failed commit');
    await expectAllOutputs(r, kafka, 30);
  });

  it('send fails while records go on being processed: those records are consumed again, the outbox is re-sent', async () => {
    const { kafka, r } = await startCommitted(10);
    feed(kafka, 'a', 10);
    await settle(r, { a: 20 }, 'second ten');
    const send = gate();
    kafka.beforeSend = () => send.promise;
    const commit = r.commitAll().catch(() => undefined); // written to storage, then stuck in the send
    feed(kafka, 'a', 10);
    await settle(r, { a: 30 }, 'processed during the commit');
    kafka.beforeSend = null;
    send.reject(new Error('injected send failure'));
    await commit;
    feed(kafka, 'a', 5);
    await settle(r, { a: 35 }, 'after the failed send');
    await expectAllOutputs(r, kafka, 35);
  });

  it('the broker refuses sends for a while: the task stays paused, its reopening is retried, then it goes on with nothing lost', async () => {
    const { kafka, r } = await startCommitted(10, { recoveryRetryMs: 10 });
    feed(kafka, 'a', 10);
    await settle(r, { a: 20 }, 'second ten');
    let refusals = 4; // the commit's send, then the outbox re-sends of three reopen attempts
    kafka.beforeSend = () => {
      if (refusals-- > 0) throw new Error('injected: broker unavailable');
    };
    await r.commitAll();
    expect(r.taskFor(0)).toBeUndefined(); // fenced, recovering
    feed(kafka, 'a', 10);
    await settle(r, { a: 30 }, 'after the broker came back');
    expect(refusals).toBeLessThan(0); // every refusal was met (and retried past)
    await expectAllOutputs(r, kafka, 30);
  });

  it('a commit prepared behind a failing one is discarded, never written on top of it', async () => {
    const kafka = new FakeKafka();
    const storage = flakyStorageFactory();
    runtime = fakeRuntime(kafka, storage);
    feed(kafka, 'a', 5);
    await runtime.start();
    await settle(runtime, { a: 5 }, 'first five');
    await runtime.commitAll();
    feed(kafka, 'a', 5);
    feed(kafka, 'b', 5);
    await settle(runtime, { a: 10, b: 5 }, 'a and b');
    const write = gate();
    const s = storage.last('sum-0');
    s.hold = write.promise;
    s.failNext = 1;
    const first = runtime.commitAll().catch(() => undefined); // will fail: a=10, b=5 never stored
    feed(kafka, 'b', 5);
    await settle(runtime, { a: 10, b: 10 }, 'more b');
    const second = runtime.commitAll().catch(() => undefined); // only b changed since the first
    s.hold = null;
    write.release();
    await first;
    await second;
    kafka.append('in', 0, 'c', '1');
    await settle(runtime, { a: 10, b: 10, c: 1 }, 'after the failure');
    await runtime.commitAll();
    const stored = storage.maps.get('sum-0')!;
    expect(JSON.parse(stored.get('s\u0000totals\u0000a')!.toString())).toBe(10);
    expect(JSON.parse(stored.get('s\u0000totals\u0000b')!.toString())).toBe(10);
  });
});

describe('TopologyRuntime: the outbox', () => {
  it('is confirmed as soon as the sends are acknowledged, not with the next commit (a crash then replays nothing)', async () => {
    const kafka = new FakeKafka();
    const storage = flakyStorageFactory();
    runtime = fakeRuntime(kafka, storage);
    feed(kafka, 'a', 3);
    await runtime.start();
    await settle(runtime, { a: 3 }, 'three');
    await runtime.commitAll();
    const keys = [...storage.maps.get('sum-0')!.keys()];
    expect(keys.filter((k) => k.startsWith('o\u0000'))).toEqual([]);
    expect(keys).toContain('m\u0000changelogOffset');
  });
});

describe('TopologyRuntime: a task whose state cannot be restored exactly', () => {
  it('is refused and its partition paused, loudly; the other partitions go on', async () => {
    const kafka = new FakeKafka(2);
    // partition 1 ran elsewhere (the group committed offset 3) and its changelog lost its beginning
    kafka.groupOffsets.set('sum', new Map([['in/1', '3']]));
    for (let i = 0; i < 4; i++) kafka.append('sum-changelog', 1, `totals\u0000k${i}`, '1');
    kafka.logStart.set('sum-changelog/1', 2);
    for (let i = 0; i < 5; i++) {
      kafka.append('in', 0, 'a', '1');
      kafka.append('in', 1, 'b', '1');
    }
    runtime = fakeRuntime(kafka, flakyStorageFactory());
    await runtime.start();
    await settle(runtime, { a: 5 }, 'partition 0');
    expect(runtime.assignedPartitions()).toEqual([0]);
    expect(runtime.taskFor(1)).toBeUndefined();
    const refused = await metricsRegistry.getSingleMetric('vigil_task_open_refused_total')!.get();
    expect(refused.values.find((v) => v.labels.topology === 'sum')).toMatchObject({ labels: { code: 'CHANGELOG_TRUNCATED' }, value: 1 });
  });
});

describe('TopologyRuntime: a rebalance during a commit', () => {
  it('a commit prepared before the rebalance began is not sent; the task is closed if its partition moved, its storage keeps the commit', async () => {
    const kafka = new FakeKafka(2);
    const storage = flakyStorageFactory();
    const r = fakeRuntime(kafka, storage);
    runtime = r;
    feed(kafka, 'a', 3);
    kafka.append('in', 1, 'b', '1');
    await r.start();
    await settle(r, { a: 3 }, 'partition 0');
    const write = gate();
    storage.last('sum-0').hold = write.promise;
    const commit = r.commitAll(); // partition 0's commit waits in its storage write
    const consumer = (r as unknown as { consumer: { consumer: import('./support/fake-kafka.js').FakeConsumer } }).consumer.consumer;
    const joined = gate();
    const rebalance = consumer.rebalance([1], joined.promise); // partition 0 moves to another instance
    storage.last('sum-0').hold = null;
    write.release();
    const summary = await commit;
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    expect(kafka.records('sum-changelog', 0)).toEqual([]); // nothing sent for the moved partition
    joined.release();
    await rebalance;
    await until(() => r.assignedPartitions().join() === '1', 3000, 'partition 0 closed');
    const stored = storage.maps.get('sum-0')!;
    expect(stored.get('s\u0000totals\u0000a')!.toString()).toBe('3');
    expect([...stored.keys()].some((k) => k.startsWith('o\u0000'))).toBe(true); // its outbox, for a later owner here
  });
});
