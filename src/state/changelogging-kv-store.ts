/**
 * Records which keys changed since the last commit. At commit it writes their current values (or a
 * delete) into the task's commit batch, which the task stores in ONE LevelDB batch with the input
 * offsets and then sends to the changelog topic. Several writes to one key between commits become one
 * entry.
 */
import type { CommitBatch, KeyValueStore } from '../topology/api.js';
import type { ValueCodec } from './codec.js';
import { WrappedKeyValueStore } from './wrapped-kv-store.js';

export class ChangeLoggingKeyValueStore<V> extends WrappedKeyValueStore<V> {
  private readonly dirty = new Set<string>();

  constructor(
    inner: KeyValueStore<V>,
    private readonly codec: ValueCodec<V>,
  ) {
    super(inner);
  }

  override put(key: string, value: V): void {
    this.inner.put(key, value);
    this.dirty.add(key);
  }

  override delete(key: string): V | undefined {
    this.dirty.add(key);
    return this.inner.delete(key);
  }

  override commit(batch: CommitBatch): void {
    for (const key of this.dirty) {
      const value = this.inner.get(key);
      if (value === undefined) batch.del(key);
      else batch.put(key, this.codec.encode(value));
    }
    this.dirty.clear();
    this.inner.commit(batch);
  }

  /** Number of keys changed since the last commit. */
  get pendingChanges(): number {
    return this.dirty.size;
  }

  override close(): void {
    this.dirty.clear();
    this.inner.close();
  }
}
