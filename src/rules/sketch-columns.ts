/**
 * The DDSketches of all groups of one window as columns: per group its count, zero count, min and
 * max, and for each sign a bucket range (first bucket index, width) inside one shared slab of counts.
 * Same buckets and quantiles as sketch.ts (bit-identical to `sketchQuantile`); converts to and from
 * its persisted `SketchState`. A range that must widen moves to the end of the slab (at least
 * doubling), so a group regrows O(log) times; a window that follows another starts each group with
 * the range it had there, so in steady state ranges are allocated once.
 */
import { LN_GAMMA, MIN_INDEXABLE, bucketValue, type SketchState } from './sketch.js';

function grown<T extends Float64Array | Int32Array | Uint32Array>(a: T, n: number, fill = 0): T {
  const b = new (a.constructor as { new (n: number): T })(n);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

let lastMagnitude = NaN;
let lastIndex = 0;
/**
 * `ceil(ln(m) / LN_GAMMA)`, the last answer kept: the engine adds a sample to every quantile rule over
 * its metric one after the other, so the logarithm is mostly computed once per sample.
 */
function bucketIndex(m: number): number {
  if (m !== lastMagnitude) {
    lastMagnitude = m;
    lastIndex = Math.ceil(Math.log(m) / LN_GAMMA);
  }
  return lastIndex;
}

/** Where the buckets of each group lay in a previous window: the first range a group gets. */
interface RangeHint {
  off: Int32Array;
  width: Int32Array;
}

/** Bucket ranges of one sign. */
class BucketColumns {
  off: Int32Array = new Int32Array(0);
  base: Int32Array = new Int32Array(0);
  width: Int32Array = new Int32Array(0);
  /**
   * Bucket counts: 32-bit while they are integers below 2^32 (half the memory of the wide slab,
   * which is most of a window's), widened once to doubles when a count would not fit.
   */
  slab: Uint32Array | Float64Array;
  private wide = false;
  private used = 0;

  constructor(private readonly hint: RangeHint | null) {
    let total = 0;
    if (hint) for (let g = 0; g < hint.width.length; g++) total += hint.width[g]!;
    this.slab = new Uint32Array(Math.max(1024, total));
  }

  /**
   * The ranges of the next window's groups: `span(g)` gives the bucket indexes `[lo, hi]` group `g`'s
   * values covered here (null: none of this sign; undefined: not known, keep the allocated range).
   */
  rangeHint(span: (g: number) => [number, number] | null | undefined): RangeHint {
    const off = new Int32Array(this.off.length);
    const width = new Int32Array(this.off.length);
    for (let g = 0; g < off.length; g++) {
      if (this.width[g] === 0) continue;
      const r = span(g);
      if (r === null) continue;
      if (r === undefined) {
        off[g] = this.off[g]!;
        width[g] = this.width[g]!;
        continue;
      }
      // The same margins as a range that widens (fit), at least the 64 buckets a first value gets.
      let lo = r[0] - 8;
      let hi = r[1] + 9;
      if (hi - lo < 64) {
        lo = (lo + hi) >> 1;
        lo -= 32;
        hi = lo + 64;
      }
      off[g] = lo;
      width[g] = hi - lo;
    }
    return { off, width };
  }

  ensure(cap: number): void {
    if (cap <= this.off.length) return;
    this.off = grown(this.off, cap);
    this.base = grown(this.base, cap);
    this.width = grown(this.width, cap);
  }

  add(g: number, i: number, c: number): void {
    let j = i - this.off[g]!;
    if (j < 0 || j >= this.width[g]!) {
      this.fit(g, i);
      j = i - this.off[g]!;
    }
    const k = this.base[g]! + j;
    const x = this.slab[k]! + c;
    if (!this.wide && (x > 0xffffffff || !Number.isInteger(x))) {
      this.slab = Float64Array.from(this.slab);
      this.wide = true;
    }
    this.slab[k] = x;
  }

  private fit(g: number, i: number): void {
    const n = this.width[g]!;
    const off = this.off[g]!;
    let lo: number;
    let hi: number;
    if (n === 0) {
      // 64 buckets span a factor of 3.6 around the first value; a group seen in the previous window
      // starts with the range it needed there (groups keep their slots), so it rarely moves again.
      lo = i - 32;
      hi = i + 32;
      const hint = this.hint;
      if (hint && g < hint.width.length && hint.width[g]! > 0) {
        lo = Math.min(lo, hint.off[g]!);
        hi = Math.max(hi, hint.off[g]! + hint.width[g]!);
      }
    } else {
      lo = i < off ? Math.min(i - 8, off - n) : off;
      hi = i < off ? off + n : Math.max(i + 9, off + 2 * n);
    }
    const width = hi - lo;
    if (this.used + width > this.slab.length) this.slab = grown(this.slab, Math.max(this.slab.length * 2, this.used + width));
    const base = this.used;
    this.used += width;
    if (n > 0) this.slab.copyWithin(base + (off - lo), this.base[g]!, this.base[g]! + n);
    this.off[g] = lo;
    this.base[g] = base;
    this.width[g] = width;
  }

  toRecord(g: number): Record<string, number> {
    const out: Record<string, number> = {};
    const b = this.base[g]!;
    for (let j = 0; j < this.width[g]!; j++) if (this.slab[b + j] !== 0) out[this.off[g]! + j] = this.slab[b + j]!;
    return out;
  }
}

export class SketchColumns {
  private count: Float64Array = new Float64Array(0);
  private zero: Float64Array = new Float64Array(0);
  private min: Float64Array = new Float64Array(0);
  private max: Float64Array = new Float64Array(0);
  private readonly pos: BucketColumns;
  private readonly neg: BucketColumns;

  /** `previous`: the sketches of the same groups in an earlier window (sizes the ranges up front). */
  constructor(previous: SketchColumns | null = null) {
    // The hint is the range the values spanned there, not the range allocated: a range that grew
    // by doubling would otherwise carry its slack into every later window (~2x the slab).
    this.pos = new BucketColumns(previous ? previous.pos.rangeHint((g) => previous.span(g, 1)) : null);
    this.neg = new BucketColumns(previous ? previous.neg.rangeHint((g) => previous.span(g, -1)) : null);
  }

  /**
   * The bucket indexes group `g`'s values of sign `sign` span, from its min and max; null when it has
   * none of that sign, undefined when min and max do not tell (values of both signs: the smallest
   * magnitude is unknown).
   */
  private span(g: number, sign: 1 | -1): [number, number] | null | undefined {
    if ((this.count[g] ?? 0) === 0) return null;
    const lo = sign > 0 ? this.min[g]! : -this.max[g]!;
    const hi = sign > 0 ? this.max[g]! : -this.min[g]!;
    if (hi < MIN_INDEXABLE) return null;
    if (lo < MIN_INDEXABLE) return undefined;
    return [Math.ceil(Math.log(lo) / LN_GAMMA), Math.ceil(Math.log(hi) / LN_GAMMA)];
  }

  /** Bucket counts allocated (both signs): the memory of the sketches is 4 bytes each (8 once widened). */
  get bucketCapacity(): number {
    return this.pos.slab.length + this.neg.slab.length;
  }

  /** Makes room for groups `0 .. cap - 1`. */
  ensure(cap: number): void {
    if (cap <= this.count.length) return;
    this.count = grown(this.count, cap);
    this.zero = grown(this.zero, cap);
    this.min = grown(this.min, cap, Infinity);
    this.max = grown(this.max, cap, -Infinity);
    this.pos.ensure(cap);
    this.neg.ensure(cap);
  }

  /** `sketchAdd` to group `g`. */
  add(g: number, v: number): void {
    if (Number.isNaN(v)) return;
    this.count[g]++;
    if (v < this.min[g]!) this.min[g] = v;
    if (v > this.max[g]!) this.max[g] = v;
    const m = Math.abs(v);
    if (m < MIN_INDEXABLE) this.zero[g]++;
    else (v > 0 ? this.pos : this.neg).add(g, bucketIndex(m), 1);
  }

  /** `sketchQuantile` of group `g`; null when it has no sample. */
  quantile(g: number, q: number): number | null {
    const count = this.count[g] ?? 0;
    if (count === 0) return null;
    const min = this.min[g]!;
    const max = this.max[g]!;
    if (q <= 0) return min;
    if (q >= 1) return max;
    const clamp = (v: number) => Math.min(Math.max(v, min), max);
    const rank = q * (count - 1);
    let seen = 0;
    // Negative values: largest magnitude (most negative) first.
    const neg = this.neg;
    for (let j = neg.width[g]! - 1; j >= 0; j--) {
      const c = neg.slab[neg.base[g]! + j]!;
      if (c === 0) continue;
      seen += c;
      if (seen > rank) return clamp(-bucketValue(neg.off[g]! + j));
    }
    seen += this.zero[g]!;
    if (seen > rank) return 0;
    const pos = this.pos;
    for (let j = 0; j < pos.width[g]!; j++) {
      const c = pos.slab[pos.base[g]! + j]!;
      if (c === 0) continue;
      seen += c;
      if (seen > rank) return clamp(bucketValue(pos.off[g]! + j));
    }
    return max;
  }

  /** The persisted form of group `g` (sketch.ts' plain object); null when it has no sample. */
  toState(g: number): SketchState | null {
    if ((this.count[g] ?? 0) === 0) return null;
    return { pos: this.pos.toRecord(g), neg: this.neg.toRecord(g), zero: this.zero[g]!, count: this.count[g]!, min: this.min[g]!, max: this.max[g]! };
  }

  /** Sets group `g` (empty so far) from its persisted form. */
  restore(g: number, s: SketchState): void {
    this.ensure(g + 1);
    for (const [k, c] of Object.entries(s.pos)) this.pos.add(g, Number(k), c);
    for (const [k, c] of Object.entries(s.neg)) this.neg.add(g, Number(k), c);
    this.zero[g] = s.zero;
    this.count[g] = s.count;
    this.min[g] = s.min;
    this.max[g] = s.max;
  }
}
