/** Counts operations per store for /metrics (`vigil_store_ops_total`, `vigil_store_entries`). */
import type { CommitBatch, KeyValueStore } from '../topology/api.js';
import { counter, gauge } from '../obs/metrics.js';
import { WrappedKeyValueStore } from './wrapped-kv-store.js';

const ops = counter('vigil_store_ops_total', 'State store operations', ['store', 'op']);
const entries = gauge('vigil_store_entries', 'Entries held by a state store at the last commit', ['store', 'task']);

export class MeteredKeyValueStore<V> extends WrappedKeyValueStore<V> {
  private gets = 0;
  private puts = 0;
  private deletes = 0;

  constructor(
    inner: KeyValueStore<V>,
    private readonly taskId = '',
  ) {
    super(inner);
  }

  /** The wrapped store (for wrappers that need the caching layer's flush listener). */
  get wrapped(): KeyValueStore<V> {
    return this.inner;
  }

  override get(key: string): V | undefined {
    this.gets++;
    return this.inner.get(key);
  }

  override put(key: string, value: V): void {
    this.puts++;
    this.inner.put(key, value);
  }

  override delete(key: string): V | undefined {
    this.deletes++;
    return this.inner.delete(key);
  }

  // Counters are updated per commit, not per call: prom-client's inc() costs more than the store op.
  override commit(batch: CommitBatch): void {
    this.inner.commit(batch);
    if (this.gets) ops.inc({ store: this.name, op: 'get' }, this.gets);
    if (this.puts) ops.inc({ store: this.name, op: 'put' }, this.puts);
    if (this.deletes) ops.inc({ store: this.name, op: 'delete' }, this.deletes);
    this.gets = this.puts = this.deletes = 0;
    entries.set({ store: this.name, task: this.taskId }, this.inner.approximateEntries());
  }
}
