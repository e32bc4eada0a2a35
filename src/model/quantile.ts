/**
 * The exact quantile of a set of values, one implementation for the rules engine's nested
 * aggregations (src/rules/aggregators.ts aggregateValues) and PromQL's quantile() and
 * quantile_over_time() (src/query/promql): Prometheus' promql/quantile.go quantile(), linear
 * interpolation between the two closest ranks of rank q * (n - 1).
 */

/** Quantile `q` of `sorted` (ascending); NaN when empty or q is NaN, -Inf below 0, +Inf above 1. */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}
