import { describe, expect, it } from 'vitest';
import { avroTypes, contractSchema } from '../../src/model/avro-schemas.js';
import type { SampleBatch } from '../../src/model/types.js';
import { allocateColumns, SeriesTable } from '../../src/model/decoded-batch.js';

describe('contract schemas', () => {
  it('loads each schema once and round-trips a SampleBatch', () => {
    expect(contractSchema('sample-batch')).toBe(contractSchema('sample-batch'));
    const batch: SampleBatch = {
      source: { pool: 'a', host: 'web1' },
      samples: [{ name: 'cpu.load', labels: {}, timestamp: 1_700_000_000_000, value: 0.5, kind: 'GAUGE' }],
    };
    const { sampleBatch } = avroTypes();
    expect(sampleBatch.fromBuffer(sampleBatch.toBuffer(batch))).toEqual(batch);
  });

  it('names the three contract records', () => {
    const t = avroTypes();
    expect([t.sampleBatch.name, t.rollupBatch.name, t.alertEvent.name]).toEqual([
      'vigil.metrics.SampleBatch',
      'vigil.metrics.RollupBatch',
      'vigil.alerts.AlertEvent',
    ]);
  });
});

describe('columns and series table', () => {
  it('allocates independent columns of the right length', () => {
    const c = allocateColumns(3);
    c.timestamps.fill(1);
    c.values.fill(2);
    c.seriesRefs.fill(3);
    c.kinds.fill(4);
    expect([...c.timestamps, ...c.values, ...c.seriesRefs, ...c.kinds]).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  });

  it('interns a series once and hands out dense refs', () => {
    const t = new SeriesTable();
    const f = { id: 1n, key: '0000000000000001', hi: 0, lo: 1, name: 'up', labels: {}, canonical: 'up{}' };
    const a = t.intern(f);
    expect(t.intern({ ...f })).toBe(a);
    expect(t.intern({ ...f, key: '0000000000000002', id: 2n }).ref).toBe(1);
    expect(t.get(0)).toBe(a);
    expect(() => t.get(5)).toThrow(RangeError);
  });
});
