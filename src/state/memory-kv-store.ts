/**
 * The innermost key-value store: a Map in memory. Persistence is not its job: the changelogging
 * layer above it records what changed and the task writes that to LevelDB and the changelog.
 */
import type { CommitBatch, KeyValueStore } from '../topology/api.js';
import type { ValueCodec } from './codec.js';

export class InMemoryKeyValueStore<V> implements KeyValueStore<V> {
  private readonly map = new Map<string, V>();

  constructor(
    readonly name: string,
    private readonly codec: ValueCodec<V>,
  ) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  put(key: string, value: V): void {
    this.map.set(key, value);
  }

  delete(key: string): V | undefined {
    const old = this.map.get(key);
    this.map.delete(key);
    return old;
  }

  *range(from?: string, to?: string): IterableIterator<[string, V]> {
    const keys = [...this.map.keys()].filter((k) => (from === undefined || k >= from) && (to === undefined || k < to));
    keys.sort();
    for (const k of keys) yield [k, this.map.get(k) as V];
  }

  all(): IterableIterator<[string, V]> {
    return this.range();
  }

  restore(key: string, value: Buffer | null): void {
    if (value === null) this.map.delete(key);
    else this.map.set(key, this.codec.decode(value));
  }

  /** The inner store keeps no change log of its own (see ChangeLoggingKeyValueStore). */
  commit(_batch: CommitBatch): void {}

  approximateEntries(): number {
    return this.map.size;
  }

  close(): void {
    this.map.clear();
  }
}
