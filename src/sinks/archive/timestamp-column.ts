/**
 * The raw files' `timestamp` column, written by Vigil instead of DuckDB: DELTA_BINARY_PACKED with one
 * data page per series. DuckDB 1.5 writes a column chunk as one DELTA stream in blocks of 2,048
 * values, so the jump at every series boundary (about -1 h in an hourly file, every ~360 rows) makes
 * its block pack all its deltas at ~22 bits; a page per series never holds that jump, and scrape
 * jitter of tens of ms then packs at ~7 bits (measured by bench/archive.ts: 1.65 -> ~1.1 B/sample).
 *
 * DuckDB writes the file's other columns; `appendTimestampColumn` then appends this column's chunks
 * after DuckDB's data and rewrites only the footer: the column is inserted into the schema and into
 * every row group, everything DuckDB wrote (offsets, statistics, page indexes) stays byte for byte.
 * The column is the one DuckDB wrote before (INT64, TIMESTAMP(MILLIS, isAdjustedToUTC=false),
 * optional), so old and new files read as one table; every Parquet reader reads DELTA_BINARY_PACKED
 * data pages (format 2.x; Spark, Trino, DuckDB, Arrow).
 * The footer is thrift compact: parsed with hyparquet's and written with hyparquet-writer's codec.
 */
import { open } from 'node:fs/promises';
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { ArchiveError } from './archive-error.js';

// parquet.thrift enum values.
const INT64 = 2;
const OPTIONAL = 1;
const TIMESTAMP_MILLIS = 9;
const UNCOMPRESSED = 0;
const DATA_PAGE = 0;
const RLE = 3;
const DELTA_BINARY_PACKED = 5;

// Blocks of 128 deltas, as 4 miniblocks of 32 or as 1 of 128, whichever is smaller for the page (the
// header of each page says which): jitter packs at the same width over 128 deltas as over 32, so one
// miniblock saves 3 width bytes per block, but a page's last miniblock is padded to full length.
const BLOCK = 128;
const LAYOUTS = [4, 1] as const;

type Thrift = Record<string, any>;

