/** Small deterministic archive inputs for tests, and a DuckDB read-back helper. */
import { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveSeries, RawRows, RollupRows } from '../../../src/sinks/archive/archive-rows.js';
import { seriesIdentity } from '../../../src/model/series.js';

export function series(name: string, labels: Record<string, string>): ArchiveSeries {
  const s = seriesIdentity(name, labels);
  return { id: s.id, name: s.name, labels: s.labels };
}

/** Raw rows in arrival order (time-major, like a Kafka stream), with some special values. */
export function rawRows(hostCount = 5, points = 20, start = Date.UTC(2026, 10, 25, 10)): RawRows {
  const list: ArchiveSeries[] = [];
  for (let h = 0; h < hostCount; h++) {
    list.push(series('cpu.load', { host: `h${h}`, pool: 'p1' }));
    list.push(series('http.requests', { host: `h${h}`, pool: 'p1', code: '200', path: 'quote\'s "x"\n' }));
  }
  list.push(series('no_labels', {}));
  const n = list.length * points;
  const seriesIndex = new Uint32Array(n);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  let k = 0;
  const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 5e-324, Number.MAX_VALUE];
  for (let p = 0; p < points; p++) {
    for (let s = 0; s < list.length; s++) {
      seriesIndex[k] = s;
      timestamps[k] = start + p * 10_000 + s;
      values[k] = s === list.length - 1 && p < specials.length ? specials[p]! : Math.sin(p * 7 + s) * 1000 + p / 3;
      k++;
    }
  }
  return { series: list, length: n, seriesIndex, timestamps, values };
}

export function rollupRows(start = Date.UTC(2026, 10, 25, 10)): RollupRows {
  const list = [series('cpu.load', { host: 'a' }), series('http.requests', { host: 'a', code: '200' }), series('cpu.load', { host: 'b' })];
  const n = 3 * 4;
  const cols = {
    seriesIndex: new Uint32Array(n),
    starts: new Float64Array(n),
    counts: new Float64Array(n),
    sums: new Float64Array(n),
    mins: new Float64Array(n),
    maxs: new Float64Array(n),
    firsts: new Float64Array(n),
    lasts: new Float64Array(n),
    increases: new Float64Array(n),
    hasIncrease: new Uint8Array(n),
  };
  let k = 0;
  for (let w = 3; w >= 0; w--) {
    for (let s = 0; s < 3; s++) {
      cols.seriesIndex[k] = s;
      cols.starts[k] = start + w * 60_000;
      cols.counts[k] = 6 + s;
      cols.sums[k] = 1.1 * w + s / 7;
      cols.mins[k] = -w / 3;
      cols.maxs[k] = w * 1e10 + 0.1;
      cols.firsts[k] = Math.PI * w;
      cols.lasts[k] = Math.E * s;
      cols.hasIncrease[k] = s === 1 ? 1 : 0;
      cols.increases[k] = s === 1 ? w * 12.5 : 0;
      k++;
    }
  }
  return { series: list, length: n, ...cols };
}

/** All rows of a Parquet glob/file as JSON-friendly objects (timestamps as epoch ms). */
export async function readBack(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(sql);
    return r.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    con.closeSync();
    db.closeSync();
  }
}
