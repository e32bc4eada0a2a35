/**
 * A DDSketch-style mergeable quantile sketch (Masson, Rim, Lee: "DDSketch", VLDB 2019).
 *
 * Values are counted in logarithmic buckets: bucket i holds values in (gamma^(i-1), gamma^i] with
 * gamma = (1 + alpha) / (1 - alpha). Any quantile it returns is within a RELATIVE ERROR of alpha
 * (1%, the default) of the true value of that rank: for p99 = 250 ms the answer lies in 247.5–252.5.
 * Sketches merge exactly by adding bucket counts (partial per task, combined after repartition).
 * Zero and negative values are supported (a zero count and a mirrored negative store).
 * State is a plain JSON object so stores can persist it.
 */

export const DEFAULT_RELATIVE_ACCURACY = 0.01;
/** Smallest magnitude told apart from zero. */
const MIN_INDEXABLE = 1e-9;

export interface SketchState {
  /** Bucket index -> count for positive values. */
  pos: Record<string, number>;
  /** Bucket index -> count for the magnitude of negative values. */
  neg: Record<string, number>;
  zero: number;
  count: number;
  min: number;
  max: number;
}

const GAMMA = (1 + DEFAULT_RELATIVE_ACCURACY) / (1 - DEFAULT_RELATIVE_ACCURACY);
/** ln(gamma): bucket index of a magnitude m is ceil(ln(m) / LN_GAMMA). */
export const LN_GAMMA = Math.log(GAMMA);
export { MIN_INDEXABLE };

export function newSketch(): SketchState {
  return { pos: {}, neg: {}, zero: 0, count: 0, min: Infinity, max: -Infinity };
}

function indexOf(magnitude: number): number {
  return Math.ceil(Math.log(magnitude) / LN_GAMMA);
}

/** The value a bucket stands for. */
export function bucketValue(index: number): number {
  // The point of the bucket with equal relative distance to both edges.
  return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
}

export function sketchAdd(s: SketchState, v: number): void {
  if (Number.isNaN(v)) return;
  s.count++;
  if (v < s.min) s.min = v;
  if (v > s.max) s.max = v;
  if (Math.abs(v) < MIN_INDEXABLE) s.zero++;
  else {
    const store = v > 0 ? s.pos : s.neg;
    const i = indexOf(Math.abs(v));
    store[i] = (store[i] ?? 0) + 1;
  }
}

/** Adds `other` into `into` (exact). */
export function sketchMerge(into: SketchState, other: SketchState): void {
  for (const [k, c] of Object.entries(other.pos)) into.pos[k] = (into.pos[k] ?? 0) + c;
  for (const [k, c] of Object.entries(other.neg)) into.neg[k] = (into.neg[k] ?? 0) + c;
  into.zero += other.zero;
  into.count += other.count;
  into.min = Math.min(into.min, other.min);
  into.max = Math.max(into.max, other.max);
}

/** The q-quantile (0 <= q <= 1) within the relative accuracy; null for an empty sketch. */
export function sketchQuantile(s: SketchState, q: number): number | null {
  if (s.count === 0) return null;
  if (q <= 0) return s.min;
  if (q >= 1) return s.max;
  const rank = q * (s.count - 1);
  let seen = 0;
  const negKeys = Object.keys(s.neg).map(Number).sort((a, b) => b - a);
  for (const k of negKeys) {
    seen += s.neg[k]!;
    if (seen > rank) return clamp(-bucketValue(k), s);
  }
  seen += s.zero;
  if (seen > rank) return 0;
  const posKeys = Object.keys(s.pos).map(Number).sort((a, b) => a - b);
  for (const k of posKeys) {
    seen += s.pos[k]!;
    if (seen > rank) return clamp(bucketValue(k), s);
  }
  return s.max;
}

function clamp(v: number, s: SketchState): number {
  return Math.min(Math.max(v, s.min), s.max);
}
