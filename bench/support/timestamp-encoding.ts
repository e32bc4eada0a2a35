/**
 * What the archive's timestamp column costs as DELTA_BINARY_PACKED under two page layouts, computed
 * from the encoding's rules (timestampPagesBytes, the size the archive's writer uses to choose):
 * one stream per row group (in 128-value blocks; DuckDB 1.5 writes such a stream in 2,048-value
 * blocks, measured by the bench itself) and one page per series (what the archive writes for
 * jittered timestamps). In one stream, each series boundary (the jump from one series' last
 * timestamp back to the next one's first, about -1 h in an hourly file) sets the min delta of its
 * block, so every value of that block is packed at ~22 bits; a page per series never holds it.
 */
import { rankSeries, sortPermutation, gather, type RawRows } from '../../src/sinks/archive/archive-rows.js';
import { timestampPagesBytes } from '../../src/sinks/archive/timestamp-column.js';

/** Bytes per sample of the timestamp column of `chunks` in archive order, per layout. */
export function timestampLayouts(chunks: readonly RawRows[], rowGroupSize: number): { oneStream: number; pagePerSeries: number } {
  let samples = 0;
  let oneStream = 0;
  let pagePerSeries = 0;
  for (const rows of chunks) {
    const { rank } = rankSeries(rows.series, 'name-series-time');
    const perm = sortPermutation(rows.seriesIndex, rows.timestamps, rows.length, rank, 'name-series-time');
    const ts = gather(rows.timestamps, perm);
    samples += rows.length;
    const groups: number[] = [];
    for (let g = 0; g < rows.length; g += rowGroupSize) groups.push(g);
    oneStream += timestampPagesBytes(ts, groups).bytes;
    const series: number[] = [];
    for (let i = 0; i < rows.length; i++) if (i === 0 || rank[rows.seriesIndex[perm[i]!]!] !== rank[rows.seriesIndex[perm[i - 1]!]!]) series.push(i);
    pagePerSeries += timestampPagesBytes(ts, series).bytes;
  }
  return { oneStream: oneStream / samples, pagePerSeries: pagePerSeries / samples };
}
