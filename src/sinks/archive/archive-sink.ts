/**
 * The archive writer's core, without Kafka: routes input records into per (resolution, partition,
 * hour) buffers, decides when a buffer becomes a file, writes it durably and says which input offset
 * may be committed. The Kafka wiring is archive-writer.ts.
 *
 * Exactly-once files without transactions:
 * - A record's rows for one hour always go to ONE file, and a file covers a contiguous range of
 *   records, named part-<partition>-<first>-<last>; size and hour-close triggers are evaluated at
 *   record boundaries, so a replay of the same records cuts the same files with the same names.
 * - The committable offset of an input partition is the first offset of its oldest unwritten buffer,
 *   so input offsets are committed only after every row they carry is in a durable object.
 * - High-water marks: before rows for (resolution, partition, hour) are buffered, the existing objects
 *   of that group are listed; records at or below their highest last offset are already archived and
 *   skipped. A crash between writing an object and committing offsets therefore never duplicates rows.
 * - Rollup identity: the engine may replay rollup records at NEW offsets after its own crash (same
 *   content). A rollup row whose (series, window start) is already archived or buffered is skipped;
 *   the pairs of a group are read from its files when the group is first used (archive-groups.ts),
 *   so this also holds across archive restarts and crashes.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { DecodedBatch } from '../../model/decoded-batch.js';
import type { Rollup } from '../../model/types.js';
import { canonicalSeries, seriesIdentity } from '../../model/series.js';
import { counter } from '../../obs/metrics.js';
import { componentLogger } from '../../obs/logger.js';
import { ArchiveBuffer } from './archive-buffer.js';
import { ArchiveGroups, type ArchiveGroup } from './archive-groups.js';
import type { ArchiveSeries } from './archive-rows.js';
import { HOUR_MS, hourStartOf, partKey, type Resolution } from './layout.js';
import type { ParquetWriter } from './parquet-writer.js';
import type { ObjectStore } from './storage/object-store.js';
import { idWordsOf } from './window-set.js';

const rowsWritten = counter('vigil_archive_rows_written_total', 'Rows written to archive files', ['resolution']);
const filesWritten = counter('vigil_archive_files_written_total', 'Archive files written', ['resolution']);
const bytesWritten = counter('vigil_archive_bytes_written_total', 'Bytes of archive files written', ['resolution']);
const rowsReceived = counter('vigil_archive_rows_received_total', 'Input rows buffered to be archived', ['resolution']);
const rowsSkipped = counter(
  'vigil_archive_rows_skipped_total',
  'Input rows not archived, by reason (already_archived: re-delivery of records in a durable file; duplicate: a rollup window archived before, replayed)',
  ['resolution', 'reason'],
);

export interface ArchiveSinkOptions {
  store: ObjectStore;
  writer: ParquetWriter;
  /** A buffer becomes a file once it holds this many rows (checked between records). Default 4,000,000. */
  maxRowsPerFile?: number;
  /** ... or once it is this old (wall clock). Default 5 minutes (config archive.flushAfter). */
  maxAgeMs?: number;
  /** An hour is closed when its partition's event time passes the hour's end by this much. Default 5 minutes. */
  closeGraceMs?: number;
  /**
   * Files written at the same time, each of a different (resolution, partition). Default: the
   * available cores, at most 4 (each write holds its rows twice in memory while DuckDB encodes them).
   */
  writeConcurrency?: number;
  /** Test hook: awaited after the Parquet file is complete and before it is stored. */
  beforePut?: (key: string) => Promise<void>;
}

/** What one flushed buffer became. */
export interface FlushedFile {
  key: string;
  rows: number;
  bytes: number;
}

/** How `flush` may be cut short and reports progress. */
export interface FlushOptions {
  /**
   * Checked before each file: once it returns true, the buffers not started yet stay buffered (they
   * hold back their partition's commits as usual) and `flush` returns what was written.
   */
  stopWhen?: () => boolean;
  /** Called after each file is durable, with the files written so far by this flush. */
  onWritten?: (file: FlushedFile, written: number) => void;
}

/** Input position of one (resolution, partition). */
interface InputState {
  lastOffset: number;
  eventTime: number;
}

/** A rollup series of the archive, with its id's two int32 words (the key of WindowSet). */
interface RollupSeries {
  series: ArchiveSeries;
  lo: number;
  hi: number;
}

const key3 = (r: Resolution, p: number, h: number) => `${r}|${p}|${h}`;
const key2 = (r: Resolution, p: number) => `${r}|${p}`;

