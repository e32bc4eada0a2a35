import { contractSchema } from '../../src/model/avro-schemas.js';

/** The contract SampleBatch schema with an extra optional field on the batch and on each sample. */
export function evolvedSampleBatchSchema(): string {
  const s = JSON.parse(contractSchema('sample-batch').text);
  s.fields.push({ name: 'producer', type: ['null', 'string'], default: null });
  s.fields[1].type.items.fields.push({ name: 'unit', type: ['null', 'string'], default: null });
  return JSON.stringify(s);
}
