import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import avro from 'avsc';
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startSchemaRegistry, type SchemaRegistry } from '../../src/registry/server.js';
import { InMemorySchemaLog } from '../../src/registry/schema-log.js';
import { HttpRegistryClient, type RegistryClient } from '../../src/model/registry-client.js';
import { alertEventSerde, SerdeError, sampleBatchSerde, wireHeader, wireSchemaId } from '../../src/model/serde.js';
import { contractSchema } from '../../src/model/avro-schemas.js';
import type { SampleBatch } from '../../src/model/types.js';
import { evolvedSampleBatchSchema } from './fixtures.js';

let registry: SchemaRegistry;
let calls: string[];
let client: RegistryClient;
beforeAll(async () => {
  registry = await startSchemaRegistry({ log: new InMemorySchemaLog() });
  const http = new HttpRegistryClient(registry.url);
  calls = [];
  client = {
    register: (s, t) => (calls.push(`register ${s}`), http.register(s, t)),
    schemaById: (id) => (calls.push(`get ${id}`), http.schemaById(id)),
  };
});
afterAll(() => registry.close());

const batch: SampleBatch = {
  source: { pool: 'a', host: 'h1' },
  samples: [{ name: 'cpu.load', labels: { cpu: '0' }, timestamp: 1_700_000_000_000, value: 0.25, kind: 'GAUGE' }],
};

describe('serde', () => {
  it('registers under <topic>-value once and decodes its own records synchronously', async () => {
    const serde = sampleBatchSerde({ registry: client });
    calls.length = 0;
    const bytes = await serde.encode('metrics', batch);
    await serde.encode('metrics', batch);
    expect(calls).toEqual(['register metrics-value']);
    const subjects = await (await fetch(`${registry.url}/subjects`)).json();
    expect(subjects).toContain('metrics-value');
    expect(wireSchemaId(bytes)).toBe(await serde.schemaId('metrics'));
    const decoded = serde.decode(bytes);
    expect(decoded).not.toBeInstanceOf(Promise);
    expect(decoded).toEqual(batch);
  });

  it('reads data written with an evolved (BACKWARD-compatible) schema, fetching the writer once', async () => {
    const producer = new Client({ host: registry.url });
    const { id } = await producer.register({ type: SchemaType.AVRO, schema: evolvedSampleBatchSchema() }, { subject: 'metrics-value' });
    const bytes = await producer.encode(id, {
      ...batch,
      producer: 'telegraf',
      samples: batch.samples.map((s) => ({ ...s, unit: 'ratio' })),
    });
    const serde = sampleBatchSerde({ registry: client });
    calls.length = 0;
    const first = serde.decode(bytes);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual(batch);
    expect(serde.decode(bytes)).toEqual(batch);
    expect(calls).toEqual([`get ${id}`]);
  });

  it('rejects values that are not in the wire format', () => {
    const serde = sampleBatchSerde({ registry: client });
    for (const v of [null, Buffer.from([]), Buffer.from([0, 0, 0]), Buffer.from([1, 0, 0, 0, 1, 2])]) {
      expect(() => serde.decode(v)).toThrow(expect.objectContaining({ code: 'not_wire_format' }));
    }
  });

  it('caches unknown ids briefly', async () => {
    let now = 0;
    const serde = sampleBatchSerde({ registry: client, negativeTtlMs: 1000, now: () => now });
    calls.length = 0;
    const bytes = Buffer.concat([wireHeader(4242), Buffer.from([0, 0])]);
    await expect(serde.decode(bytes)).rejects.toMatchObject({ code: 'unknown_schema_id' });
    expect(() => serde.decode(bytes)).toThrow(expect.objectContaining({ code: 'unknown_schema_id' }));
    expect(calls).toEqual(['get 4242']);
    now = 1000;
    await expect(serde.decode(bytes)).rejects.toBeInstanceOf(SerdeError);
    expect(calls).toEqual(['get 4242', 'get 4242']);
  });

  it('reports a writer schema the reader cannot resolve as incompatible', async () => {
    const other = JSON.stringify({ type: 'record', name: 'SampleBatch', namespace: 'vigil.metrics', fields: [{ name: 'source', type: 'int' }] });
    const producer = new Client({ host: registry.url });
    const { id } = await producer.register({ type: SchemaType.AVRO, schema: other }, { subject: 'elsewhere-value' });
    const serde = sampleBatchSerde({ registry: client });
    const bytes = await producer.encode(id, { source: 3 });
    await expect(serde.decode(bytes)).rejects.toMatchObject({ code: 'incompatible_schema' });
  });

  it('reports truncated, corrupt and trailing bytes as undecodable', async () => {
    const serde = sampleBatchSerde({ registry: client });
    const good = await serde.encode('metrics', batch);
    const corrupt = Buffer.from(good);
    corrupt[6] = 0x7f; // a huge map block count
    for (const bad of [good.subarray(0, good.length - 3), Buffer.concat([good, Buffer.from([0])]), corrupt]) {
      expect(() => serde.decode(bad)).toThrow(expect.objectContaining({ code: 'undecodable' }));
    }
  });

  it('round-trips alert events', async () => {
    const serde = alertEventSerde({ registry: client });
    const type = contractSchema('alert-event').type as avro.Type;
    const event = type.random() as object;
    const bytes = await serde.encode('alerts', event as never);
    expect(serde.decode(bytes)).toEqual(event);
  });
});
