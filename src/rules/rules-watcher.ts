/**
 * Hot reload: watches the rules paths (chokidar); on any change the whole set is re-checked.
 * A set with errors is reported (file:line:col, source line, caret) and the running rules stay;
 * a clean set is swapped in through `RulesModule.reload` (unchanged rules keep their state and
 * send nothing new).
 */
import chokidar, { type FSWatcher } from 'chokidar';
import { checkRulesFiles, formatRuleError } from '../dsl/index.js';
import type { CheckedRules } from '../dsl/model.js';

export interface RulesReloadReport {
  ok: boolean;
  /** Formatted errors when not ok. */
  errors: string[];
  changed: string[];
  kept: string[];
  removed: string[];
}

export interface RulesWatcherOptions {
  paths: string[];
  /** Applies a clean rule set; returns what changed (RulesModule.reload fits). */
  apply(model: CheckedRules): { changed: string[]; kept: string[]; removed: string[] };
  report(r: RulesReloadReport): void;
  /** Quiet period after the last change before re-checking (editors write in several steps). */
  debounceMs?: number;
}

export interface RulesWatcher {
  /** Resolves once the watcher is ready. */
  ready: Promise<void>;
  /** Re-checks and applies now (also what a change triggers). */
  reloadNow(): RulesReloadReport;
  close(): Promise<void>;
}

export function watchRules(o: RulesWatcherOptions): RulesWatcher {
  let timer: NodeJS.Timeout | null = null;
  const reloadNow = (): RulesReloadReport => {
    const result = checkRulesFiles(o.paths);
    let report: RulesReloadReport;
    if (result.errors.length) {
      report = { ok: false, errors: result.errors.map((e) => formatRuleError(e, result.sources.get(e.file))), changed: [], kept: [], removed: [] };
    } else {
      report = { ok: true, errors: [], ...o.apply(result.model!) };
    }
    o.report(report);
    return report;
  };
  const watcher: FSWatcher = chokidar.watch(o.paths, { ignoreInitial: true, awaitWriteFinish: false });
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reloadNow();
    }, o.debounceMs ?? 200);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    reloadNow,
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
