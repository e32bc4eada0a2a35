import { afterAll, describe, expect, it } from 'vitest';
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry';
import { startSchemaRegistry, type SchemaRegistry } from '../../../src/registry/server.js';
import { contractSchema } from '../../../src/model/avro-schemas.js';
import { sharedKafkaBrokers, uniqueName } from '../../support/kafka.js';

const evolved = JSON.stringify({
  ...JSON.parse(contractSchema('sample-batch').text),
  fields: [
    ...JSON.parse(contractSchema('sample-batch').text).fields,
    { name: 'producer', type: ['null', 'string'], default: null },
  ],
});

const open: SchemaRegistry[] = [];
afterAll(async () => {
  await Promise.all(open.map((r) => r.close()));
});

describe('schema registry on a real Kafka broker', () => {
  it('keeps schemas in its compacted topic and recovers them after a restart', async () => {
    const topic = uniqueName('_schemas');
    const first = await startSchemaRegistry({ brokers: sharedKafkaBrokers(), topic });
    open.push(first);
    const client = new Client({ host: first.url });
    const v1 = await client.register({ type: SchemaType.AVRO, schema: contractSchema('sample-batch').text }, { subject: 'metrics-value' });
    const v2 = await client.register({ type: SchemaType.AVRO, schema: evolved }, { subject: 'metrics-value' });
    await expect(
      client.register({ type: SchemaType.AVRO, schema: '{"type":"record","name":"SampleBatch","namespace":"vigil.metrics","fields":[{"name":"x","type":"int"}]}' }, { subject: 'metrics-value' }),
    ).rejects.toMatchObject({ status: 409 });
    const bytes = await client.encode(v2.id, { source: {}, samples: [], producer: 'p' });
    await first.close();

    const second = await startSchemaRegistry({ brokers: sharedKafkaBrokers(), topic });
    open.push(second);
    const fresh = new Client({ host: second.url });
    expect(await fresh.getLatestSchemaId('metrics-value')).toBe(v2.id);
    expect(await fresh.getRegistryId('metrics-value', 1)).toBe(v1.id);
    expect(await fresh.decode(bytes)).toEqual({ source: {}, samples: [], producer: 'p' });
    const res = await fetch(`${second.url}/config/metrics-value`);
    expect(await res.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
    // Ids continue after the recovered ones.
    const alerts = await fresh.register({ type: SchemaType.AVRO, schema: contractSchema('alert-event').text }, { subject: 'alerts-value' });
    expect(alerts.id).toBe(v2.id + 1);
  });

  it('lets a second registry on the same cluster see the first one\'s writes', async () => {
    const topic = uniqueName('_schemas_shared');
    const a = await startSchemaRegistry({ brokers: sharedKafkaBrokers(), topic });
    open.push(a);
    const b = await startSchemaRegistry({ brokers: sharedKafkaBrokers(), topic });
    open.push(b);
    const onA = await new Client({ host: a.url }).register({ type: SchemaType.AVRO, schema: contractSchema('rollup-batch').text }, { subject: 'metrics.rollup.1m-value' });
    // B has not read it yet when asked: a miss makes it catch up with the topic.
    const res = await fetch(`${b.url}/schemas/ids/${onA.id}`);
    expect(res.status).toBe(200);
    const onB = await new Client({ host: b.url }).register({ type: SchemaType.AVRO, schema: contractSchema('alert-event').text }, { subject: 'alerts-value' });
    expect(onB.id).toBe(onA.id + 1);
    expect(await (await fetch(`${b.url}/subjects`)).json()).toEqual(['alerts-value', 'metrics.rollup.1m-value']);
  });
});
