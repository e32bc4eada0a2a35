/**
 * What the archive writer knows about each (resolution, partition, hour) it writes to: the highest
 * input offset already in its files (records at or below it are archived: a re-delivery after an
 * archive crash is skipped by offset) and, for rollups, every (series, window) archived or buffered
 * (a rollup replayed by the engine at a NEW offset, same content, is skipped by identity). Both are
 * loaded from the store the first time a group is used in this process, so they survive a restart;
 * a group is forgotten once its hour is closed and written, and loaded again if a record needs it.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { HOUR_MS, hourPrefix, liveObjects, type Resolution } from './layout.js';
import type { ParquetWriter } from './parquet-writer.js';
import type { ObjectStore } from './storage/object-store.js';
import { WindowSet } from './window-set.js';

/** Length of the windows of a rollup resolution, ms. */
export const WINDOW_MS: Record<Exclude<Resolution, 'raw'>, number> = { '1m': 60_000, '1h': HOUR_MS };

export interface ArchiveGroup {
  readonly resolution: Resolution;
  readonly partition: number;
  readonly hourStart: number;
  /** Highest last offset of the group's files (-1: none). */
  highWater: number;
  /** Rollup resolutions: the (series, window) pairs archived or buffered. */
  readonly windows: WindowSet | undefined;
}

const keyOf = (r: Resolution, p: number, h: number) => `${r}|${p}|${h}`;

export class ArchiveGroups {
  private readonly groups = new Map<string, ArchiveGroup>();

  constructor(
    private readonly store: ObjectStore,
    /** Reads the rows' identities from files (its DuckDB). */
    private readonly reader: ParquetWriter,
  ) {}

  /** The group, if loaded. */
  get(resolution: Resolution, partition: number, hourStart: number): ArchiveGroup | undefined {
    return this.groups.get(keyOf(resolution, partition, hourStart));
  }

  /** Loads the group from the store unless it is loaded: its files' high-water mark and rollup windows. */
  async load(resolution: Resolution, partition: number, hourStart: number): Promise<ArchiveGroup> {
    const loaded = this.get(resolution, partition, hourStart);
    if (loaded) return loaded;
    const { live } = liveObjects(await this.store.list(`${hourPrefix(resolution, hourStart)}part-${partition}-`));
    const mine = live.filter((o) => o.part.partition === partition);
    const group: ArchiveGroup = {
      resolution,
      partition,
      hourStart,
      highWater: mine.reduce((hw, o) => Math.max(hw, o.part.lastOffset), -1),
      windows: resolution === 'raw' ? undefined : new WindowSet(hourStart, WINDOW_MS[resolution]),
    };
    if (group.windows && mine.length > 0) await this.readWindows(group.windows, mine.map((o) => o.key));
    this.groups.set(keyOf(resolution, partition, hourStart), group);
    return group;
  }

  private async readWindows(windows: WindowSet, keys: string[]): Promise<void> {
    const local = this.store.localRoot;
    const paths = local ? keys.map((k) => join(local, k)) : [];
    try {
      if (!local) {
        const dir = await this.store.tempDir();
        for (const k of keys) {
          const path = join(dir, `${randomBytes(8).toString('hex')}.scan.tmp`);
          paths.push(path);
          await this.store.getFile(k, path);
        }
      }
      await this.reader.scanKeys(paths, 'start', (ids, times, n) => {
        for (let i = 0; i < n; i++) windows.add(ids[2 * i]!, ids[2 * i + 1]!, times[i]!);
      });
    } finally {
      if (!local) await Promise.all(paths.map((p) => rm(p, { force: true })));
    }
  }

  /** Loaded groups. */
  values(): IterableIterator<ArchiveGroup> {
    return this.groups.values();
  }

  delete(group: ArchiveGroup): void {
    this.groups.delete(keyOf(group.resolution, group.partition, group.hourStart));
  }

  /** Forgets the groups of an input partition. */
  dropPartition(resolution: Resolution, partition: number): void {
    for (const g of [...this.groups.values()]) if (g.resolution === resolution && g.partition === partition) this.delete(g);
  }
}