export class ArchiveSink {
  private readonly open = new Map<string, ArchiveBuffer>();
  /** Buffers that reached their size: waiting for the next flush. */
  private readonly sealed: ArchiveBuffer[] = [];
  /** Buffers handed out by `due`/`all` and not yet written: they still hold back commits. */
  private readonly inflight = new Set<ArchiveBuffer>();
  private readonly groups: ArchiveGroups;
  private readonly inputs = new Map<string, InputState>();
  private readonly rollupSeries = new Map<string, RollupSeries>();
  private readonly maxRows: number;
  private readonly maxAgeMs: number;
  private readonly closeGraceMs: number;
  private readonly writeConcurrency: number;
  private readonly log = componentLogger('archive');

  constructor(private readonly options: ArchiveSinkOptions) {
    this.maxRows = options.maxRowsPerFile ?? 4_000_000;
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.closeGraceMs = options.closeGraceMs ?? 300_000;
    this.writeConcurrency = Math.max(1, options.writeConcurrency ?? Math.min(4, availableParallelism()));
    this.groups = new ArchiveGroups(options.store, options.writer);
  }

  /** Distinct hour starts of a raw batch's samples. */
  static hoursOfBatch(batch: DecodedBatch): Set<number> {
    const hours = new Set<number>();
    let last = Number.NaN;
    for (let i = 0; i < batch.length; i++) {
      const h = hourStartOf(batch.timestamps[i]!);
      if (h !== last) hours.add((last = h));
    }
    return hours;
  }

  /**
   * Loads what the store holds of these hours (high-water marks; rollup windows) unless loaded. Call
   * right before `add*` for the same record (no `due` in between).
   */
  async prepare(resolution: Resolution, partition: number, hours: Iterable<number>): Promise<void> {
    for (const h of hours) await this.groups.load(resolution, partition, h);
  }

  /** Buffers the samples of one `metrics` record. Its hours must have been `prepare`d. */
  addRaw(partition: number, offset: number, batch: DecodedBatch, now: number): void {
    const input = this.input('raw', partition, offset);
    if (!input) return;
    let buf: ArchiveBuffer | undefined;
    let bufHour = Number.NaN;
    let skipped = 0;
    const touched: ArchiveBuffer[] = [];
    for (let i = 0; i < batch.length; i++) {
      const ts = batch.timestamps[i]!;
      if (ts > input.eventTime) input.eventTime = ts;
      const h = hourStartOf(ts);
      if (h !== bufHour) {
        bufHour = h;
        buf = this.bufferFor('raw', partition, h, offset, now);
        if (buf && !touched.includes(buf)) touched.push(buf);
      }
      if (!buf) {
        skipped++;
        continue;
      }
      const ref = batch.seriesRefs[i]!;
      const s = buf.seriesOf(ref, () => {
        const info = batch.series.get(ref);
        return { id: info.id, name: info.name, labels: info.labels };
      });
      buf.addSample(s, ts, batch.values[i]!);
    }
    if (skipped > 0) rowsSkipped.inc({ resolution: 'raw', reason: 'already_archived' }, skipped);
    if (batch.length > skipped) rowsReceived.inc({ resolution: 'raw' }, batch.length - skipped);
    this.afterRecord(touched, offset);
  }

  /**
   * Buffers the rollups of one rollup-topic record, except windows archived or buffered before (a
   * replay). Its hours must have been `prepare`d.
   */
  addRollups(resolution: Resolution, partition: number, offset: number, rollups: readonly Rollup[], now: number): void {
    const input = this.input(resolution, partition, offset);
    if (!input) return;
    const touched: ArchiveBuffer[] = [];
    let archived = 0;
    let duplicates = 0;
    let hour = Number.NaN;
    let group: ArchiveGroup | undefined;
    let buf: ArchiveBuffer | undefined;
    for (const r of rollups) {
      if (r.start > input.eventTime) input.eventTime = r.start;
      if (hourStartOf(r.start) !== hour) {
        hour = hourStartOf(r.start);
        group = this.group(resolution, partition, hour);
        buf = undefined;
      }
      if (offset <= group!.highWater) {
        archived++;
        continue;
      }
      const canonical = canonicalSeries(r.name, r.labels);
      const series = this.rollupSeriesOf(canonical, r);
      if (!group!.windows!.add(series.lo, series.hi, r.start)) {
        duplicates++;
        continue;
      }
      if (!buf) {
        buf = this.openBuffer(resolution, partition, hour, now);
        if (!touched.includes(buf)) touched.push(buf);
      }
      buf.addRollup(buf.seriesOf(canonical, () => series.series), r);
    }
    if (archived > 0) rowsSkipped.inc({ resolution, reason: 'already_archived' }, archived);
    if (duplicates > 0) rowsSkipped.inc({ resolution, reason: 'duplicate' }, duplicates);
    if (rollups.length > archived + duplicates) rowsReceived.inc({ resolution }, rollups.length - archived - duplicates);
    this.afterRecord(touched, offset);
  }