/** Unsigned LEB128 of a non-negative integer up to 2^53. */
function varint(w: ByteWriter, v: number): void {
  while (v >= 128) {
    w.appendUint8((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  w.appendUint8(v);
}

const zigzag = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);

/**
 * DELTA_BINARY_PACKED of ts[a..b) (integers, ascending within the range so deltas fit 32 bits) with
 * `miniblocks` miniblocks per 128-delta block: header, then per block its min delta, the miniblocks'
 * widths and the miniblocks packed at the width of their largest delta above the block's min.
 */
export function deltaBinaryPacked(w: ByteWriter, ts: Float64Array, a: number, b: number, miniblocks: number = bestLayout(ts, a, b)): void {
  const per = BLOCK / miniblocks;
  varint(w, BLOCK);
  varint(w, miniblocks);
  varint(w, b - a);
  varint(w, zigzag(ts[a]!));
  const deltas = new Uint32Array(BLOCK);
  const widths = new Uint8Array(miniblocks);
  for (let i = a + 1; i < b; i += BLOCK) {
    const n = Math.min(BLOCK, b - i);
    let min = Infinity;
    for (let j = 0; j < n; j++) min = Math.min(min, ts[i + j]! - ts[i + j - 1]!);
    for (let j = 0; j < n; j++) {
      const d = ts[i + j]! - ts[i + j - 1]! - min;
      if (!(d < 2 ** 32)) throw new ArchiveError('ARCHIVE_WRITE', `Timestamps of one series ${ts[i + j - 1]} and ${ts[i + j]} are too far apart for the timestamp column`);
      deltas[j] = d;
    }
    deltas.fill(0, n);
    varint(w, zigzag(min));
    const used = Math.ceil(n / per);
    for (let m = 0; m < miniblocks; m++) {
      let max = 0;
      if (m < used) for (let j = m * per; j < (m + 1) * per; j++) max = Math.max(max, deltas[j]!);
      widths[m] = max === 0 ? 0 : 32 - Math.clz32(max);
      w.appendUint8(widths[m]!);
    }
    for (let m = 0; m < used; m++) packMiniblock(w, deltas, m * per, per, widths[m]!);
  }
}

/** Bytes of the blocks of ts[a..b) with `miniblocks` per block (what deltaBinaryPacked writes after its header); `packed`: the miniblocks alone. */
function blockBytes(ts: Float64Array, a: number, b: number, miniblocks: number): { bytes: number; packed: number } {
  const per = BLOCK / miniblocks;
  let bytes = 0;
  let packed = 0;
  for (let i = a + 1; i < b; i += BLOCK) {
    const n = Math.min(BLOCK, b - i);
    let min = Infinity;
    for (let j = 0; j < n; j++) min = Math.min(min, ts[i + j]! - ts[i + j - 1]!);
    bytes += varintBytes(zigzag(min)) + miniblocks;
    for (let m = 0; m * per < n; m++) {
      let max = 0;
      for (let j = m * per; j < Math.min(n, (m + 1) * per); j++) max = Math.max(max, ts[i + j]! - ts[i + j - 1]! - min);
      packed += (per * (max === 0 ? 0 : 32 - Math.clz32(max))) / 8;
    }
  }
  return { bytes: bytes + packed, packed };
}

/** The miniblock count (4 or 1) that makes the page of ts[a..b) smaller. */
function bestLayout(ts: Float64Array, a: number, b: number): number {
  return blockBytes(ts, a, b, 1).bytes < blockBytes(ts, a, b, 4).bytes ? 1 : 4;
}

/** Bytes of a varint. */
function varintBytes(v: number): number {
  let n = 1;
  for (; v >= 128; v = Math.floor(v / 128)) n++;
  return n;
}

/** Page header (thrift) + definition levels of one data page of a few hundred values: about this many bytes. */
const PAGE_OVERHEAD_BYTES = 24;

/**
 * The bytes `appendTimestampColumn` writes for ts[0..n) with pages starting at `seriesStarts`
 * (row-group boundaries aside), computed without encoding; `packed`: the bit-packed deltas alone,
 * ~0 when every series is scraped at exact intervals (then DuckDB's own compressed column is smaller:
 * how ParquetWriter chooses).
 */
export function timestampPagesBytes(ts: Float64Array, seriesStarts: readonly number[]): { bytes: number; packed: number } {
  let bytes = 0;
  let packed = 0;
  for (let s = 0; s < seriesStarts.length; s++) {
    const a = seriesStarts[s]!;
    const b = s + 1 < seriesStarts.length ? seriesStarts[s + 1]! : ts.length;
    const best = LAYOUTS.map((m) => blockBytes(ts, a, b, m)).reduce((x, y) => (y.bytes < x.bytes ? y : x));
    bytes += PAGE_OVERHEAD_BYTES + 3 + varintBytes(b - a) + varintBytes(zigzag(ts[a]!)) + best.bytes;
    packed += best.packed;
  }
  return { bytes, packed };
}

/** A miniblock's values at `width` bits each, least significant bit first. */
function packMiniblock(w: ByteWriter, values: Uint32Array, from: number, count: number, width: number): void {
  if (width === 0) return;
  let acc = 0;
  let bits = 0;
  for (let j = from; j < from + count; j++) {
    // acc holds < 8 bits before the add: acc + v * 2^bits < 2^40, exact in a double.
    acc += values[j]! * 2 ** bits;
    bits += width;
    while (bits >= 8) {
      w.appendUint8(acc % 256);
      acc = Math.floor(acc / 256);
      bits -= 8;
    }
  }
  if (bits > 0) w.appendUint8(acc);
}

/** INT64 little-endian bytes of a statistic. */
function int64Bytes(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(v), true);
  return out;
}

/**
 * One column chunk of ts[a..b): a DATA_PAGE per series run (`starts`: row indexes where a series
 * begins, ascending, within [a, b)), uncompressed (bit-packed jitter does not compress). Returns its
 * bytes and ColumnChunk (thrift) for a chunk placed at `offset`.
 */
function timestampChunk(ts: Float64Array, starts: readonly number[], a: number, b: number, offset: number): { bytes: Uint8Array; chunk: Thrift } {
  const out = new ByteWriter(Math.max(1024, (b - a) * 2));
  let min = Infinity;
  let max = -Infinity;
  const body = new ByteWriter(4096);
  for (let s = 0; s < starts.length; s++) {
    const from = starts[s]!;
    const to = s + 1 < starts.length ? starts[s + 1]! : b;
    body.index = 0;
    body.offset = 0;
    // Definition levels (all present): an RLE run of `to - from` ones at bit width 1, length-prefixed.
    const levels = new ByteWriter(16);
    varint(levels, (to - from) * 2);
    levels.appendUint8(1);
    body.appendUint32(levels.offset);
    body.appendBytes(levels.getBytes());
    deltaBinaryPacked(body, ts, from, to);
    for (let i = from; i < to; i++) {
      if (ts[i]! < min) min = ts[i]!;
      if (ts[i]! > max) max = ts[i]!;
    }
    serializeTCompactProtocol(out, {
      field_1: DATA_PAGE,
      field_2: body.offset,
      field_3: body.offset,
      field_5: { field_1: to - from, field_2: DELTA_BINARY_PACKED, field_3: RLE, field_4: RLE },
    });
    out.appendBytes(body.getBytes());
  }
  const size = BigInt(out.offset);
  const stats = { field_1: int64Bytes(max), field_2: int64Bytes(min), field_3: 0n, field_5: int64Bytes(max), field_6: int64Bytes(min) };
  const meta = {
    field_1: INT64,
    field_2: [RLE, DELTA_BINARY_PACKED],
    field_3: ['timestamp'],
    field_4: UNCOMPRESSED,
    field_5: BigInt(b - a),
    field_6: size,
    field_7: size,
    field_9: BigInt(offset),
    field_12: stats,
    field_13: [{ field_1: DATA_PAGE, field_2: DELTA_BINARY_PACKED, field_3: starts.length }],
  };
  return { bytes: out.getBytes(), chunk: { field_2: BigInt(offset), field_3: meta } };
}

/** Drops empty list fields (all optional in FileMetaData): the generic writer cannot type an empty list. */
function withoutEmptyLists(v: Thrift): Thrift {
  for (const [k, x] of Object.entries(v)) {
    if (Array.isArray(x)) {
      if (x.length === 0) delete v[k];
      else for (const e of x) if (e && typeof e === 'object' && !(e instanceof Uint8Array) && !Array.isArray(e)) withoutEmptyLists(e);
    } else if (x && typeof x === 'object' && !(x instanceof Uint8Array)) withoutEmptyLists(x);
  }
  return v;
}

const text = (v: unknown): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v));

