/**
 * Prometheus file-based service discovery: JSON (`.json`) or YAML (`.yml`, `.yaml`) lists of
 * `{targets, labels}`. Files are watched (chokidar, on their directories so editors' atomic
 * renames are seen) and re-read every `refreshIntervalMs`. A file that fails to read or validate
 * keeps its previous target groups and the error is logged and counted; a deleted file drops its
 * groups. A `*` or `?` in a file name is a glob over that directory (as in Prometheus).
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { parse as parseYaml } from 'yaml';
import { componentLogger } from '../../obs/logger.js';
import { counter } from '../../obs/metrics.js';
import { targetGroupsSchema, type TargetGroup } from '../scrape/scrape-config.js';

export interface FileSdOptions {
  /** File paths or `dir/*.json` patterns. */
  files: readonly string[];
  refreshIntervalMs: number;
  /** Called with all groups of all files after every change (never for a no-op re-read). */
  onUpdate: (groups: TargetGroup[]) => void;
  /** Called for every file that could not be used (also logged). */
  onError?: (file: string, message: string) => void;
}

const log = componentLogger('file-sd');
const readErrors = counter('vigil_collect_sd_read_errors_total', 'file_sd files that could not be read or validated');

/** Reads and validates one file_sd file; throws an Error whose message names the problem. */
export async function readTargetFile(file: string): Promise<TargetGroup[]> {
  const text = await readFile(file, 'utf8');
  const ext = extname(file).toLowerCase();
  let raw: unknown;
  if (ext === '.json') {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`invalid JSON: ${(err as Error).message}`);
    }
  } else if (ext === '.yml' || ext === '.yaml') {
    try {
      raw = parseYaml(text) ?? [];
    } catch (err) {
      throw new Error(`invalid YAML: ${(err as Error).message}`);
    }
  } else {
    throw new Error(`unsupported file extension "${ext}" (expected .json, .yml or .yaml)`);
  }
  const parsed = targetGroupsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`"${issue.path.join('.') || '(top level)'}": ${issue.message}`);
  }
  return parsed.data.map((g, i) => ({ targets: g.targets, labels: g.labels ?? {}, source: `${file}:${i}` }));
}

function globRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${escaped}$`);
}

/** Watches file_sd files; `start()` resolves after the first read of every file. */
export class FileSdWatcher {
  private readonly patterns: Array<{ dir: string; name: RegExp; literal: string | undefined }>;
  private readonly byFile = new Map<string, TargetGroup[]>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastEmitted = '';
  private reading: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly missingWarned = new Set<string>();

  constructor(private readonly options: FileSdOptions) {
    this.patterns = options.files.map((f) => {
      const abs = resolve(f);
      const name = basename(abs);
      const isGlob = /[*?]/.test(name);
      return { dir: dirname(abs), name: isGlob ? globRegex(name) : new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`), literal: isGlob ? undefined : abs };
    });
  }

  async start(): Promise<void> {
    await this.refresh();
    const dirs = [...new Set(this.patterns.map((p) => p.dir))];
    this.watcher = watch(dirs, { ignoreInitial: true, depth: 0 });
    const onEvent = (path: string) => {
      if (this.matches(path)) this.scheduleRefresh();
    };
    this.watcher.on('add', onEvent).on('change', onEvent).on('unlink', onEvent);
    this.watcher.on('error', (err) => log.warn({ err }, 'file_sd watcher error'));
    await new Promise<void>((ready) => this.watcher!.once('ready', () => ready()));
    this.timer = setInterval(() => this.scheduleRefresh(0), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  /** Re-reads every file now (also what the watcher and the timer do). */
  refresh(): Promise<void> {
    this.reading = this.reading.then(() => this.readAll()).catch((err) => log.error({ err }, 'file_sd refresh failed'));
    return this.reading;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    await this.watcher?.close();
    await this.reading;
  }

  private matches(path: string): boolean {
    const abs = resolve(path);
    return this.patterns.some((p) => p.dir === dirname(abs) && p.name.test(basename(abs)));
  }

  private scheduleRefresh(delayMs = 50): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), delayMs);
  }

  private async listFiles(): Promise<string[]> {
    const files = new Set<string>();
    for (const p of this.patterns) {
      if (p.literal) {
        files.add(p.literal);
        continue;
      }
      const names = await readdir(p.dir).catch(() => [] as string[]);
      for (const n of names.sort()) if (p.name.test(n)) files.add(join(p.dir, n));
    }
    return [...files];
  }

  private async readAll(): Promise<void> {
    if (this.closed) return;
    const files = await this.listFiles();
    for (const known of [...this.byFile.keys()]) if (!files.includes(known)) this.byFile.delete(known);
    for (const file of files) {
      try {
        this.byFile.set(file, await readTargetFile(file));
        this.missingWarned.delete(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          if (this.byFile.delete(file)) log.info({ file }, 'file_sd file removed: its targets are dropped');
          else if (!this.missingWarned.has(file)) log.warn({ file }, 'file_sd file does not exist (yet): no targets from it until it appears');
          this.missingWarned.add(file);
          continue;
        }
        const message = (err as Error).message;
        readErrors.inc();
        log.error({ file, error: message }, 'file_sd file not applied; keeping its previous targets');
        this.options.onError?.(file, message);
      }
    }
    const groups = files.flatMap((f) => this.byFile.get(f) ?? []);
    const fingerprint = JSON.stringify(groups);
    if (fingerprint === this.lastEmitted || this.closed) return;
    this.lastEmitted = fingerprint;
    this.options.onUpdate(groups);
  }
}
