/**
 * The DDSketch of sketch.ts with its buckets in a dense array (index offset + Float64Array counts)
 * instead of an object keyed by bucket index: the rules engine adds millions of samples per second
 * to sketches, and a keyed property write per sample was its most expensive step. Same buckets,
 * same quantiles (bit-identical to `sketchQuantile`), converts to and from the persisted `SketchState`.
 */
import { LN_GAMMA, MIN_INDEXABLE, bucketValue, type SketchState } from './sketch.js';

/** Counts of bucket indexes `off .. off + counts.length - 1`. */
class Buckets {
  off = 0;
  counts: Float64Array = new Float64Array(0);

  add(i: number, c: number): void {
    let j = i - this.off;
    if (j < 0 || j >= this.counts.length) {
      this.fit(i);
      j = i - this.off;
    }
    this.counts[j] += c;
  }

  /** Grows the range to hold index `i`. */
  private fit(i: number): void {
    const n = this.counts.length;
    if (n === 0) {
      // 64 buckets span a factor of 3.6 around the first value; wider spreads double the range.
      this.off = i - 32;
      this.counts = new Float64Array(64);
      return;
    }
    // At least double, so a group whose values spread regrows O(log) times.
    const lo = i < this.off ? Math.min(i - 8, this.off + n - 2 * n) : this.off;
    const hi = i < this.off ? this.off + n : Math.max(i + 9, this.off + 2 * n);
    const counts = new Float64Array(hi - lo);
    counts.set(this.counts, this.off - lo);
    this.off = lo;
    this.counts = counts;
  }

  toRecord(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let j = 0; j < this.counts.length; j++) if (this.counts[j] !== 0) out[this.off + j] = this.counts[j]!;
    return out;
  }
}

export class DenseSketch {
  private readonly pos = new Buckets();
  private readonly neg = new Buckets();
  private zero = 0;
  private count = 0;
  private min = Infinity;
  private max = -Infinity;

  /** `sketchAdd`. */
  add(v: number): void {
    if (Number.isNaN(v)) return;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const m = Math.abs(v);
    if (m < MIN_INDEXABLE) this.zero++;
    else (v > 0 ? this.pos : this.neg).add(Math.ceil(Math.log(m) / LN_GAMMA), 1);
  }

  /** `sketchQuantile`: the q-quantile within the relative accuracy; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * (this.count - 1);
    let seen = 0;
    const neg = this.neg.counts;
    // Negative values: largest magnitude (most negative) first.
    for (let j = neg.length - 1; j >= 0; j--) {
      if (neg[j] === 0) continue;
      seen += neg[j]!;
      if (seen > rank) return this.clamp(-bucketValue(this.neg.off + j));
    }
    seen += this.zero;
    if (seen > rank) return 0;
    const pos = this.pos.counts;
    for (let j = 0; j < pos.length; j++) {
      if (pos[j] === 0) continue;
      seen += pos[j]!;
      if (seen > rank) return this.clamp(bucketValue(this.pos.off + j));
    }
    return this.max;
  }

  private clamp(v: number): number {
    return Math.min(Math.max(v, this.min), this.max);
  }

  /** The persisted form (sketch.ts' plain object). */
  toState(): SketchState {
    return { pos: this.pos.toRecord(), neg: this.neg.toRecord(), zero: this.zero, count: this.count, min: this.min, max: this.max };
  }

  static fromState(s: SketchState): DenseSketch {
    const d = new DenseSketch();
    for (const [k, c] of Object.entries(s.pos)) d.pos.add(Number(k), c);
    for (const [k, c] of Object.entries(s.neg)) d.neg.add(Number(k), c);
    d.zero = s.zero;
    d.count = s.count;
    d.min = s.min;
    d.max = s.max;
    return d;
  }
}