  /** Records that carried nothing archivable still advance the committable offset. */
  skipRecord(resolution: Resolution, partition: number, offset: number): void {
    this.input(resolution, partition, offset);
  }

  private rollupSeriesOf(canonical: string, r: Rollup): RollupSeries {
    let s = this.rollupSeries.get(canonical);
    if (!s) {
      const id = seriesIdentity(r.name, r.labels);
      const [lo, hi] = idWordsOf(id.id);
      s = { series: { id: id.id, name: id.name, labels: id.labels }, lo, hi };
      if (this.rollupSeries.size > 1_000_000) this.rollupSeries.clear();
      this.rollupSeries.set(canonical, s);
    }
    return s;
  }

  /** The input state, or undefined when record `offset` was already added (a redelivered batch). */
  private input(resolution: Resolution, partition: number, offset: number): InputState | undefined {
    const k = key2(resolution, partition);
    let st = this.inputs.get(k);
    if (!st) this.inputs.set(k, (st = { lastOffset: -1, eventTime: Number.NEGATIVE_INFINITY }));
    if (offset <= st.lastOffset) return undefined;
    st.lastOffset = offset;
    return st;
  }

  private group(resolution: Resolution, partition: number, hour: number): ArchiveGroup {
    const group = this.groups.get(resolution, partition, hour);
    if (!group) throw new Error(`archive: hour ${new Date(hour).toISOString()} of ${key2(resolution, partition)} was not prepared`);
    return group;
  }

  /** The open buffer for rows of record `offset`, or undefined when that record is already archived. */
  private bufferFor(resolution: Resolution, partition: number, hour: number, offset: number, now: number): ArchiveBuffer | undefined {
    if (offset <= this.group(resolution, partition, hour).highWater) return undefined;
    return this.openBuffer(resolution, partition, hour, now);
  }

  private openBuffer(resolution: Resolution, partition: number, hour: number, now: number): ArchiveBuffer {
    const k = key3(resolution, partition, hour);
    let buf = this.open.get(k);
    if (!buf) this.open.set(k, (buf = new ArchiveBuffer(resolution, partition, hour, now)));
    return buf;
  }

  private afterRecord(touched: ArchiveBuffer[], offset: number): void {
    for (const buf of touched) {
      buf.touch(offset);
      if (buf.length >= this.maxRows) {
        this.open.delete(key3(buf.resolution, buf.partition, buf.hourStart));
        this.sealed.push(buf);
      }
    }
  }

  /** Buffers that should become files now: full, in a closed hour, or older than maxAge. */
  due(now: number): ArchiveBuffer[] {
    this.forgetClosedGroups();
    const out = this.sealed.splice(0);
    for (const [k, buf] of this.open) {
      if (this.closed(buf.resolution, buf.partition, buf.hourStart) || now - buf.openedAt >= this.maxAgeMs) {
        this.open.delete(k);
        out.push(buf);
      }
    }
    for (const b of out) this.inflight.add(b);
    return out;
  }

  /** True when the partition's event time passed the hour's end + close grace. */
  private closed(resolution: Resolution, partition: number, hourStart: number): boolean {
    const input = this.inputs.get(key2(resolution, partition));
    return input !== undefined && input.eventTime >= hourStart + HOUR_MS + this.closeGraceMs;
  }

  /**
   * Forgets the groups of closed hours whose rows are all in files (a record that needs one again
   * loads it from the store): memory stays bounded by the open hours.
   */
  private forgetClosedGroups(): void {
    const pending = new Set<string>();
    for (const b of [...this.open.values(), ...this.sealed, ...this.inflight]) pending.add(key3(b.resolution, b.partition, b.hourStart));
    for (const g of [...this.groups.values()]) {
      if (!pending.has(key3(g.resolution, g.partition, g.hourStart)) && this.closed(g.resolution, g.partition, g.hourStart)) this.groups.delete(g);
    }
  }

  /** Every buffer, for a clean shutdown. */
  all(): ArchiveBuffer[] {
    const out = this.sealed.splice(0);
    out.push(...this.open.values());
    this.open.clear();
    for (const b of out) this.inflight.add(b);
    return out;
  }

