/**
 * Series resolution for the decoder's hot path: identity (merge, validity, canonical form, xxh64) is
 * computed once per distinct (source labels, sample name + labels) and then found by a cheap key,
 * the raw Avro bytes of the source map and of the sample's name + labels (kept in a ByteKeyTable:
 * no string or object per key). Invalid series are cached too, as negative codes, so a bad sample
 * costs one lookup as well.
 */
import { ByteKeyTable, MISSING } from './byte-key-table.js';
import { SeriesTable } from './series-table.js';
import { canonicalOfSorted, checkSeries, hash64Parts, setLabel, type SeriesProblem } from './series.js';

export { MISSING } from './byte-key-table.js';

/** Per-source state: its decoded labels and its number (the owner of its series keys). */
export interface SourceContext {
  readonly labels: Readonly<Record<string, string>>;
  readonly id: number;
  /** The key entry expected next: the one after the last found (a source sends its series in the same order every scrape). */
  next: number;
}

export interface SeriesCacheOptions {
  /** Most cached keys before the caches are dropped and rebuilt (default 1,000,000). */
  maxEntries?: number;
  /** Table to intern into (default: a new one). */
  table?: SeriesTable;
}

export class SeriesCache {
  readonly table: SeriesTable;
  private readonly sources = new Map<string, SourceContext>();
  private readonly keys = new ByteKeyTable();
  /** Never reused (also across `clear`), so a context held by a caller never owns another source's keys. */
  private nextSourceId = 0;
  private readonly problems: SeriesProblem[] = [];
  private readonly problemIndex = new Map<string, number>();
  private readonly maxEntries: number;

  constructor(options: SeriesCacheOptions = {}) {
    this.table = options.table ?? new SeriesTable();
    this.maxEntries = options.maxEntries ?? 1_000_000;
  }

  /** The context of a source identified by `key`; `decode` builds its labels on first sight. */
  source(key: string, decode: () => Record<string, string>): SourceContext {
    let ctx = this.sources.get(key);
    if (ctx === undefined) {
      ctx = { labels: decode(), id: this.nextSourceId++, next: -1 };
      this.sources.set(key, ctx);
    }
    return ctx;
  }

  /**
   * The cached code (ref >= 0 or problem < 0) of the series keyed by bytes[a..b) in `ctx`, or MISSING.
   * The entry after the previous one found is tried first: keys of one source are added in its order,
   * so in the steady state a lookup compares one key stored next to the last one, with no hashing and
   * no random access into the index.
   */
  lookup(ctx: SourceContext, bytes: Uint8Array, a: number, b: number): number {
    const keys = this.keys;
    let e = ctx.next;
    if (!keys.matches(e, ctx.id, bytes, a, b)) {
      e = keys.find(ctx.id, bytes, a, b);
      if (e < 0) return MISSING;
    }
    ctx.next = e + 1;
    return keys.valueAt(e);
  }

  /**
   * Resolves a series whose key bytes[a..b) `lookup` did not find and caches it: returns its ref
   * (>= 0), or a negative code for `problem()` when the series is invalid.
   */
  resolve(ctx: SourceContext, bytes: Uint8Array, a: number, b: number, name: string, labels: Readonly<Record<string, string>>): number {
    const merged: Record<string, string> = {};
    for (const k in ctx.labels) setLabel(merged, k, ctx.labels[k]!);
    for (const k in labels) setLabel(merged, k, labels[k]!);
    for (const k in merged) if (merged[k] === '') delete merged[k];
    const problem = checkSeries(name, merged);
    const code = problem ? -1 - this.problemCode(problem) : this.intern(name, merged);
    if (this.keys.size >= this.maxEntries) {
      // Simple bound: forget every key (the table keeps the series and their refs). The caller's
      // context stays valid: its id only owns keys added from now on.
      this.sources.clear();
      this.keys.clear();
    }
    ctx.next = this.keys.add(ctx.id, bytes, a, b, code) + 1;
    return code;
  }

  /** The ref of a valid series (merged labels, no empty values), interned on first sight. */
  private intern(name: string, labels: Record<string, string>): number {
    const names = Object.keys(labels).sort();
    const { hi, lo } = hash64Parts(canonicalOfSorted(name, names, labels));
    return this.table.internHashed(hi, lo, name, names, labels);
  }

  /** The problem of a negative code returned by `resolve`. */
  problem(code: number): SeriesProblem {
    return this.problems[-1 - code]!;
  }

  private problemCode(problem: SeriesProblem): number {
    // Bounded: past 10,000 distinct messages, problems of a reason share one generic message.
    const id = this.problems.length < 10_000 ? `${problem.reason}\u0000${problem.message}` : problem.reason;
    let index = this.problemIndex.get(id);
    if (index === undefined) {
      const stored = id === problem.reason ? { reason: problem.reason, message: `Invalid series (${problem.reason})` } : problem;
      index = this.problems.push(stored) - 1;
      this.problemIndex.set(id, index);
    }
    return index;
  }
}
