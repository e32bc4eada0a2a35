/**
 * `vigil archive query "SQL"` / `vigil archive retention` / `vigil archive compact`: jobs over the
 * Parquet archive (config.archive.root / VIGIL_ARCHIVE: a directory or s3://bucket/prefix, with
 * VIGIL_S3_ENDPOINT for non-AWS stores). Query results go to stdout; job progress lines too (they are
 * the jobs' output); query progress (downloads from S3) goes to stderr.
 */
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { loadConfig, type VigilConfig } from '../../config/config.js';
import { ArchiveError } from '../../sinks/archive/archive-error.js';
import { ArchiveQuery, formatResult } from '../../sinks/archive/archive-query.js';
import { planCompaction, runCompaction } from '../../sinks/archive/compaction.js';
import { parseDurationMs } from '../../sinks/archive/layout.js';
import { ParquetWriter } from '../../sinks/archive/parquet-writer.js';
import { planRetention, retentionMs, runRetention } from '../../sinks/archive/retention.js';
import { openObjectStore } from '../../sinks/archive/storage/open-store.js';
import type { ObjectStore } from '../../sinks/archive/storage/object-store.js';
import { UserError } from '../user-error.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`vigil archive: ${line}\n`);

/** `2026-11-25`, `2026-11-25T10:00Z` or a duration back from now (`6h`, `7d`). */
export function parseTime(text: string, flag: string, now = Date.now()): number {
  if (/^(\d+(ms|s|m|h|d|w))+$/.test(text)) return now - parseDurationMs(text);
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new UserError(`${flag} must be a date (2026-11-25, 2026-11-25T10:00Z) or a duration back from now (6h, 7d), got "${text}"`);
  return t;
}

async function withStore<T>(program: Command, fn: (store: ObjectStore, config: VigilConfig) => Promise<T>): Promise<T> {
  const config = loadConfig({ path: program.opts().config });
  const store = openObjectStore(config.archive);
  try {
    return await fn(store, config);
  } catch (e) {
    if (e instanceof ArchiveError) throw new UserError(e.message, e.code);
    throw e;
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  const archive = program.command('archive').description('Jobs over the Parquet archive: query, retention, compact');

  archive
    .command('query')
    .description('Run SQL (DuckDB) over the archive; views raw, rollup_1m, rollup_1h with hive columns resolution, date, hour')
    .argument('<sql>', 'the SQL to run, e.g. "SELECT count(*) FROM raw WHERE date = \'2026-11-25\'"')
    .option('-f, --format <format>', 'output format: table, csv or json', 'table')
    .option('--since <time>', 'only hours after this date or duration back from now (e.g. 7d)')
    .option('--until <time>', 'only hours before this date or duration back from now')
    .option('--cache-dir <dir>', 'where objects downloaded from S3 are kept (default under the temp dir)')
    .action(async (sql: string, flags: { format: string; since?: string; until?: string; cacheDir?: string }) => {
      if (!['table', 'csv', 'json'].includes(flags.format)) throw new UserError(`--format must be table, csv or json, got "${flags.format}"`);
      const since = flags.since ? parseTime(flags.since, '--since') : undefined;
      const until = flags.until ? parseTime(flags.until, '--until') : undefined;
      await withStore(program, async (store) => {
        const q = await ArchiveQuery.open(store, { since, until, cacheDir: flags.cacheDir, progress: store.localRoot ? undefined : err });
        try {
          process.stdout.write(formatResult(await q.run(sql), flags.format as 'table' | 'csv' | 'json'));
        } finally {
          q.close();
        }
      });
    });

  archive
    .command('retention')
    .description('Delete the hours older than each resolution retention (config archive.retention: raw 30d, 1m 90d, 1h 400d)')
    .option('--dry-run', 'only list the hours that would be deleted')
    .action(async (flags: { dryRun?: boolean }) => {
      await withStore(program, async (store, config) => {
        const retention = retentionMs(config.archive.retention);
        out(`retention on ${store.url}: raw ${config.archive.retention.raw}, 1m ${config.archive.retention['1m']}, 1h ${config.archive.retention['1h']}${flags.dryRun ? ' (dry run)' : ''}`);
        const plan = await planRetention(store, retention, Date.now());
        await runRetention(store, plan, { dryRun: flags.dryRun, progress: out });
      });
    });

  archive
    .command('compact')
    .description('Merge the small files of each closed hour and partition into one, atomically for readers')
    .option('--dry-run', 'only list the merges')
    .option('--closed-for <duration>', 'compact hours that ended at least this long ago', '2h')
    .action(async (flags: { dryRun?: boolean; closedFor: string }) => {
      let closedFor: number;
      try {
        closedFor = parseDurationMs(flags.closedFor);
      } catch {
        throw new UserError(`--closed-for must be a duration such as 2h or 90m, got "${flags.closedFor}"`);
      }
      await withStore(program, async (store) => {
        out(`compaction of ${store.url}${flags.dryRun ? ' (dry run)' : ''}`);
        const plan = await planCompaction(store, Date.now(), closedFor);
        const writer = await ParquetWriter.open({}, { tempDirectory: tmpdir() });
        try {
          const r = await runCompaction(store, writer, plan, { dryRun: flags.dryRun, progress: out });
          if (!flags.dryRun) out(`done: ${r.groups} groups, ${r.parts} parts merged, ${r.rows} rows`);
        } finally {
          writer.close();
        }
      });
    });
}
