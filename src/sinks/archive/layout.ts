/**
 * The archive's object layout (docs/archive.md), pure functions only:
 *
 *   resolution={raw,1m,1h}/date=YYYY-MM-DD/hour=HH/part-<partition>-<firstOffset>-<lastOffset>.parquet
 *
 * The hour is the UTC hour of the sample timestamp (raw) or window start (rollups). The name comes
 * from the input partition and the Kafka offset range of the records whose rows are in the file, so
 * a replay rewrites the same name. Within one (resolution, date, hour, partition), a file whose
 * offset range lies strictly inside another file's range is superseded by it (compaction writes the
 * merged file first and deletes the parts after): readers that apply `liveObjects` never see a row twice.
 */
import { parseDurationMs as parseDurationLiteral } from '../../dsl/duration.js';
import { ArchiveError } from './archive-error.js';

export const RESOLUTIONS = ['raw', '1m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** One archive object, parsed from its key. */
export interface PartKey {
  resolution: Resolution;
  /** UTC start of the hour, ms. */
  hourStart: number;
  partition: number;
  firstOffset: number;
  lastOffset: number;
}

const KEY = /^resolution=(raw|1m|1h)\/date=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})\/part-(\d+)-(\d+)-(\d+)\.parquet$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** UTC start of the hour that contains `ts` (ms). */
export function hourStartOf(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/** `resolution=R/date=YYYY-MM-DD/hour=HH/` for the hour starting at `hourStart`. */
export function hourPrefix(resolution: Resolution, hourStart: number): string {
  const d = new Date(hourStart);
  return `resolution=${resolution}/date=${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}/`;
}

/** The key of an object. */
export function partKey(p: PartKey): string {
  if (p.firstOffset > p.lastOffset) throw new ArchiveError('ARCHIVE_BAD_KEY', `Bad offset range ${p.firstOffset}-${p.lastOffset}`);
  return `${hourPrefix(p.resolution, p.hourStart)}part-${p.partition}-${p.firstOffset}-${p.lastOffset}.parquet`;
}

/** Parses an object key (relative to the archive root); null for anything that is not an archive part. */
export function parsePartKey(key: string): PartKey | null {
  const m = KEY.exec(key);
  if (!m) return null;
  const hourStart = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]));
  if (!Number.isFinite(hourStart) || Number(m[5]) > 23) return null;
  const firstOffset = Number(m[7]);
  const lastOffset = Number(m[8]);
  if (firstOffset > lastOffset) return null;
  return { resolution: m[1] as Resolution, hourStart, partition: Number(m[6]), firstOffset, lastOffset };
}

/** Key of the group a part belongs to: one (resolution, hour, partition). */
export function groupOf(p: PartKey): string {
  return `${hourPrefix(p.resolution, p.hourStart)}${p.partition}`;
}

/** True when `outer` supersedes `inner`: same group, range contains it and is not the same range. */
export function supersedes(outer: PartKey, inner: PartKey): boolean {
  return (
    groupOf(outer) === groupOf(inner) &&
    outer.firstOffset <= inner.firstOffset &&
    outer.lastOffset >= inner.lastOffset &&
    (outer.firstOffset !== inner.firstOffset || outer.lastOffset !== inner.lastOffset)
  );
}

/** Splits keys into live parts and superseded ones (what compaction left to delete). Unknown keys are dropped. */
export function liveObjects<T extends { key: string }>(objects: readonly T[]): { live: (T & { part: PartKey })[]; superseded: (T & { part: PartKey })[] } {
  const groups = new Map<string, (T & { part: PartKey })[]>();
  for (const o of objects) {
    const part = parsePartKey(o.key);
    if (!part) continue;
    const g = groupOf(part);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push({ ...o, part });
  }
  const live: (T & { part: PartKey })[] = [];
  const superseded: (T & { part: PartKey })[] = [];
  for (const list of groups.values()) {
    // Widest ranges first: a part is superseded iff some wider-or-equal earlier one covers it.
    list.sort((a, b) => a.part.firstOffset - b.part.firstOffset || b.part.lastOffset - a.part.lastOffset);
    let coverLast = -1;
    let coverFirst = -1;
    for (const o of list) {
      if (coverFirst >= 0 && o.part.firstOffset >= coverFirst && o.part.lastOffset <= coverLast) superseded.push(o);
      else {
        live.push(o);
        if (o.part.lastOffset > coverLast) {
          coverFirst = o.part.firstOffset;
          coverLast = o.part.lastOffset;
        }
      }
    }
  }
  return { live, superseded };
}

/** Parses a duration such as `30d`, `1h30m`, `400d` (config.archive.retention) to ms; ArchiveError if it is not one. */
export function parseDurationMs(text: string): number {
  const ms = parseDurationLiteral(text);
  if (Number.isNaN(ms)) throw new ArchiveError('ARCHIVE_BAD_OPTION', `Invalid duration "${text}": expected e.g. 30d, 12h, 1h30m`);
  return ms;
}
