/**
 * The verifier's comparison for rollups: what a run wrote to a rollup topic, every record as a consumer
 * reads it (replays included, nothing deduplicated by id), against the rollups of an uninterrupted run.
 * Rollups are compared exactly per (series, window start): count, sum, min, max, first, last, increase.
 *
 * - missing: an expected rollup no record carries;
 * - double_counted: a record carries it with a larger count than expected (input counted twice);
 * - different: a record carries it with other values (or a rollup that should not exist at all);
 * - replays: extra records identical to one already seen (allowed: a replay re-emits identical records).
 */
import type { Rollup, RollupBatch } from '../../../src/model/types.js';

export interface RollupComparison {
  rows_expected: number;
  rows_seen: number;
  missing: number;
  double_counted: number;
  different: number;
  replays: number;
}

/** The identity of a rollup: series and window start. */
export function rollupKey(r: Rollup): string {
  const labels = Object.keys(r.labels)
    .sort()
    .map((k) => `${k}=${r.labels[k]}`)
    .join(',');
  return `${r.name}{${labels}}@${r.start}`;
}

const valueOf = (r: Rollup) => JSON.stringify([r.count, r.sum, r.min, r.max, r.first, r.last, r.increase]);

/** Expected rollups by key (from an uninterrupted run's records). */
export function expectedRollups(batches: Iterable<RollupBatch>): Map<string, Rollup> {
  const out = new Map<string, Rollup>();
  for (const b of batches) for (const r of b.rollups) out.set(rollupKey(r), r);
  return out;
}

export function compareRollups(expected: Map<string, Rollup>, consumed: Iterable<RollupBatch>): RollupComparison {
  const seen = new Map<string, Set<string>>();
  let copies = 0;
  const recordsSeen = new Set<string>();
  for (const b of consumed) {
    const text = JSON.stringify(b);
    if (recordsSeen.has(text)) copies++;
    recordsSeen.add(text);
    for (const r of b.rollups) {
      const k = rollupKey(r);
      let values = seen.get(k);
      if (!values) seen.set(k, (values = new Set()));
      values.add(valueOf(r));
    }
  }
  let missing = 0;
  let doubleCounted = 0;
  let different = 0;
  for (const [k, r] of expected) {
    const values = seen.get(k);
    if (!values) {
      missing++;
      continue;
    }
    const want = valueOf(r);
    for (const v of values) {
      if (v === want) continue;
      if ((JSON.parse(v) as number[])[0]! > r.count) doubleCounted++;
      else different++;
    }
  }
  for (const k of seen.keys()) if (!expected.has(k)) different++;
  return { rows_expected: expected.size, rows_seen: seen.size, missing, double_counted: doubleCounted, different, replays: copies };
}
