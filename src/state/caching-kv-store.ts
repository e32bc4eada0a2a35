/**
 * Write-back cache: writes stay here until the task commits (or the cache holds `maxEntries`), then
 * go down to the changelogging layer in one pass. Like Kafka Streams' caching layer it also dedups
 * what downstream sees: `onFlush` is called once per key per flush with the latest value (undefined =
 * deleted), which is how cached aggregations forward one update per commit instead of one per record.
 */
import type { CommitBatch, KeyValueStore } from '../topology/api.js';

const DELETED = Symbol('deleted');

export type FlushListener<V> = (key: string, value: V | undefined) => void;

export class CachingKeyValueStore<V> implements KeyValueStore<V> {
  private readonly cache = new Map<string, V | typeof DELETED>();
  private listener: FlushListener<V> | null = null;

  constructor(
    private readonly inner: KeyValueStore<V>,
    private readonly maxEntries = 10_000,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  /** Registers the one listener called for each flushed entry. */
  setFlushListener(listener: FlushListener<V> | null): void {
    this.listener = listener;
  }

  get(key: string): V | undefined {
    const cached = this.cache.get(key);
    if (cached === DELETED) return undefined;
    if (cached !== undefined) return cached;
    return this.inner.get(key);
  }

  put(key: string, value: V): void {
    this.cache.set(key, value);
    if (this.cache.size >= this.maxEntries) this.flush();
  }

  delete(key: string): V | undefined {
    const old = this.get(key);
    this.cache.set(key, DELETED);
    if (this.cache.size >= this.maxEntries) this.flush();
    return old;
  }

  *range(from?: string, to?: string): IterableIterator<[string, V]> {
    // Merge cache over inner; ranges are rare (punctuators, tests), so a flush keeps it simple.
    this.flush();
    yield* this.inner.range(from, to);
  }

  all(): IterableIterator<[string, V]> {
    return this.range();
  }

  /** Writes the cached entries down and tells the listener. */
  flush(): void {
    if (this.cache.size === 0) return;
    const entries = [...this.cache];
    this.cache.clear();
    for (const [key, value] of entries) {
      if (value === DELETED) this.inner.delete(key);
      else this.inner.put(key, value);
      this.listener?.(key, value === DELETED ? undefined : value);
    }
  }

  /** Number of entries waiting in the cache. */
  get cachedEntries(): number {
    return this.cache.size;
  }

  restore(key: string, value: Buffer | null): void {
    this.cache.delete(key);
    this.inner.restore(key, value);
  }

  commit(batch: CommitBatch): void {
    this.flush();
    this.inner.commit(batch);
  }

  approximateEntries(): number {
    return this.inner.approximateEntries() + this.cache.size;
  }

  close(): void {
    this.cache.clear();
    this.inner.close();
  }
}
