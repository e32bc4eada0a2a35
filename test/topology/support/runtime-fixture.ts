/**
 * A small topology and runtime set-up for the runtime's failure-path tests: every input record on
 * `in` adds its value to the key-value store `totals` (key = record key) and emits one output on
 * `out` with a deterministic id; the runtime runs on a FakeKafka with storage that can fail.
 */
import type { Kafka } from 'kafkajs';
import { Topology } from '../../../src/topology/topology.js';
import { TopologyRuntime, type TopologyRuntimeOptions } from '../../../src/topology/runtime.js';
import { keyValueStoreDefinition } from '../../../src/state/stores.js';
import type { KeyValueStore, Processor, ProcessorContext, StreamRecord } from '../../../src/topology/api.js';
import { MemoryTaskStorage, type StorageOp, type TaskStorage, type TaskStorageFactory } from '../../../src/state/task-storage.js';
import { FakeKafka } from './fake-kafka.js';

export function summingTopology(applicationId = 'sum'): Topology {
  const topo = new Topology({ applicationId });
  topo.addStore(keyValueStoreDefinition<number>('totals', { cacheEntries: 0 }));
  topo.addSource<string, number>('in', ['in'], (raw) => ({ key: raw.key!.toString(), value: Number(raw.value!.toString()), timestamp: Number(raw.offset) * 1000 }));
  class Sum implements Processor<string, number> {
    private ctx!: ProcessorContext;
    private store!: KeyValueStore<number>;
    init(ctx: ProcessorContext): void {
      this.ctx = ctx;
      this.store = ctx.getStateStore<KeyValueStore<number>>('totals');
    }
    process(r: StreamRecord<string, number>): void {
      const total = (this.store.get(r.key) ?? 0) + r.value;
      this.store.put(r.key, total);
      this.ctx.forward({ key: r.key, value: total, timestamp: r.timestamp, headers: { 'vigil.id': `${r.key}@${this.ctx.recordMetadata!.offset}` } });
    }
  }
  topo.addProcessor('sum', () => new Sum(), ['in'], ['totals']);
  topo.addSink<string, number>('out', 'out', { key: { serialize: (k) => Buffer.from(k), deserialize: (b) => b!.toString() }, value: { serialize: (v) => Buffer.from(String(v)), deserialize: (b) => Number(b!.toString()) } }, ['sum']);
  return topo;
}

/** Task storage in memory whose writes can be made to fail (the next N, or while `failing`). */
export class FlakyStorage implements TaskStorage {
  failNext = 0;
  writes = 0;
  /** While set, writes wait for it (a test releases it to let a commit go on). */
  hold: Promise<void> | null = null;
  constructor(private readonly inner: MemoryTaskStorage) {}
  entries() {
    return this.inner.entries();
  }
  get(key: string) {
    return this.inner.get(key);
  }
  async write(ops: StorageOp[]): Promise<void> {
    this.writes++;
    if (this.hold) await this.hold;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected storage failure');
    }
    await this.inner.write(ops);
  }
  approximateBytes() {
    return this.inner.approximateBytes();
  }
  close() {
    return this.inner.close();
  }
}

/** Storages that survive close/reopen (one map per task), each a FlakyStorage; `last(taskId)` is the open one. */
export function flakyStorageFactory(): TaskStorageFactory & { maps: Map<string, Map<string, Buffer>>; last(taskId: string): FlakyStorage } {
  const maps = new Map<string, Map<string, Buffer>>();
  const open = new Map<string, FlakyStorage>();
  const factory = async (taskId: string) => {
    let m = maps.get(taskId);
    if (!m) maps.set(taskId, (m = new Map()));
    const s = new FlakyStorage(new MemoryTaskStorage(m));
    open.set(taskId, s);
    return s;
  };
  return Object.assign(factory, { maps, last: (taskId: string) => open.get(taskId)! });
}

export function fakeRuntime(kafka: FakeKafka, storage: TaskStorageFactory, extra: Partial<TopologyRuntimeOptions> = {}): TopologyRuntime {
  return new TopologyRuntime({
    kafka: kafka as unknown as Kafka,
    topology: summingTopology(),
    storage,
    incarnation: 'test',
    // commits only when a test calls commitAll()
    commitIntervalMs: 1e12,
    punctuateIntervalMs: 60_000,
    ...extra,
  });
}

/** The totals a task holds in memory. */
export function totals(runtime: TopologyRuntime, partition = 0): Record<string, number> {
  const store = runtime.taskFor(partition)?.getStore('totals') as KeyValueStore<number> | undefined;
  return store ? Object.fromEntries(store.all()) : {};
}
