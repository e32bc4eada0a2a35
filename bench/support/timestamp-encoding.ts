/**
 * What the archive's timestamp column costs under DELTA_BINARY_PACKED page layouts other than the one
 * DuckDB writes, computed exactly from the encoding's rules (parquet-format Encodings.md: a header,
 * then blocks of 128 deltas, each with its min delta and 4 miniblocks of 32 bit-packed at the width of
 * their largest delta above the block's min). DuckDB 1.5 writes one stream per column chunk in
 * blocks of 2,048 values: a series boundary (the jump from one series' last timestamp back to the
 * next one's first, about -1 h in an hourly file) sets the min delta of its block, so every value of
 * that block is packed at ~22 bits. Pages that start at series boundaries never contain that jump.
 */
import { rankSeries, sortPermutation, gather, type RawRows } from '../../src/sinks/archive/archive-rows.js';

/** Bytes of a zigzag varint. */
function varintBytes(v: number): number {
  let z = v >= 0 ? 2 * v : -2 * v - 1;
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

/** Encoded bytes of DELTA_BINARY_PACKED (block 128, 4 miniblocks of 32) of ts[a..b). */
export function deltaBinaryPackedBytes(ts: Float64Array, a: number, b: number): number {
  let bytes = 2 + 1 + varintBytes(b - a) + varintBytes(ts[a]!);
  for (let i = a + 1; i < b; i += 128) {
    const end = Math.min(b, i + 128);
    let min = Infinity;
    for (let j = i; j < end; j++) min = Math.min(min, ts[j]! - ts[j - 1]!);
    bytes += varintBytes(min) + 4;
    for (let m = i; m < end; m += 32) {
      let max = 0;
      for (let j = m; j < Math.min(end, m + 32); j++) max = Math.max(max, ts[j]! - ts[j - 1]! - min);
      bytes += (32 * (max === 0 ? 0 : Math.floor(Math.log2(max)) + 1)) / 8;
    }
  }
  return bytes;
}

/** A data page header (thrift) of a few hundred values: about this many bytes. */
const PAGE_HEADER_BYTES = 24;

/**
 * The timestamp column of `chunks` in archive order (name, series, time), per row group of
 * `rowGroupSize` rows: one DELTA_BINARY_PACKED stream per row group in 128-value blocks, and one page
 * per series. Bytes per sample, uncompressed (bit-packed deltas of jitter do not compress).
 */
export function timestampLayouts(chunks: readonly RawRows[], rowGroupSize: number): { oneStream: number; pagePerSeries: number } {
  let samples = 0;
  let oneStream = 0;
  let pagePerSeries = 0;
  for (const rows of chunks) {
    const { rank } = rankSeries(rows.series, 'name-series-time');
    const perm = sortPermutation(rows.seriesIndex, rows.timestamps, rows.length, rank, 'name-series-time');
    const ts = gather(rows.timestamps, perm);
    samples += rows.length;
    for (let g = 0; g < rows.length; g += rowGroupSize) oneStream += deltaBinaryPackedBytes(ts, g, Math.min(rows.length, g + rowGroupSize)) + PAGE_HEADER_BYTES;
    let a = 0;
    for (let i = 1; i <= rows.length; i++) {
      if (i < rows.length && rank[rows.seriesIndex[perm[i]!]!] === rank[rows.seriesIndex[perm[a]!]!]) continue;
      pagePerSeries += deltaBinaryPackedBytes(ts, a, i) + PAGE_HEADER_BYTES;
      a = i;
    }
  }
  return { oneStream: oneStream / samples, pagePerSeries: pagePerSeries / samples };
}
