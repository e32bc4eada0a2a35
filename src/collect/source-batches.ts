/**
 * Groups samples by source: the source labels of a sample are those of its labels whose names
 * are in the collector's source label set (default `job`, `instance`, `host`, `pool`); the rest
 * stay on the sample. The split is a pure function of the series, so a series always gets the
 * same source and therefore the same Kafka key and partition (contracts.md).
 */
import type { MetricKind, Sample } from '../model/types.js';

/** Label names that make up the source of a pushed sample unless configured otherwise. */
export const DEFAULT_SOURCE_LABELS: readonly string[] = ['job', 'instance', 'host', 'pool'];

export interface SourceBatch {
  source: Record<string, string>;
  samples: Sample[];
}

/** Accumulates samples per source; `batches()` hands them out in first-seen order. */
export class SourceBatches {
  private readonly bySource = new Map<string, SourceBatch>();
  private count = 0;

  constructor(private readonly sourceLabels: ReadonlySet<string>) {}

  /** Number of samples added. */
  get size(): number {
    return this.count;
  }

  /** Adds one sample; `labels` are all of the series' labels (not modified). */
  add(name: string, labels: Record<string, string>, timestamp: number, value: number, kind: MetricKind): void {
    let key = '';
    const source: Record<string, string> = {};
    const own: Record<string, string> = {};
    for (const k in labels) {
      const v = labels[k]!;
      if (this.sourceLabels.has(k)) {
        source[k] = v;
        key += `${k}\u0000${v}\u0001`;
      } else own[k] = v;
    }
    let batch = this.bySource.get(key);
    if (batch === undefined) {
      batch = { source, samples: [] };
      this.bySource.set(key, batch);
    }
    batch.samples.push({ name, labels: own, timestamp, value, kind });
    this.count++;
  }

  batches(): SourceBatch[] {
    return [...this.bySource.values()];
  }
}
