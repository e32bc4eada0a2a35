/**
 * `vigil archive compact`: merges the live parts of each closed (resolution, hour, partition) into one
 * file named part-<partition>-<first of all>-<last of all>, whose offset range contains every part's.
 *
 * Readers never see both or neither: the merged object is stored (atomically) before any part is
 * deleted, and from that moment the supersession rule (layout.ts `liveObjects`: a part whose range
 * lies inside another's of the same group is ignored) hides the parts from Vigil's readers
 * (`vigil archive query`, which also retries once if a part vanishes between listing and reading).
 * Parts left behind by a crash between the two steps are deleted by the next run. The merged file
 * must hold exactly the parts' rows, or nothing is replaced.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError } from './archive-error.js';
import { groupOf, HOUR_MS, liveObjects, partKey, type PartKey } from './layout.js';
import type { ParquetWriter } from './parquet-writer.js';
import { formatBytes, type Progress } from './retention.js';
import { TEMP_DIR_NAME } from './storage/local-store.js';
import { replaceObjects, type ObjectInfo, type ObjectStore } from './storage/object-store.js';

export interface CompactionGroup {
  key: string;
  parts: (ObjectInfo & { part: PartKey })[];
}

export interface CompactionPlan {
  groups: CompactionGroup[];
  /** Parts already superseded by a merged file (a previous run stopped before deleting them). */
  leftovers: string[];
}

/** Hours are compacted once they ended at least `closedForMs` ago (default 2 h: past the writer's close grace and age flush). */
export async function planCompaction(store: ObjectStore, now: number, closedForMs = 2 * HOUR_MS): Promise<CompactionPlan> {
  const { live, superseded } = liveObjects(await store.list('resolution='));
  const groups = new Map<string, CompactionGroup>();
  for (const o of live) {
    if (o.part.hourStart + HOUR_MS + closedForMs > now) continue;
    const g = groupOf(o.part);
    let group = groups.get(g);
    if (!group) groups.set(g, (group = { key: '', parts: [] }));
    group.parts.push(o);
  }
  const out: CompactionGroup[] = [];
  for (const group of groups.values()) {
    if (group.parts.length < 2) continue;
    const first = group.parts[0]!.part;
    group.key = partKey({
      ...first,
      firstOffset: Math.min(...group.parts.map((p) => p.part.firstOffset)),
      lastOffset: Math.max(...group.parts.map((p) => p.part.lastOffset)),
    });
    out.push(group);
  }
  out.sort((a, b) => (a.key < b.key ? -1 : 1));
  return { groups: out, leftovers: superseded.map((o) => o.key) };
}

/** Runs a plan: one merged object per group, then the parts go. One progress line per group. */
export async function runCompaction(
  store: ObjectStore,
  writer: ParquetWriter,
  plan: CompactionPlan,
  options: { dryRun?: boolean; progress?: Progress } = {},
): Promise<{ groups: number; parts: number; rows: number; bytesBefore: number; bytesAfter: number }> {
  const say = options.progress ?? (() => undefined);
  say(`${plan.groups.length} hour/partition groups to merge (${plan.groups.reduce((s, g) => s + g.parts.length, 0)} parts), ${plan.leftovers.length} superseded parts to delete`);
  const totals = { groups: 0, parts: 0, rows: 0, bytesBefore: 0, bytesAfter: 0 };
  if (plan.leftovers.length > 0 && !options.dryRun) await store.delete(plan.leftovers);
  const work = await mkdtemp(join(tmpdir(), 'vigil-compact-'));
  try {
    for (let i = 0; i < plan.groups.length; i++) {
      const g = plan.groups[i]!;
      const before = g.parts.reduce((s, p) => s + p.size, 0);
      if (options.dryRun) {
        say(`would merge ${g.parts.length} parts (${formatBytes(before)}) into ${g.key} [${i + 1}/${plan.groups.length}]`);
        continue;
      }
      const paths: string[] = [];
      for (const p of g.parts) {
        if (store.localRoot) paths.push(join(store.localRoot, p.key));
        else {
          const local = join(work, `${randomBytes(6).toString('hex')}.parquet`);
          await store.getFile(p.key, local);
          paths.push(local);
        }
      }
      const out = join(await store.tempDir(), `${randomBytes(8).toString('hex')}.parquet.tmp`);
      let stats;
      try {
        stats = await writer.merge(paths, g.parts[0]!.part.resolution === 'raw' ? 'timestamp' : 'start', out);
        await replaceObjects(store, g.key, out, g.parts.map((p) => p.key));
      } catch (err) {
        await rm(out, { force: true });
        throw err instanceof ArchiveError ? err : new ArchiveError('ARCHIVE_WRITE', `Cannot compact ${g.key}: ${(err as Error).message}`, { cause: err });
      }
      for (const p of paths) if (p.startsWith(work)) await rm(p, { force: true });
      totals.groups++;
      totals.parts += g.parts.length;
      totals.rows += stats.rows;
      totals.bytesBefore += before;
      totals.bytesAfter += stats.bytes;
      say(`merged ${g.parts.length} parts into ${g.key}: ${stats.rows} rows, ${formatBytes(before)} -> ${formatBytes(stats.bytes)} [${i + 1}/${plan.groups.length}]`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (store.localRoot && !options.dryRun) await removeStaleTemps(join(store.localRoot, TEMP_DIR_NAME), HOUR_MS);
  return totals;
}

/** Temp files of writers killed mid-write (a live writer's temps are minutes old at most). */
async function removeStaleTemps(dir: string, olderThanMs: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const n of names) {
    const p = join(dir, n);
    const s = await stat(p).catch(() => undefined);
    if (s && now - s.mtimeMs > olderThanMs) await rm(p, { force: true });
  }
}
