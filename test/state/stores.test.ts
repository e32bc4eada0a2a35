import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CachingKeyValueStore } from '../../src/state/caching-kv-store.js';
import { ChangeLoggingKeyValueStore } from '../../src/state/changelogging-kv-store.js';
import { jsonCodec } from '../../src/state/codec.js';
import { InMemoryKeyValueStore } from '../../src/state/memory-kv-store.js';
import { keyValueStore, windowStore } from '../../src/state/stores.js';
import { LevelTaskStorage } from '../../src/state/level-task-storage.js';
import { MemoryTaskStorage, type StorageOp, type TaskStorage } from '../../src/state/task-storage.js';
import type { CommitBatch, StateStore } from '../../src/topology/api.js';

/** Persists a store's commit into storage the way a task does (without the task's key prefixes). */
async function commitTo(store: StateStore, storage: TaskStorage): Promise<StorageOp[]> {
  const ops: StorageOp[] = [];
  const batch: CommitBatch = { put: (key, value) => ops.push({ type: 'put', key, value }), del: (key) => ops.push({ type: 'del', key }) };
  store.commit(batch);
  await storage.write(ops);
  return ops;
}

async function restoreFrom(store: StateStore, storage: TaskStorage): Promise<void> {
  for await (const [k, v] of storage.entries()) store.restore(k, v);
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const backends: Array<[string, () => Promise<{ open: () => Promise<TaskStorage> }>]> = [
  ['memory', async () => {
    const data = new Map<string, Buffer>();
    return { open: async () => new MemoryTaskStorage(data) };
  }],
  ['leveldb', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
    dirs.push(dir);
    return { open: () => LevelTaskStorage.open(dir) };
  }],
];

describe.each(backends)('store contract (%s storage)', (_name, makeBackend) => {
  it('key-value: put/get/delete/range, commit, reopen and restore', async () => {
    const backend = await makeBackend();
    let storage = await backend.open();
    const kv = keyValueStore<{ n: number }>('kv', { cacheEntries: 2 });
    kv.put('b', { n: 2 });
    kv.put('a', { n: 1 });
    kv.put('c', { n: 3 });
    kv.put('a', { n: 10 });
    expect(kv.get('a')).toEqual({ n: 10 });
    expect(kv.delete('c')).toEqual({ n: 3 });
    expect(kv.get('c')).toBeUndefined();
    expect([...kv.range('a', 'c')].map(([k]) => k)).toEqual(['a', 'b']);
    const ops = await commitTo(kv, storage);
    expect(ops.filter((o) => o.key === 'a')).toHaveLength(1); // several writes, one change
    expect(ops.find((o) => o.key === 'c')?.type).toBe('del');
    expect((await commitTo(kv, storage)).length).toBe(0); // nothing changed since
    await storage.close();

    storage = await backend.open();
    const again = keyValueStore<{ n: number }>('kv');
    await restoreFrom(again, storage);
    expect([...again.all()]).toEqual([
      ['a', { n: 10 }],
      ['b', { n: 2 }],
    ]);
    expect(again.approximateEntries()).toBe(2);
    await storage.close();
  });

  it('window store: fetch, ranges, retention, restore', async () => {
    const backend = await makeBackend();
    let storage = await backend.open();
    const ws = windowStore<number>('w');
    ws.put('x', 0, 1);
    ws.put('x', 60_000, 2);
    ws.put('y', 60_000, 3);
    ws.put('y', 120_000, 4);
    expect(ws.fetch('x', 60_000)).toBe(2);
    expect(ws.fetchRange('x', 0, 60_000).map((e) => e.value)).toEqual([1, 2]);
    expect(ws.fetchAll(60_000, 120_000).map((e) => `${e.key}@${e.start}`)).toEqual(['x@60000', 'y@60000', 'y@120000']);
    expect(ws.deleteBefore(60_000)).toBe(1);
    expect(ws.fetch('x', 0)).toBeUndefined();
    await commitTo(ws, storage);
    await storage.close();
    storage = await backend.open();
    const again = windowStore<number>('w');
    await restoreFrom(again, storage);
    expect(again.fetchAll(0, Infinity).map((e) => `${e.key}@${e.start}=${e.value}`)).toEqual(['x@60000=2', 'y@60000=3', 'y@120000=4']);
    await storage.close();
  });
});

describe('caching layer', () => {
  it('holds writes until flush, then passes one change per key down and to the listener', () => {
    const codec = jsonCodec<number>();
    const logged = new ChangeLoggingKeyValueStore(new InMemoryKeyValueStore<number>('c', codec), codec);
    const cache = new CachingKeyValueStore(logged, 100);
    const flushed: Array<[string, number | undefined]> = [];
    cache.setFlushListener((k, v) => flushed.push([k, v]));
    cache.put('a', 1);
    cache.put('a', 2);
    cache.put('b', 1);
    cache.delete('b');
    expect(cache.get('a')).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(logged.get('a')).toBeUndefined(); // not yet below the cache
    expect(cache.cachedEntries).toBe(2);
    const ops: string[] = [];
    cache.commit({ put: (k, v) => ops.push(`put ${k}=${v}`), del: (k) => ops.push(`del ${k}`) });
    expect(flushed).toEqual([
      ['a', 2],
      ['b', undefined],
    ]);
    expect(ops.sort()).toEqual(['del b', 'put a=2']);
    expect(logged.get('a')).toBe(2);
  });

  it('flushes early when full', () => {
    const codec = jsonCodec<number>();
    const inner = new InMemoryKeyValueStore<number>('c', codec);
    const cache = new CachingKeyValueStore(inner, 3);
    cache.put('a', 1);
    cache.put('b', 1);
    expect(inner.approximateEntries()).toBe(0);
    cache.put('c', 1);
    expect(inner.approximateEntries()).toBe(3);
  });
});
