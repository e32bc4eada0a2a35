import { describe, expect, it } from 'vitest';
import { avroTypes, contractSchema } from '../../src/model/avro-schemas.js';
import type { SampleBatch } from '../../src/model/types.js';

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
