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

/** Labels split into the source part (and its grouping key) and the sample's own part. */
export interface SplitLabels {
  key: string;
  source: Record<string, string>;
  own: Record<string, string>;
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
    this.addSplit(this.split(labels), name, timestamp, value, kind);
  }

  /** Splits labels into source and own labels once, for several samples of the same labels. */
  split(labels: Record<string, string>): SplitLabels {
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
    return { key, source, own };
  }

  /** Adds one sample with labels split by `split()` (the `own` object is shared, not copied). */
  addSplit(split: SplitLabels, name: string, timestamp: number, value: number, kind: MetricKind): void {
    let batch = this.bySource.get(split.key);
    if (batch === undefined) {
      batch = { source: split.source, samples: [] };
      this.bySource.set(split.key, batch);
    }
    batch.samples.push({ name, labels: split.own, timestamp, value, kind });
    this.count++;
  }

  batches(): SourceBatch[] {
    return [...this.bySource.values()];
  }
}
