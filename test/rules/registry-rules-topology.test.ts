import { describe, expect, it } from 'vitest';
import { checkSources } from '../../src/dsl/index.js';
import { RulesModule } from '../../src/rules/rules-processor.js';
import { buildRegistryRulesTopology } from '../../src/rules/registry-rules-topology.js';
import { MemoryRegistryClient } from '../../src/topology/memory-registry.js';
import { TopologyTestDriver } from '../../src/topology/test-driver.js';
import { alertEventSerde, sampleBatchSerde } from '../../src/model/serde.js';
import type { SampleBatch } from '../../src/model/types.js';

describe('rules topology with Avro and the schema registry', () => {
  it('decodes Avro sample batches, encodes alert events as alerts-value, sends bad records to the DLQ', async () => {
    const registry = new MemoryRegistryClient();
    const model = checkSources([{ file: 'r.rules', source: 'alert Hot { when max(t) by (host) > 5  severity critical }' }]).model!;
    const { topology, prefetch } = buildRegistryRulesTopology({ module: new RulesModule(model), registry });
    const samples = sampleBatchSerde({ registry });
    const id = await samples.schemaId('metrics');
    const rec = (t: number, v: number) => samples.encodeWithId(id, { source: { host: 'a' }, samples: [{ name: 't', labels: {}, timestamp: t, value: v, kind: 'GAUGE' }] } satisfies SampleBatch);
    await prefetch([{ topic: 'metrics', partition: 0, offset: '0', key: null, value: rec(0, 0), timestamp: 0 }]);
    const driver = new TopologyTestDriver(topology);
    try {
      driver.pipeRaw('metrics', Buffer.from('host=a'), rec(1000, 9), 1000);
      driver.pipeRaw('metrics', Buffer.from('host=a'), Buffer.from('not avro'), 2000);
      driver.pipeRaw('metrics', Buffer.from('host=a'), rec(75_000, 1), 75_000);
      const out = driver.peekRaw('alerts');
      expect(out).toHaveLength(1);
      const ev = await alertEventSerde({ registry }).decode(out[0]!.value);
      expect(ev).toMatchObject({ alertname: 'Hot', transition: 'FIRING', labels: { host: 'a', severity: 'critical', alertname: 'Hot' }, window_end: 60_000 });
      expect(out[0]!.key!.toString()).toBe(ev.fingerprint);
      expect(driver.peekRaw('metrics.dlq')).toHaveLength(1);
    } finally {
      driver.close();
    }
  });
});
