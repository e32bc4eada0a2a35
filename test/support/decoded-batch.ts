/** Builds a DecodedBatch from plain samples, for tests of what consumes decoded batches. */
import { allocateColumns, type DecodedBatch, type SeriesTable } from '../../src/model/decoded-batch.js';
import { seriesIdentity } from '../../src/model/series.js';
import { KIND_GAUGE } from '../../src/model/types.js';

export interface PlainSeries {
  name: string;
  labels: Record<string, string>;
  /** [timestamp ms, value] pairs. */
  samples: Array<[number, number]>;
  kind?: number;
}

export function decodedBatchOf(table: SeriesTable, series: PlainSeries[], origin = { topic: 'metrics', partition: 0, offset: '0', key: null }): DecodedBatch {
  const n = series.reduce((sum, s) => sum + s.samples.length, 0);
  const cols = allocateColumns(n);
  let i = 0;
  for (const s of series) {
    const info = table.intern(seriesIdentity(s.name, s.labels));
    for (const [t, v] of s.samples) {
      cols.seriesRefs[i] = info.ref;
      cols.timestamps[i] = t;
      cols.values[i] = v;
      cols.kinds[i] = s.kind ?? KIND_GAUGE;
      i++;
    }
  }
  return { origin, length: n, series: table, totalSamples: n, ...cols };
}
