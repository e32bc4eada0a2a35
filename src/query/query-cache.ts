/**
 * Results of queries over closed time ranges, kept by (query, start, end, step). A range is closed
 * once every window in it can no longer change (its end is older than the late-data horizon), so a
 * cached answer is the answer. Least recently used entries go first.
 */
export class QueryCache<V> {
  private readonly entries = new Map<string, V>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 500) {}

  static key(query: string, start: number, end: number, stepMs: number): string {
    return `${start}|${end}|${stepMs}|${query}`;
  }

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
