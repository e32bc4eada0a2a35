/**
 * Records which keys changed since the last commit. At commit it writes their current values (or a
 * delete) into the task's commit batch, which the task stores in ONE LevelDB batch with the input
 * offsets and then sends to the changelog topic. Several writes to one key between commits become one
 * entry.
 */
import type { CommitBatch, KeyValueStore } from '../topology/api.js';
import type { ValueCodec } from './codec.js';

export class ChangeLoggingKeyValueStore<V> implements KeyValueStore<V> {
  private readonly dirty = new Set<string>();

  constructor(
    private readonly inner: KeyValueStore<V>,
    private readonly codec: ValueCodec<V>,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get(key: string): V | undefined {
    return this.inner.get(key);
  }

  put(key: string, value: V): void {
    this.inner.put(key, value);
    this.dirty.add(key);
  }

  delete(key: string): V | undefined {
    this.dirty.add(key);
    return this.inner.delete(key);
  }

  range(from?: string, to?: string): IterableIterator<[string, V]> {
    return this.inner.range(from, to);
  }

  all(): IterableIterator<[string, V]> {
    return this.inner.all();
  }

  restore(key: string, value: Buffer | null): void {
    this.inner.restore(key, value);
  }

  commit(batch: CommitBatch): void {
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

  approximateEntries(): number {
    return this.inner.approximateEntries();
  }

  close(): void {
    this.dirty.clear();
    this.inner.close();
  }
}
