/**
 * Store builders: the one place that stacks the layers, metered(caching(changelogging(inner))),
 * as Kafka Streams does. Processors receive the outermost layer through `ctx.getStateStore(name)`.
 */
import type { KeyValueStore, StateStore, WindowStore } from '../topology/api.js';
import { CachingKeyValueStore } from './caching-kv-store.js';
import { ChangeLoggingKeyValueStore } from './changelogging-kv-store.js';
import { jsonCodec, type ValueCodec } from './codec.js';
import { KeyValueWindowStore } from './kv-window-store.js';
import { InMemoryKeyValueStore } from './memory-kv-store.js';
import { MeteredKeyValueStore } from './metered-kv-store.js';

export interface StoreOptions<V> {
  codec?: ValueCodec<V>;
  /** Write-back cache entries before a forced flush (0 = no caching layer). Default 10000. */
  cacheEntries?: number;
  taskId?: string;
}

/** A persistent (LevelDB via the task, changelogged) key-value store. */
export function keyValueStore<V>(name: string, options: StoreOptions<V> = {}): KeyValueStore<V> {
  const codec = options.codec ?? jsonCodec<V>();
  let store: KeyValueStore<V> = new ChangeLoggingKeyValueStore(new InMemoryKeyValueStore<V>(name, codec), codec);
  if ((options.cacheEntries ?? 10_000) > 0) store = new CachingKeyValueStore(store, options.cacheEntries ?? 10_000);
  return new MeteredKeyValueStore(store, options.taskId);
}

/** A persistent window store (same layers, composite keys). */
export function windowStore<V>(name: string, options: StoreOptions<V> = {}): WindowStore<V> {
  return new KeyValueWindowStore(keyValueStore<V>(name, options));
}

/** Describes a store a topology needs; each task builds its own instance. */
export interface StoreDefinition {
  readonly name: string;
  build(taskId: string): StateStore;
}

export function keyValueStoreDefinition<V>(name: string, options: Omit<StoreOptions<V>, 'taskId'> = {}): StoreDefinition {
  return { name, build: (taskId) => keyValueStore<V>(name, { ...options, taskId }) };
}

export function windowStoreDefinition<V>(name: string, options: Omit<StoreOptions<V>, 'taskId'> = {}): StoreDefinition {
  return { name, build: (taskId) => windowStore<V>(name, { ...options, taskId }) };
}
