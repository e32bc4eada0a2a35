/**
 * Base of the key-value store layers (metered(changelogging(inner)), as Kafka Streams stacks them):
 * every operation goes to `inner`; a layer overrides only what it adds to.
 */
import type { CommitBatch, KeyValueStore } from '../topology/api.js';

export abstract class WrappedKeyValueStore<V> implements KeyValueStore<V> {
  constructor(protected readonly inner: KeyValueStore<V>) {}

  get name(): string {
    return this.inner.name;
  }

  get(key: string): V | undefined {
    return this.inner.get(key);
  }

  put(key: string, value: V): void {
    this.inner.put(key, value);
  }

  delete(key: string): V | undefined {
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
    this.inner.commit(batch);
  }

  approximateEntries(): number {
    return this.inner.approximateEntries();
  }

  close(): void {
    this.inner.close();
  }
}
