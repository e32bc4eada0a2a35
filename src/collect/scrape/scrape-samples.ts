/**
 * Turns one scrape outcome into the samples published for a target, as Prometheus stores them:
 * the exposed samples (timestamps from the exposition when present and honored, else the scrape
 * time), the report series `up`, `scrape_duration_seconds`, `scrape_samples_scraped`, and stale
 * markers for series of the previous scrape that are gone (all of them when the scrape failed).
 *
 * honor_labels false (default): an exposed label that clashes with a target label is renamed
 * `exported_<name>`. honor_labels true: the exposed label wins (it overrides the source label).
 */
import { checkSeries, MAX_LABELS } from '../../model/series.js';
import type { Sample } from '../../model/types.js';
import { STALE_NAN } from '../stale-marker.js';
import type { ScrapeOutcome } from './scrape-http.js';
import type { ScrapeTarget } from './targets.js';

/** Series seen in a target's last scrape, for staleness (name and labels by series key). */
export type SeriesMemory = Map<string, { name: string; labels: Record<string, string> }>;

export interface ScrapeSamples {
  samples: Sample[];
  /** The exposed series of this scrape (the next call's `previous`). */
  seen: SeriesMemory;
  up: boolean;
  /** Why the scrape failed (transport, parse or series validation), when it did. */
  error: string | undefined;
  scraped: number;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  let key = name;
  for (const k in labels) key += `\u0000${k}\u0001${labels[k]}`;
  return key;
}

/** The sample labels of one exposed sample under the target's honor_labels rule. */
function sampleLabels(exposed: Record<string, string>, target: ScrapeTarget): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in exposed) {
    const v = exposed[k]!;
    if (v === '') continue;
    let name = k;
    if (!target.job.honorLabels) while (target.labels[name] !== undefined || (name !== k && exposed[name] !== undefined)) name = `exported_${name}`;
    out[name] = v;
  }
  return out;
}

/** Builds everything to publish for one scrape started at `startMs` that took `durationMs`. */
export function scrapeSamples(
  target: ScrapeTarget,
  outcome: ScrapeOutcome,
  previous: SeriesMemory,
  startMs: number,
  durationMs: number,
): ScrapeSamples {
  const samples: Sample[] = [];
  const seen: SeriesMemory = new Map();
  let error = outcome.ok ? undefined : outcome.error;
  let scraped = 0;
  if (outcome.ok) {
    scraped = outcome.samples.length;
    // Target labels are checked once; each sample's own labels, and the merged count, per sample.
    const targetProblem = checkSeries('up', target.labels);
    if (targetProblem) error = `invalid target labels: ${targetProblem.message}`;
    const targetCount = Object.keys(target.labels).length;
    for (const s of error ? [] : outcome.samples) {
      const labels = sampleLabels(s.labels, target);
      let problem = checkSeries(s.name, labels);
      if (!problem) {
        let merged = targetCount;
        for (const k in labels) if (target.labels[k] === undefined) merged++;
        if (merged > MAX_LABELS) problem = { reason: 'too_many_labels', message: `Too many labels: ${merged} (max ${MAX_LABELS})` };
      }
      if (problem) {
        error = `invalid series ${s.name}: ${problem.message}`;
        break;
      }
      const ts = s.timestamp !== undefined && target.job.honorTimestamps ? s.timestamp : startMs;
      samples.push({ name: s.name, labels, timestamp: ts, value: s.value, kind: s.kind });
      seen.set(seriesKey(s.name, labels), { name: s.name, labels });
    }
  }
  const up = error === undefined;
  if (!up) {
    samples.length = 0;
    seen.clear();
  }
  for (const [key, series] of previous) {
    if (!seen.has(key)) samples.push({ name: series.name, labels: series.labels, timestamp: startMs, value: STALE_NAN, kind: 'UNKNOWN' });
  }
  samples.push(
    { name: 'up', labels: {}, timestamp: startMs, value: up ? 1 : 0, kind: 'GAUGE' },
    { name: 'scrape_duration_seconds', labels: {}, timestamp: startMs, value: durationMs / 1000, kind: 'GAUGE' },
    { name: 'scrape_samples_scraped', labels: {}, timestamp: startMs, value: scraped, kind: 'GAUGE' },
  );
  return { samples, seen, up, error, scraped };
}

/** Stale markers for every series of a target that went away (its exposed series and report series). */
export function staleSamples(previous: SeriesMemory, atMs: number): Sample[] {
  const out: Sample[] = [];
  for (const s of previous.values()) out.push({ name: s.name, labels: s.labels, timestamp: atMs, value: STALE_NAN, kind: 'UNKNOWN' });
  for (const name of ['up', 'scrape_duration_seconds', 'scrape_samples_scraped']) {
    out.push({ name, labels: {}, timestamp: atMs, value: STALE_NAN, kind: 'UNKNOWN' });
  }
  return out;
}
