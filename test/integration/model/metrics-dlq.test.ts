// Every bad record kind of contracts.md lands in metrics.dlq with its reason and headers, and the
// good samples of a partially bad batch survive: produce to `metrics`, consume it with kafkajs,
// decode with SampleBatchDecoder against the embedded registry, write dead letters, read metrics.dlq.
import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { SchemaRegistry as Client, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createKafka, embeddedConsumerDefaults } from '../../../src/kafka/client.js';
import { SampleBatchDecoder } from '../../../src/model/sample-batch-decoder.js';
import { DeadLetterWriter } from '../../../src/model/dead-letter-writer.js';
import { sampleBatchSerde, wireHeader } from '../../../src/model/serde.js';
import { contractSchema } from '../../../src/model/avro-schemas.js';
import type { Sample, SampleBatch } from '../../../src/model/types.js';
import { useStack } from '../../support/stack.js';

const stack = useStack({ partitions: 1 });

const sample = (name: string, labels: Record<string, string> = {}, timestamp = 1_700_000_000_000): Sample => ({
  name,
  labels,
  timestamp,
  value: 1,
  kind: 'GAUGE',
});
const header = (h: IHeaders | undefined, name: string): string | undefined => h?.[name]?.toString();

describe('metrics -> decoder -> metrics.dlq', () => {
  it('routes each bad kind to metrics.dlq with its reason and keeps the good samples', async () => {
    const { metrics, metricsDlq } = stack.config.topics;
    const serde = sampleBatchSerde({ registry: stack.registryUrl });
    const good = await serde.encode(metrics, { source: { pool: 'a', host: 'h1' }, samples: [sample('cpu.load'), sample('up')] });
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`l${i}`, 'v']));
    const mixed = await serde.encode(metrics, {
      source: { pool: 'a', host: 'h2' },
      samples: [
        sample('good.first'),
        sample('bad-name'),
        sample('m', { 'bad.label': 'x' }),
        sample('m', {}, 9e15),
        sample('m', many),
        sample('m', { v: 'x'.repeat(3000) }),
        sample('good.last', { svc: 'api' }),
      ],
    });
    const other = JSON.stringify({ type: 'record', name: 'Other', namespace: 'x', fields: [{ name: 'n', type: 'int' }] });
    const { id: otherId } = await new Client({ host: stack.registryUrl }).register({ type: SchemaType.AVRO, schema: other }, { subject: `${stack.config.kafka.clientId}.other-value` });
    const incompatible = Buffer.concat([wireHeader(otherId), avro.Type.forSchema(JSON.parse(other)).toBuffer({ n: 1 })]);
    const unknownId = Buffer.concat([wireHeader(424242), contractSchema('sample-batch').type.toBuffer({ source: {}, samples: [] })]);
    const undecodable = Buffer.concat([good.subarray(0, 5), Buffer.from([0x03, 0xff])]);
    const notWire = Buffer.from('cpu.load value=1');

    const inputs: [string, Buffer][] = [
      ['good', good],
      ['mixed', mixed],
      ['not_wire_format', notWire],
      ['unknown_schema_id', unknownId],
      ['undecodable', undecodable],
      ['incompatible_schema', incompatible],
    ];
    const kafka = createKafka(stack.brokers, 'dlq-test');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: metrics, messages: inputs.map(([key, value]) => ({ key, value })) });

    const decoder = new SampleBatchDecoder({ registry: stack.registryUrl });
    const writer = new DeadLetterWriter({ producer, topic: metricsDlq });
    const goodSamples: string[] = [];
    const dlq: KafkaMessage[] = [];
    const offsets = new Map<string, string>();
    let done: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const consumer = kafka.consumer({ groupId: `${stack.config.kafka.clientId}-dlq-test`, ...embeddedConsumerDefaults });
    await consumer.connect();
    await consumer.subscribe({ topics: [metrics, metricsDlq], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (topic === metrics) {
          offsets.set(message.key!.toString(), message.offset);
          const { batch, deadLetters } = await decoder.decode({ topic, partition, offset: message.offset, key: message.key, value: message.value });
          for (let i = 0; i < batch.length; i++) goodSamples.push(batch.series.get(batch.seriesRefs[i]!).canonical);
          await writer.write(deadLetters);
        } else {
          dlq.push(message);
          if (dlq.length === 9) done();
        }
      },
    });
    await finished;
    await consumer.disconnect();
    await producer.disconnect();

    expect(goodSamples).toEqual([
      'cpu.load{host="h1",pool="a"}',
      'up{host="h1",pool="a"}',
      'good.first{host="h2",pool="a"}',
      'good.last{host="h2",pool="a",svc="api"}',
    ]);
    const byReason = new Map(dlq.map((m) => [header(m.headers, 'vigil.reason')!, m]));
    const expected: [string, string, string | undefined][] = [
      ['not_wire_format', 'not_wire_format', undefined],
      ['unknown_schema_id', 'unknown_schema_id', undefined],
      ['undecodable', 'undecodable', undefined],
      ['incompatible_schema', 'incompatible_schema', undefined],
      ['invalid_metric_name', 'mixed', '1'],
      ['invalid_label_name', 'mixed', '2'],
      ['non_finite_timestamp', 'mixed', '3'],
      ['too_many_labels', 'mixed', '4'],
      ['label_value_too_long', 'mixed', '5'],
    ];
    expect([...byReason.keys()].sort()).toEqual(expected.map((e) => e[0]).sort());
    for (const [reason, key, samples] of expected) {
      const m = byReason.get(reason)!;
      const original = inputs.find(([k]) => k === key)![1];
      expect({ reason, key: m.key?.toString(), same: m.value?.equals(original) }).toEqual({ reason, key, same: true });
      expect(header(m.headers, 'vigil.topic')).toBe(metrics);
      expect(header(m.headers, 'vigil.partition')).toBe('0');
      expect(header(m.headers, 'vigil.offset')).toBe(offsets.get(key));
      expect(header(m.headers, 'vigil.samples')).toBe(samples);
      expect(header(m.headers, 'vigil.error')).toBeTruthy();
    }
  });
});
