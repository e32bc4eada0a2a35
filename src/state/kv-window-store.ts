/**
 * A WindowStore on top of a KeyValueStore (so it gets the same metered/caching/changelogging layers):
 * entry key = `<key>\u0000<start>`. A per-key index of window starts, kept in memory, serves range
 * queries and retention without scanning every entry.
 */
import type { CommitBatch, KeyValueStore, WindowStore, WindowedEntry } from '../topology/api.js';

const SEP = '\u0000';

/** The store key of one window (also what goes to LevelDB and the changelog). */
export function windowKey(key: string, start: number): string {
  return `${key}${SEP}${start}`;
}

/** Inverse of windowKey. */
export function parseWindowKey(composite: string): { key: string; start: number } {
  const i = composite.lastIndexOf(SEP);
  return { key: composite.slice(0, i), start: Number(composite.slice(i + 1)) };
}

export class KeyValueWindowStore<V> implements WindowStore<V> {
  private readonly index = new Map<string, Set<number>>();

  constructor(private readonly kv: KeyValueStore<V>) {}

  get name(): string {
    return this.kv.name;
  }

  private track(key: string, start: number): void {
    let starts = this.index.get(key);
    if (!starts) this.index.set(key, (starts = new Set()));
    starts.add(start);
  }

  private untrack(key: string, start: number): void {
    const starts = this.index.get(key);
    if (!starts) return;
    starts.delete(start);
    if (starts.size === 0) this.index.delete(key);
  }

  fetch(key: string, start: number): V | undefined {
    return this.kv.get(windowKey(key, start));
  }

  put(key: string, start: number, value: V): void {
    this.kv.put(windowKey(key, start), value);
    this.track(key, start);
  }

  delete(key: string, start: number): void {
    this.kv.delete(windowKey(key, start));
    this.untrack(key, start);
  }

  fetchRange(key: string, from: number, to: number): WindowedEntry<V>[] {
    const starts = [...(this.index.get(key) ?? [])].filter((s) => s >= from && s <= to).sort((a, b) => a - b);
    const out: WindowedEntry<V>[] = [];
    for (const start of starts) {
      const value = this.fetch(key, start);
      if (value !== undefined) out.push({ key, start, value });
    }
    return out;
  }

  fetchAll(from: number, to: number): WindowedEntry<V>[] {
    const out: WindowedEntry<V>[] = [];
    for (const [key, starts] of this.index) {
      for (const start of starts) {
        if (start < from || start > to) continue;
        const value = this.fetch(key, start);
        if (value !== undefined) out.push({ key, start, value });
      }
    }
    return out.sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  deleteBefore(start: number): number {
    let n = 0;
    for (const [key, starts] of [...this.index]) {
      for (const s of [...starts]) {
        if (s < start) {
          this.delete(key, s);
          n++;
        }
      }
    }
    return n;
  }

  restore(composite: string, value: Buffer | null): void {
    this.kv.restore(composite, value);
    const { key, start } = parseWindowKey(composite);
    if (value === null) this.untrack(key, start);
    else this.track(key, start);
  }

  commit(batch: CommitBatch): void {
    this.kv.commit(batch);
  }

  approximateEntries(): number {
    return this.kv.approximateEntries();
  }

  close(): void {
    this.index.clear();
    this.kv.close();
  }
}