  /**
   * Writes buffers as durable objects, updating the high-water marks. Buffers of one (resolution,
   * partition) are written in order, one at a time: the high-water mark of an hour may only pass a
   * record once every earlier buffer of its partition is durable, or a crash would skip its rows on
   * replay. Different (resolution, partition) groups are written concurrently (`writeConcurrency`): a
   * DuckDB COPY keeping the archive's row order runs on one thread, so this is what uses the other
   * cores. A failed write puts its buffer and the later ones of its group back (nothing is committed
   * past them; the next flush retries); the other groups finish, then the first error is thrown.
   * `options.stopWhen` cuts a flush short between files the same way, without an error (a stop
   * with a deadline). Returns the files written, in the order of `buffers`.
   */
  async flush(buffers: readonly ArchiveBuffer[], options: FlushOptions = {}): Promise<FlushedFile[]> {
    const groups = new Map<string, number[]>();
    buffers.forEach((buf, i) => {
      const k = key2(buf.resolution, buf.partition);
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    const results: (FlushedFile | undefined)[] = new Array(buffers.length);
    const queue = [...groups.values()];
    const failures: { index: number; err: unknown }[] = [];
    let written = 0;
    const putBack = (rest: ArchiveBuffer[]) => {
      for (const b of rest) this.inflight.delete(b);
      this.sealed.unshift(...rest);
    };
    const worker = async (): Promise<void> => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (let j = 0; j < group.length; j++) {
          if (options.stopWhen?.()) {
            putBack(group.slice(j).map((i) => buffers[i]!));
            break;
          }
          try {
            const file = await this.writeBuffer(buffers[group[j]!]!);
            results[group[j]!] = file;
            if (file) options.onWritten?.(file, ++written);
          } catch (err) {
            putBack(group.slice(j).map((i) => buffers[i]!));
            failures.push({ index: group[j]!, err });
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writeConcurrency, groups.size) }, worker));
    if (failures.length > 0) throw failures.sort((a, b) => a.index - b.index)[0]!.err;
    return results.filter((f): f is FlushedFile => f !== undefined);
  }

  /** One buffer as a durable object; undefined for an empty buffer. */
  private async writeBuffer(buf: ArchiveBuffer): Promise<FlushedFile | undefined> {
    if (buf.length === 0) {
      this.inflight.delete(buf);
      return undefined;
    }
    const key = partKey({ resolution: buf.resolution, hourStart: buf.hourStart, partition: buf.partition, firstOffset: buf.firstOffset, lastOffset: buf.lastOffset });
    const tmp = join(await this.options.store.tempDir(), `${randomBytes(8).toString('hex')}.parquet.tmp`);
    try {
      const stats = buf.resolution === 'raw' ? await this.options.writer.writeRaw(buf.rawRows(), tmp) : await this.options.writer.writeRollups(buf.rollupRows(), tmp);
      await this.options.beforePut?.(key);
      await this.options.store.putFile(key, tmp);
      // The group is loaded: a pending buffer keeps it (forgetClosedGroups).
      const group = this.groups.get(buf.resolution, buf.partition, buf.hourStart);
      if (group) group.highWater = Math.max(group.highWater, buf.lastOffset);
      rowsWritten.inc({ resolution: buf.resolution }, stats.rows);
      filesWritten.inc({ resolution: buf.resolution });
      bytesWritten.inc({ resolution: buf.resolution }, stats.bytes);
      this.log.info({ key, rows: stats.rows, bytes: stats.bytes }, 'archive file written');
      this.inflight.delete(buf);
      return { key, rows: stats.rows, bytes: stats.bytes };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * The offset to commit for (resolution, partition): the next record not yet in a durable file
   * (Kafka's "next offset to read"), or undefined before any record was seen.
   */
  committable(resolution: Resolution, partition: number): number | undefined {
    const input = this.inputs.get(key2(resolution, partition));
    if (!input) return undefined;
    let next = input.lastOffset + 1;
    for (const buf of [...this.open.values(), ...this.sealed, ...this.inflight]) {
      if (buf.resolution === resolution && buf.partition === partition && buf.firstOffset >= 0 && buf.firstOffset < next) next = buf.firstOffset;
    }
    return next;
  }

  /** (resolution, partition) pairs seen so far. */
  inputsSeen(): { resolution: Resolution; partition: number }[] {
    return [...this.inputs.keys()].map((k) => {
      const [r, p] = k.split('|');
      return { resolution: r as Resolution, partition: Number(p) };
    });
  }

  /** Forgets a partition this instance no longer owns (its unwritten rows are re-read by the new owner). */
  dropPartition(resolution: Resolution, partition: number): void {
    for (const [k, buf] of this.open) if (buf.resolution === resolution && buf.partition === partition) this.open.delete(k);
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      const b = this.sealed[i]!;
      if (b.resolution === resolution && b.partition === partition) this.sealed.splice(i, 1);
    }
    for (const b of this.inflight) if (b.resolution === resolution && b.partition === partition) this.inflight.delete(b);
    this.inputs.delete(key2(resolution, partition));
    this.groups.dropPartition(resolution, partition);
  }

  /** Rows buffered and not yet written. */
  get bufferedRows(): number {
    let n = 0;
    for (const b of this.open.values()) n += b.length;
    for (const b of this.sealed) n += b.length;
    return n;
  }
}
