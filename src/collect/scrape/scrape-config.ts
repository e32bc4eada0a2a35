/**
 * Scrape jobs: the Prometheus `scrape_configs` subset Vigil understands, read from a YAML file
 * in Prometheus' own shape (so an existing prometheus.yml section can be reused), or built from
 * the `vigil collect` flags. Unsupported Prometheus keys (relabel_configs, ...) are refused with a
 * clear error rather than ignored.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A target group as in file_sd and static_configs. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
  /** Where it came from (`file:index`), for messages. */
  source: string;
}

export interface FileSdConfig {
  files: string[];
  refreshIntervalMs: number;
}

/** One scrape job. */
export interface ScrapeJob {
  name: string;
  intervalMs: number;
  timeoutMs: number;
  metricsPath: string;
  scheme: 'http' | 'https';
  honorLabels: boolean;
  honorTimestamps: boolean;
  params: Record<string, string[]>;
  fileSd: FileSdConfig[];
  staticGroups: TargetGroup[];
}

/** A scrape configuration the user must fix. */
export class ScrapeConfigError extends Error {
  readonly code = 'SCRAPE_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ScrapeConfigError';
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Parses a Prometheus duration (`15s`, `1m30s`, `100ms`) into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return ms;
}

const duration = z.string().refine((s) => parseDuration(s) !== undefined && parseDuration(s)! > 0, 'expected a duration such as 15s, 1m, 500ms');
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labels = z.record(z.string(), z.string()).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (!LABEL_NAME.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `invalid label name ${JSON.stringify(key)}` });
  }
});
/** `host:port` (IPv6 in brackets); no scheme, no path, as Prometheus requires. */
export const TARGET_ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+)(:\d{1,5})?$/;
const targetGroup = z
  .object({
    targets: z.array(z.string().regex(TARGET_ADDRESS, 'expected host:port (no scheme or path)')),
    labels: labels.optional(),
  })
  .strict();

/** Schema of a file_sd file: a list of target groups. */
export const targetGroupsSchema = z.array(targetGroup);

const jobSchema = z
  .object({
    job_name: z.string().min(1),
    scrape_interval: duration.optional(),
    scrape_timeout: duration.optional(),
    metrics_path: z.string().startsWith('/').optional(),
    scheme: z.enum(['http', 'https']).optional(),
    honor_labels: z.boolean().optional(),
    honor_timestamps: z.boolean().optional(),
    params: z.record(z.string(), z.array(z.string())).optional(),
    file_sd_configs: z.array(z.object({ files: z.array(z.string()).min(1), refresh_interval: duration.optional() }).strict()).optional(),
    static_configs: z.array(targetGroup).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    global: z.object({ scrape_interval: duration.optional(), scrape_timeout: duration.optional() }).passthrough().optional(),
    scrape_configs: z.array(jobSchema).min(1),
  })
  .passthrough();

export const DEFAULTS = { intervalMs: 60_000, timeoutMs: 10_000, refreshIntervalMs: 300_000 };

/** Reads a Prometheus-style scrape config file; file_sd paths are relative to the file. */
export function loadScrapeConfig(path: string): ScrapeJob[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScrapeConfigError(`${path}: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${path}: "${i.path.join('.')}": unsupported key ${i.keys.map((k) => `"${k}"`).join(', ')}`
        : `${path}: "${i.path.join('.')}": ${i.message}`,
    );
    throw new ScrapeConfigError(issues.join('\n'));
  }
  const globalInterval = parsed.data.global?.scrape_interval ? parseDuration(parsed.data.global.scrape_interval)! : DEFAULTS.intervalMs;
  const globalTimeout = parsed.data.global?.scrape_timeout ? parseDuration(parsed.data.global.scrape_timeout)! : DEFAULTS.timeoutMs;
  const base = dirname(path);
  const names = new Set<string>();
  return parsed.data.scrape_configs.map((j, index) => {
    if (names.has(j.job_name)) throw new ScrapeConfigError(`${path}: "scrape_configs.${index}.job_name": duplicate job name "${j.job_name}"`);
    names.add(j.job_name);
    const intervalMs = j.scrape_interval ? parseDuration(j.scrape_interval)! : globalInterval;
    const timeoutMs = j.scrape_timeout ? parseDuration(j.scrape_timeout)! : Math.min(globalTimeout, intervalMs);
    return checkJob({
      name: j.job_name,
      intervalMs,
      timeoutMs,
      metricsPath: j.metrics_path ?? '/metrics',
      scheme: j.scheme ?? 'http',
      honorLabels: j.honor_labels ?? false,
      honorTimestamps: j.honor_timestamps ?? true,
      params: j.params ?? {},
      fileSd: (j.file_sd_configs ?? []).map((f) => ({
        files: f.files.map((file) => resolve(base, file)),
        refreshIntervalMs: f.refresh_interval ? parseDuration(f.refresh_interval)! : DEFAULTS.refreshIntervalMs,
      })),
      staticGroups: (j.static_configs ?? []).map((g, i) => ({ targets: g.targets, labels: g.labels ?? {}, source: `${path}:static_configs[${i}]` })),
    });
  });
}

/** Validates the cross-field rules of a job (timeout <= interval). */
export function checkJob(job: ScrapeJob): ScrapeJob {
  if (job.timeoutMs > job.intervalMs) {
    throw new ScrapeConfigError(`job "${job.name}": scrape timeout (${job.timeoutMs} ms) is greater than the scrape interval (${job.intervalMs} ms)`);
  }
  return job;
}
