/**
 * `vigil archive retention`: deletes the hours that are entirely older than their resolution's
 * retention (config.archive.retention; defaults raw 30d, 1m 90d, 1h 400d). An hour [h, h+1h) expires
 * when h + 1h <= now - retention: never a row younger than the retention is deleted. Whole hours go,
 * so a reader never sees half an hour.
 */
import { HOUR_MS, hourPrefix, parseDurationMs, parsePartKey, RESOLUTIONS, type Resolution } from './layout.js';
import type { ObjectInfo, ObjectStore } from './storage/object-store.js';

/** One expired hour of one resolution and its objects. */
export interface ExpiredHour {
  resolution: Resolution;
  hourStart: number;
  prefix: string;
  objects: ObjectInfo[];
}

export interface RetentionPlan {
  /** Cutoff per resolution: hours ending at or before it expire. */
  cutoffs: Record<Resolution, number>;
  hours: ExpiredHour[];
}

export type Progress = (line: string) => void;

/** Retention durations (text from config) to ms, per resolution. */
export function retentionMs(retention: Record<Resolution, string>): Record<Resolution, number> {
  return { raw: parseDurationMs(retention.raw), '1m': parseDurationMs(retention['1m']), '1h': parseDurationMs(retention['1h']) };
}

/** Lists what retention would delete at time `now`. */
export async function planRetention(store: ObjectStore, retention: Record<Resolution, number>, now: number): Promise<RetentionPlan> {
  const cutoffs = {} as Record<Resolution, number>;
  const hours: ExpiredHour[] = [];
  for (const resolution of RESOLUTIONS) {
    const cutoff = now - retention[resolution];
    cutoffs[resolution] = cutoff;
    const byHour = new Map<number, ObjectInfo[]>();
    for (const o of await store.list(`resolution=${resolution}/`)) {
      const p = parsePartKey(o.key);
      if (!p || p.hourStart + HOUR_MS > cutoff) continue;
      let list = byHour.get(p.hourStart);
      if (!list) byHour.set(p.hourStart, (list = []));
      list.push(o);
    }
    for (const [hourStart, objects] of [...byHour].sort((a, b) => a[0] - b[0])) {
      hours.push({ resolution, hourStart, prefix: hourPrefix(resolution, hourStart), objects });
    }
  }
  return { cutoffs, hours };
}

/** Deletes the planned hours (or only reports them with `dryRun`), one progress line per hour. */
export async function runRetention(
  store: ObjectStore,
  plan: RetentionPlan,
  options: { dryRun?: boolean; progress?: Progress } = {},
): Promise<{ hours: number; objects: number; bytes: number }> {
  const say = options.progress ?? (() => undefined);
  let objects = 0;
  let bytes = 0;
  for (const h of plan.hours) {
    objects += h.objects.length;
    bytes += h.objects.reduce((s, o) => s + o.size, 0);
  }
  for (const r of RESOLUTIONS) {
    say(`${r}: hours ending before ${new Date(plan.cutoffs[r]).toISOString()} expire: ${plan.hours.filter((h) => h.resolution === r).length} hours`);
  }
  for (let i = 0; i < plan.hours.length; i++) {
    const h = plan.hours[i]!;
    const size = h.objects.reduce((s, o) => s + o.size, 0);
    if (!options.dryRun) await store.delete(h.objects.map((o) => o.key));
    say(`${options.dryRun ? 'would delete' : 'deleted'} ${h.prefix} (${h.objects.length} objects, ${formatBytes(size)}) [${i + 1}/${plan.hours.length}]`);
  }
  say(`${options.dryRun ? 'would delete' : 'deleted'} ${plan.hours.length} hours, ${objects} objects, ${formatBytes(bytes)}`);
  return { hours: plan.hours.length, objects, bytes };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