/**
 * Appends the `timestamp` column to the Parquet file at `path` that DuckDB wrote without it: row i
 * of the file has timestamp `ts[i]` (UTC ms); `seriesStarts` are the rows where a new series begins
 * (0 first). The column goes after `series_id` in the schema and in every row group.
 */
export async function appendTimestampColumn(path: string, ts: Float64Array, seriesStarts: readonly number[]): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const { size } = await file.stat();
    const tail = Buffer.alloc(8);
    await file.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== 'PAR1') throw new ArchiveError('ARCHIVE_WRITE', `${path} is not a Parquet file`);
    const footerLength = tail.readUInt32LE(0);
    const footerStart = size - 8 - footerLength;
    const footer = Buffer.alloc(footerLength);
    await file.read(footer, 0, footerLength, footerStart);
    const meta: Thrift = deserializeTCompactProtocol({ view: new DataView(footer.buffer, footer.byteOffset, footer.byteLength), offset: 0 });

    const schema: Thrift[] = meta.field_2;
    const after = schema.findIndex((e, i) => i > 0 && text(e.field_4) === 'series_id');
    if (after < 0) throw new ArchiveError('ARCHIVE_WRITE', `${path} has no series_id column`);
    schema.splice(after + 1, 0, { field_1: INT64, field_3: OPTIONAL, field_4: 'timestamp', field_6: TIMESTAMP_MILLIS, field_10: { field_8: { field_1: false, field_2: { field_1: {} } } } });
    schema[0]!.field_5 += 1;
    // One TypeDefinedOrder per leaf column, in leaf order: the new column is the 5th leaf.
    if (Array.isArray(meta.field_7)) meta.field_7.splice(4, 0, { field_1: {} });

    const parts: Uint8Array[] = [];
    let offset = footerStart;
    let row = 0;
    let s = 0;
    for (const rg of meta.field_4 as Thrift[]) {
      const rows = Number(rg.field_3);
      const end = row + rows;
      const starts = [row];
      while (s < seriesStarts.length && seriesStarts[s]! <= row) s++;
      while (s < seriesStarts.length && seriesStarts[s]! < end) starts.push(seriesStarts[s++]!);
      const { bytes, chunk } = timestampChunk(ts, starts, row, end, offset);
      parts.push(bytes);
      offset += bytes.length;
      const columns: Thrift[] = rg.field_1;
      const at = columns.findIndex((c) => Array.isArray(c.field_3?.field_3) && c.field_3.field_3.length === 1 && text(c.field_3.field_3[0]) === 'series_id');
      if (at < 0) throw new ArchiveError('ARCHIVE_WRITE', `${path}: a row group has no series_id column`);
      columns.splice(at + 1, 0, chunk);
      rg.field_2 = BigInt(rg.field_2) + BigInt(bytes.length);
      if (rg.field_6 !== undefined) rg.field_6 = BigInt(rg.field_6) + BigInt(bytes.length);
      // ordinal is an i16 that the generic thrift writer would write as an i32: leave it out (optional).
      delete rg.field_7;
      row = end;
    }
    if (row !== ts.length) throw new ArchiveError('ARCHIVE_WRITE', `${path} holds ${row} rows, ${ts.length} timestamps given`);
    const w = new ByteWriter(footerLength + 1024);
    serializeTCompactProtocol(w, withoutEmptyLists(meta));
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(w.offset, 0);
    trailer.write('PAR1', 4, 'latin1');
    await file.truncate(footerStart);
    await file.writev([...parts, w.getBytes(), trailer], footerStart);
  } finally {
    await file.close();
  }
}
