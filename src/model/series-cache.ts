/**
 * Series resolution for the decoder's hot path: identity (merge, validity, canonical form, xxh64) is
 * computed once per distinct (source labels, sample name + labels) and then found by a cheap key,
 * the raw Avro bytes of the source map and of the sample's name + labels. Invalid series are cached
 * too, as negative codes, so a bad sample costs one lookup as well.
 */
import { SeriesTable } from './decoded-batch.js';
import { checkSeries, seriesIdentity, setLabel, type SeriesProblem } from './series.js';

/** Per-source state: its decoded labels and the cache of its series keys -> ref (>= 0) or problem (< 0). */
export interface SourceContext {
  readonly labels: Readonly<Record<string, string>>;
  readonly refs: Map<string, number>;
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
  private readonly problems: SeriesProblem[] = [];
  private readonly problemIndex = new Map<string, number>();
  private entries = 0;
  private readonly maxEntries: number;
  /** One copy of each metric name and sample label value (strings read from bytes are all distinct copies). */
  private readonly strings = new Map<string, string>();

  constructor(options: SeriesCacheOptions = {}) {
    this.table = options.table ?? new SeriesTable();
    this.maxEntries = options.maxEntries ?? 1_000_000;
  }

  /** The context of a source identified by `key`; `decode` builds its labels on first sight. */
  source(key: string, decode: () => Record<string, string>): SourceContext {
    let ctx = this.sources.get(key);
    if (ctx === undefined) {
      ctx = { labels: decode(), refs: new Map() };
      this.sources.set(key, ctx);
    }
    return ctx;
  }

  /**
   * Resolves a series not yet in `ctx.refs` and caches it under `key`: returns its ref (>= 0), or a
   * negative code for `problem()` when the series is invalid.
   */
  resolve(ctx: SourceContext, key: string, name: string, labels: Readonly<Record<string, string>>): number {
    const merged: Record<string, string> = {};
    for (const k in ctx.labels) setLabel(merged, k, ctx.labels[k]!);
    for (const k in labels) setLabel(merged, k, this.intern(labels[k]!));
    for (const k in merged) if (merged[k] === '') delete merged[k];
    const problem = checkSeries(name, merged);
    const code = problem ? -1 - this.problemCode(problem) : this.table.intern(seriesIdentity(this.intern(name), merged)).ref;
    if (++this.entries > this.maxEntries) {
      // Simple bound: forget every key (the table keeps the series and their refs).
      this.sources.clear();
      this.entries = 0;
    }
    ctx.refs.set(key, code);
    return code;
  }

  /** The problem of a negative code returned by `resolve`. */
  problem(code: number): SeriesProblem {
    return this.problems[-1 - code]!;
  }

  private intern(s: string): string {
    const found = this.strings.get(s);
    if (found !== undefined) return found;
    // Bounded: past 200,000 distinct strings (high-cardinality values), new ones are kept as they are.
    if (this.strings.size < 200_000) this.strings.set(s, s);
    return s;
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
