import { describe, expect, it } from 'vitest';
import { DeadLetterWriter, deadLetterMessage, type MessageProducer } from '../../src/model/dead-letter-writer.js';
import type { DeadLetter } from '../../src/model/decoded-batch.js';
import { metricsRegistry } from '../../src/obs/metrics.js';

const origin = { topic: 'metrics', partition: 2, offset: '41', key: Buffer.from('pool=a,host=h1') };
const recordLevel: DeadLetter = { reason: 'not_wire_format', origin, value: Buffer.from('junk'), message: 'Not in the wire format', sampleIndexes: [] };
const sampleLevel: DeadLetter = { reason: 'invalid_label_name', origin, value: Buffer.from([0, 0, 0, 0, 1]), message: 'Invalid label name: "a.b"', sampleIndexes: [3, 9] };

async function counted(metric: string, reason: string): Promise<number> {
  const m = await metricsRegistry.getSingleMetric(metric)?.get();
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('dead letters', () => {
  it('carry the original key and bytes with the vigil.* headers', () => {
    expect(deadLetterMessage(recordLevel)).toEqual({
      key: origin.key,
      value: recordLevel.value,
      headers: {
        'vigil.reason': 'not_wire_format',
        'vigil.topic': 'metrics',
        'vigil.partition': '2',
        'vigil.offset': '41',
        'vigil.error': 'Not in the wire format',
      },
    });
    expect(deadLetterMessage(sampleLevel).headers['vigil.samples']).toBe('3,9');
  });

  it('are written to metrics.dlq and counted by reason once acknowledged', async () => {
    const sent: Parameters<MessageProducer['send']>[0][] = [];
    const writer = new DeadLetterWriter({ producer: { send: async (r) => void sent.push(r) } });
    const before = await counted('vigil_dlq_records_total', 'invalid_label_name');
    await writer.write([recordLevel, sampleLevel]);
    await writer.write([]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe('metrics.dlq');
    expect(sent[0]!.messages.map((m) => m.headers['vigil.reason'])).toEqual(['not_wire_format', 'invalid_label_name']);
    expect(await counted('vigil_dlq_records_total', 'invalid_label_name')).toBe(before + 1);
    expect(await counted('vigil_dlq_samples_total', 'invalid_label_name')).toBeGreaterThanOrEqual(2);
  });

  it('counts nothing when the producer fails', async () => {
    const writer = new DeadLetterWriter({ producer: { send: async () => Promise.reject(new Error('broker down')) }, topic: 'x.dlq' });
    const before = await counted('vigil_dlq_records_total', 'not_wire_format');
    await expect(writer.write([recordLevel])).rejects.toThrow('broker down');
    expect(await counted('vigil_dlq_records_total', 'not_wire_format')).toBe(before);
  });
});
