/**
 * Quantiles as Prometheus 2.42 computes them (promql/quantile.go): over a set of samples
 * (quantile, quantile_over_time: src/model/quantile.ts, shared with the rules engine) and over the
 * cumulative buckets of a classic histogram (histogram_quantile: bucketQuantile, with bucket
 * coalescing and the monotonic envelope).
 */
import { sortedQuantile } from '../../model/quantile.js';

export interface Bucket {
  upperBound: number;
  count: number;
}

/** Ascending, NaN first (Prometheus' vectorByValueHeap order). */
const byValue = (a: number, b: number) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b);

/** The q-quantile of `values` (copied and sorted). */
export function quantile(q: number, values: readonly number[]): number {
  return sortedQuantile([...values].sort(byValue), q);
}

/** The q-quantile of a classic histogram's buckets (le upper bounds, cumulative counts). */
export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  let buckets = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (buckets.length === 0 || buckets[buckets.length - 1]!.upperBound !== Infinity) return NaN;
  buckets = coalesce(buckets);
  ensureMonotonic(buckets);
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // sort.Search over all but the +Inf bucket: the first bucket whose count reaches the rank.
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** Merges buckets with the same upper bound (sorted input). */
function coalesce(buckets: Bucket[]): Bucket[] {
  const out: Bucket[] = [{ ...buckets[0]! }];
  for (const b of buckets.slice(1)) {
    const last = out[out.length - 1]!;
    if (b.upperBound === last.upperBound) last.count += b.count;
    else out.push({ ...b });
  }
  return out;
}

/** Removes decreases between successive buckets (partial scrapes; rate() of buckets). */
function ensureMonotonic(buckets: Bucket[]): void {
  let max = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    if (buckets[i]!.count > max) max = buckets[i]!.count;
    else if (buckets[i]!.count < max) buckets[i]!.count = max;
  }
}
