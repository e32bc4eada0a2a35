/**
 * Scrape targets from target groups, with Prometheus' label rules (no relabeling): the group's
 * labels, then `job`, `__address__`, `__scheme__`, `__metrics_path__`, `__scrape_interval__`,
 * `__scrape_timeout__` and `__param_<name>` where the group did not set them; `instance`
 * defaults to `__address__`; labels starting with `__` are dropped from the result.
 */
import { parseDuration, type ScrapeJob, type TargetGroup } from './scrape-config.js';

/** One target to scrape. */
export interface ScrapeTarget {
  /** Stable identity: job, URL and labels (what sharding hashes). */
  key: string;
  job: ScrapeJob;
  url: string;
  /** Final target labels (job, instance, group labels); become the samples' source labels. */
  labels: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
}

export interface TargetsResult {
  targets: ScrapeTarget[];
  /** Targets that could not be built (bad per-target labels), with the reason. */
  problems: string[];
}

/** Builds the deduplicated targets of one job. */
export function buildTargets(job: ScrapeJob, groups: readonly TargetGroup[]): TargetsResult {
  const byKey = new Map<string, ScrapeTarget>();
  const problems: string[] = [];
  for (const group of groups) {
    for (const address of group.targets) {
      const all: Record<string, string> = { ...group.labels, __address__: address };
      const defaults: Record<string, string> = {
        job: job.name,
        __scheme__: job.scheme,
        __metrics_path__: job.metricsPath,
        __scrape_interval__: `${job.intervalMs}ms`,
        __scrape_timeout__: `${job.timeoutMs}ms`,
      };
      for (const [name, values] of Object.entries(job.params)) if (values[0] !== undefined) defaults[`__param_${name}`] = values[0];
      for (const [k, v] of Object.entries(defaults)) if (!all[k]) all[k] = v;
      if (!all.instance) all.instance = all.__address__!;
      const intervalMs = parseDuration(all.__scrape_interval__!);
      const timeoutMs = parseDuration(all.__scrape_timeout__!);
      if (intervalMs === undefined || timeoutMs === undefined || timeoutMs > intervalMs || intervalMs <= 0) {
        problems.push(`${group.source}: target ${address}: invalid __scrape_interval__/__scrape_timeout__`);
        continue;
      }
      const scheme = all.__scheme__;
      if (scheme !== 'http' && scheme !== 'https') {
        problems.push(`${group.source}: target ${address}: invalid __scheme__ ${JSON.stringify(scheme)}`);
        continue;
      }
      const query = new URLSearchParams();
      for (const k of Object.keys(all).sort()) if (k.startsWith('__param_')) query.set(k.slice('__param_'.length), all[k]!);
      const qs = query.toString();
      const url = `${scheme}://${all.__address__}${all.__metrics_path__}${qs ? `?${qs}` : ''}`;
      const labels: Record<string, string> = {};
      for (const k of Object.keys(all).sort()) if (!k.startsWith('__') && all[k] !== '') labels[k] = all[k]!;
      const key = `${job.name}|${url}|${JSON.stringify(labels)}`;
      if (!byKey.has(key)) byKey.set(key, { key, job, url, labels, intervalMs, timeoutMs });
    }
  }
  return { targets: [...byKey.values()], problems };
}
