import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { fastLayout } from '../../src/model/writer-layout.js';
import { contractSchema } from '../../src/model/avro-schemas.js';
import { SampleBatchDecoder } from '../../src/model/sample-batch-decoder.js';
import { wireHeader } from '../../src/model/serde.js';
import type { DecodeResult } from '../../src/model/decoded-batch.js';

const contract = (): { fields: any[] } => JSON.parse(contractSchema('sample-batch').text);
const reader = contractSchema('sample-batch').type;
const layoutOf = (schema: object): unknown => fastLayout(avro.Type.forSchema(schema as avro.Schema), reader);

/** Extra fields of every Avro type, including a recursive record; `p` prefixes names to keep them unique. */
const extrasNamed = (p: string): object[] => [
  { name: `${p}x_null`, type: 'null' },
  { name: `${p}x_bool`, type: 'boolean' },
  { name: `${p}x_int`, type: 'int' },
  { name: `${p}x_long`, type: 'long' },
  { name: `${p}x_float`, type: 'float' },
  { name: `${p}x_double`, type: 'double' },
  { name: `${p}x_bytes`, type: 'bytes' },
  { name: `${p}x_string`, type: 'string' },
  { name: `${p}x_fixed`, type: { type: 'fixed', name: `${p}F3`, size: 3 } },
  { name: `${p}x_enum`, type: { type: 'enum', name: `${p}Colour`, symbols: ['RED', 'GREEN'] } },
  { name: `${p}x_array`, type: { type: 'array', items: 'int' } },
  { name: `${p}x_map`, type: { type: 'map', values: ['null', 'double'] } },
  { name: `${p}x_union`, type: ['null', 'string', 'long'] },
  { name: `${p}x_date`, type: { type: 'int', logicalType: 'date' } },
  {
    name: `${p}x_tree`,
    type: { type: 'record', name: `${p}Tree`, fields: [{ name: 'v', type: 'int' }, { name: 'next', type: ['null', `${p}Tree`] }] },
  },
];

describe('fastLayout', () => {
  it('accepts the contract and writers that add fields', () => {
    expect(layoutOf(contract())).not.toBeNull();
    const s = contract();
    s.fields.unshift({ name: 'before', type: 'string' });
    s.fields.push(...extrasNamed(''));
    s.fields[2].type.items.fields.push({ name: 'unit', type: ['null', 'string'], default: null });
    expect(layoutOf(s)).not.toBeNull();
  });

  it('refuses writers whose contract fields are missing, reordered or retyped', () => {
    const reordered = contract();
    reordered.fields.reverse();
    const sampleReordered = contract();
    sampleReordered.fields[1].type.items.fields.reverse();
    const noKind = contract();
    noKind.fields[1].type.items.fields.pop();
    const moreKinds = contract();
    moreKinds.fields[1].type.items.fields[4].type.symbols.push('HISTOGRAM');
    const extraInSample = contract();
    extraInSample.fields[1].type.items.fields.splice(1, 0, { name: 'unit', type: 'string' });
    const renamed = { ...contract(), name: 'Other' };
    for (const s of [reordered, sampleReordered, noKind, moreKinds, extraInSample, renamed]) expect(layoutOf(s)).toBeNull();
  });
});

describe('fast path with extra fields of every type', () => {
  it('skips them exactly and decodes like avsc', async () => {
    const s = contract();
    const n = extrasNamed('').length;
    s.fields.splice(1, 0, ...extrasNamed('b_'));
    s.fields.push(...extrasNamed('a_'));
    s.fields[1 + n].type.items.fields.push(...extrasNamed('s_'));
    const writer = avro.Type.forSchema(s as avro.Schema);
    expect(fastLayout(writer, reader)).not.toBeNull();
    const decoder = new SampleBatchDecoder({ registry: { register: async () => 5, schemaById: async () => JSON.stringify(s) } });
    for (let round = 0; round < 20; round++) {
      const value = writer.random() as { source: Record<string, string>; samples: { name: string; labels: object; timestamp: number }[] };
      // random() gives arbitrary names, labels and timestamps: make most samples valid and in range.
      value.samples.forEach((x, i) => {
        x.name = i % 3 === 0 ? 'bad name' : `m${i}`;
        x.labels = { i: String(i) };
        x.timestamp = i * 1000;
      });
      value.source = { host: `h${round}` };
      const bytes = Buffer.concat([wireHeader(5), writer.toBuffer(value)]);
      const r = (await decoder.decode({ topic: 'metrics', partition: 0, offset: String(round), key: null, value: bytes })) as DecodeResult;
      const expected = reader.fromBuffer(writer.toBuffer(value), reader.createResolver(writer)) as { samples: { name: string; value: number }[] };
      const good = expected.samples.filter((x) => x.name !== 'bad name');
      expect(r.batch.length).toBe(good.length);
      expect([...r.batch.values]).toEqual(good.map((x) => x.value));
      expect(r.deadLetters.flatMap((l) => l.sampleIndexes)).toEqual(expected.samples.flatMap((x, i) => (x.name === 'bad name' ? [i] : [])));
    }
  });
});
