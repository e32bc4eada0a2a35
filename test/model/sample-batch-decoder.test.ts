import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { SampleBatchDecoder, type MetricsRecord } from '../../src/model/sample-batch-decoder.js';
import { SchemaRegistryError, type RegistryClient } from '../../src/model/registry-client.js';
import { contractSchema } from '../../src/model/avro-schemas.js';
import { wireHeader } from '../../src/model/serde.js';
import { seriesIdentity } from '../../src/model/series.js';
import type { DecodeResult } from '../../src/model/decoded-batch.js';
import type { Sample, SampleBatch } from '../../src/model/types.js';
import { evolvedSampleBatchSchema } from './fixtures.js';

const CONTRACT = 1;
const EVOLVED = 2;
const INCOMPATIBLE = 3;
const REORDERED = 4;
const incompatibleSchema = JSON.stringify({
  type: 'record',
  name: 'SampleBatch',
  namespace: 'vigil.metrics',
  fields: [{ name: 'samples', type: { type: 'array', items: 'string' } }],
});

/** The contract schema with the batch's and the samples' fields in reverse order: not fast-path eligible. */
function reorderedSchema(): string {
  const s = JSON.parse(contractSchema('sample-batch').text);
  s.fields.reverse();
  s.fields[0].type.items.fields.reverse();
  return JSON.stringify(s);
}

/** A registry double serving four ids; `down` simulates an outage. */
function registryDouble(): RegistryClient & { fetched: number[]; down: boolean } {
  const schemas = new Map([
    [CONTRACT, contractSchema('sample-batch').text],
    [EVOLVED, evolvedSampleBatchSchema()],
    [INCOMPATIBLE, incompatibleSchema],
    [REORDERED, reorderedSchema()],
  ]);
  const reg = {
    fetched: [] as number[],
    down: false,
    register: async () => CONTRACT,
    schemaById: async (id: number) => {
      reg.fetched.push(id);
      if (reg.down) throw new SchemaRegistryError('connect ECONNREFUSED', 0, undefined, true);
      const s = schemas.get(id);
      if (!s) throw new SchemaRegistryError(`Schema ${id} not found`, 404, 40403, false);
      return s;
    },
  };
  return reg;
}

const contractType = contractSchema('sample-batch').type;
const evolvedType = avro.Type.forSchema(JSON.parse(evolvedSampleBatchSchema()));
const reorderedType = avro.Type.forSchema(JSON.parse(reorderedSchema()));

function record(batch: SampleBatch, schemaId = CONTRACT, offset = '7'): MetricsRecord {
  const body =
    schemaId === EVOLVED
      ? evolvedType.toBuffer({ ...batch, producer: 'p', samples: batch.samples.map((s) => ({ ...s, unit: 'u' })) })
      : schemaId === REORDERED
        ? reorderedType.toBuffer(batch)
        : contractType.toBuffer(batch);
  return { topic: 'metrics', partition: 3, offset, key: Buffer.from('pool=a,host=h1'), value: Buffer.concat([wireHeader(schemaId), body]) };
}

const sample = (name: string, labels: Record<string, string> = {}, extra: Partial<Sample> = {}): Sample => ({
  name,
  labels,
  timestamp: 1_700_000_000_000,
  value: 1,
  kind: 'GAUGE',
  ...extra,
});

async function decode(decoder: SampleBatchDecoder, r: MetricsRecord): Promise<DecodeResult> {
  return decoder.decode(r);
}

const manyLabels = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v']));

for (const [path, schemaId] of [
  ['fast path (contract writer)', CONTRACT],
  ['fast path (writer with extra fields)', EVOLVED],
  ['avsc path (reordered writer)', REORDERED],
] as const) {
  describe(`SampleBatchDecoder, ${path}`, () => {
    it('decodes good samples into columns with interned series', async () => {
      const decoder = new SampleBatchDecoder({ registry: registryDouble() });
      const batch: SampleBatch = {
        source: { pool: 'a', host: 'h1', env: 'prod' },
        samples: [
          sample('cpu.load', {}, { value: 0.5, timestamp: 1000 }),
          sample('http.requests', { svc: 'api', code: '200', env: 'dev' }, { kind: 'COUNTER', value: 7, timestamp: 2000 }),
          sample('cpu.load', {}, { value: NaN, timestamp: 3000, kind: 'UNKNOWN' }),
          sample('temp', { host: '' }, { value: Infinity, timestamp: -5 }),
        ],
      };
      const { batch: out, deadLetters } = await decode(decoder, record(batch, schemaId));
      expect(deadLetters).toEqual([]);
      expect(out.length).toBe(4);
      expect(out.totalSamples).toBe(4);
      expect([...out.timestamps]).toEqual([1000, 2000, 3000, -5]);
      expect([...out.values]).toEqual([0.5, 7, NaN, Infinity]);
      expect([...out.kinds]).toEqual([1, 2, 0, 1]);
      expect(out.seriesRefs[0]).toBe(out.seriesRefs[2]);
      const http = out.series.get(out.seriesRefs[1]!);
      expect(http.labels).toEqual({ code: '200', env: 'dev', host: 'h1', pool: 'a', svc: 'api' });
      expect(http).toMatchObject(seriesIdentity('http.requests', { pool: 'a', host: 'h1', env: 'dev', svc: 'api', code: '200' }));
      // An empty sample label removes the source label.
      expect(out.series.get(out.seriesRefs[3]!).canonical).toBe('temp{env="prod",pool="a"}');
      expect(out.origin).toEqual({ topic: 'metrics', partition: 3, offset: '7', key: Buffer.from('pool=a,host=h1') });
    });

    it('keeps the good samples of a batch and dead-letters each bad kind with its sample indexes', async () => {
      const decoder = new SampleBatchDecoder({ registry: registryDouble() });
      const batch: SampleBatch = {
        source: { pool: 'a', host: 'h1' },
        samples: [
          sample('ok.one'),
          sample('bad-metric'),
          sample('ok.two', { 'bad.label': 'x' }),
          sample('ok.three', {}, { timestamp: 9e15 }),
          sample('ok.four', manyLabels(63)), // 63 + 2 source labels = 65
          sample('ok.five', { big: 'x'.repeat(2049) }),
          sample('ok.six', {}, { timestamp: -9e15 }),
          sample('1starts_with_digit'),
          sample('ok.seven', manyLabels(62)), // exactly 64
        ],
      };
      const r = record(batch, schemaId);
      const { batch: out, deadLetters } = await decode(decoder, r);
      expect(out.length).toBe(2);
      expect(out.totalSamples).toBe(9);
      expect([out.series.get(out.seriesRefs[0]!).name, out.series.get(out.seriesRefs[1]!).name]).toEqual(['ok.one', 'ok.seven']);
      const byReason = Object.fromEntries(deadLetters.map((l) => [l.reason, l.sampleIndexes]));
      expect(byReason).toEqual({
        invalid_metric_name: [1, 7],
        invalid_label_name: [2],
        non_finite_timestamp: [3, 6],
        too_many_labels: [4],
        label_value_too_long: [5],
      });
      for (const l of deadLetters) {
        expect(l.value).toBe(r.value);
        expect(l.origin).toEqual({ topic: 'metrics', partition: 3, offset: '7', key: r.key });
        expect(l.message.length).toBeGreaterThan(0);
      }
      // Cached: the same record gives the same answer without new lookups.
      const again = decoder.decode(r) as DecodeResult;
      expect(again.deadLetters.map((l) => [l.reason, l.sampleIndexes])).toEqual(deadLetters.map((l) => [l.reason, l.sampleIndexes]));
    });

    it('dead-letters samples later than notAfter (too_far_in_future) with their indexes among other bad ones', async () => {
      const decoder = new SampleBatchDecoder({ registry: registryDouble() });
      const t = 1_700_000_000_000;
      const batch: SampleBatch = {
        source: { pool: 'a', host: 'h1' },
        samples: [sample('a', {}, { timestamp: t }), sample('b', {}, { timestamp: t * 1000 }), sample('bad-name'), sample('c', {}, { timestamp: t + 1 }), sample('d', {}, { timestamp: t + 2, value: 4 })],
      };
      const r = record(batch, schemaId);
      const { batch: out, deadLetters } = (await decoder.decode(r, { notAfter: t + 1 })) as DecodeResult;
      expect([...out.timestamps]).toEqual([t, t + 1]);
      expect(out.series.get(out.seriesRefs[1]!).name).toBe('c');
      expect(Object.fromEntries(deadLetters.map((l) => [l.reason, l.sampleIndexes]))).toEqual({ invalid_metric_name: [2], too_far_in_future: [1, 4] });
      expect(deadLetters.find((l) => l.reason === 'too_far_in_future')!.message).toMatch(/too far in the future/);
      // without a bound nothing is too far ahead
      expect(((await decoder.decode(r)) as DecodeResult).batch.length).toBe(4);
    });

    it('dead-letters every sample when a source label is invalid', async () => {
      const decoder = new SampleBatchDecoder({ registry: registryDouble() });
      const { batch, deadLetters } = await decode(decoder, record({ source: { 'host-name': 'h' }, samples: [sample('a'), sample('b')] }, schemaId));
      expect(batch.length).toBe(0);
      expect(deadLetters.map((l) => [l.reason, l.sampleIndexes])).toEqual([['invalid_label_name', [0, 1]]]);
    });
  });
}

describe('SampleBatchDecoder, record-level problems', () => {
  const good: SampleBatch = { source: { host: 'h' }, samples: [sample('up')] };

  it('dead-letters values that are not in the wire format', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    const body = contractType.toBuffer(good);
    for (const value of [null, Buffer.alloc(0), Buffer.from([0, 0, 1]), Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), body]), body]) {
      const r = decoder.decode({ topic: 'metrics', partition: 0, offset: '1', key: null, value }) as DecodeResult;
      expect(r.batch.length).toBe(0);
      expect(r.deadLetters.map((l) => l.reason)).toEqual(['not_wire_format']);
      expect(r.deadLetters[0]!.value).toBe(value);
    }
  });

  it('dead-letters unknown schema ids, asking the registry once', async () => {
    const reg = registryDouble();
    const decoder = new SampleBatchDecoder({ registry: reg });
    const value = Buffer.concat([wireHeader(99), contractType.toBuffer(good)]);
    const r = { topic: 'metrics', partition: 0, offset: '1', key: null, value };
    const first = decoder.decode(r);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).deadLetters.map((l) => l.reason)).toEqual(['unknown_schema_id']);
    expect((decoder.decode(r) as DecodeResult).deadLetters.map((l) => l.reason)).toEqual(['unknown_schema_id']);
    expect(reg.fetched).toEqual([99]);
  });

  it('dead-letters a writer schema that cannot be read as SampleBatch', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    const value = Buffer.concat([wireHeader(INCOMPATIBLE), avro.Type.forSchema(JSON.parse(incompatibleSchema)).toBuffer({ samples: ['x'] })]);
    const r = await decode(decoder, { topic: 'metrics', partition: 0, offset: '1', key: null, value });
    expect(r.deadLetters.map((l) => l.reason)).toEqual(['incompatible_schema']);
  });

  it('dead-letters undecodable bytes (truncated, trailing, corrupt, bad enum or union index) on every path', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    for (const id of [CONTRACT, EVOLVED, REORDERED]) {
      const ok = record({ source: { host: 'h' }, samples: [sample('up'), sample('down')] }, id);
      const v = ok.value!;
      const badKind = Buffer.from(v);
      // The last kind byte: before the array end (contract); before unit "u", array end, producer "p" (evolved).
      if (id !== REORDERED) badKind[id === CONTRACT ? v.length - 2 : v.length - 8] = 0x08; // enum index 4
      const badUnion = Buffer.from(v);
      if (id === EVOLVED) badUnion[v.length - 7] = 0x06; // unit's union index 3
      const corrupt = Buffer.from(v);
      corrupt[5] = 0x7f; // first block count -64 then garbage
      const bad = [v.subarray(0, v.length - 4), Buffer.concat([v, Buffer.from([1, 2])]), corrupt];
      if (id !== REORDERED) bad.push(badKind);
      if (id === EVOLVED) bad.push(badUnion);
      for (const value of bad) {
        const r = await decode(decoder, { ...ok, value });
        expect({ id, reasons: r.deadLetters.map((l) => l.reason), length: r.batch.length }).toEqual({ id, reasons: ['undecodable'], length: 0 });
      }
      // The decoder still works afterwards.
      expect((await decode(decoder, ok)).batch.length).toBe(2);
    }
  });

  it('rejects (does not dead-letter) when the registry is unreachable, and recovers', async () => {
    const reg = registryDouble();
    reg.down = true;
    const decoder = new SampleBatchDecoder({ registry: reg });
    const r = record(good);
    await expect(decoder.decodeAsync(r)).rejects.toMatchObject({ retriable: true });
    reg.down = false;
    expect((await decoder.decodeAsync(r)).batch.length).toBe(1);
  });

  it('decodes synchronously once the schema id is cached', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    const r = record(good);
    expect(decoder.decode(r)).toBeInstanceOf(Promise);
    await decoder.decode(r);
    expect(decoder.decode(r)).not.toBeInstanceOf(Promise);
  });

  it('stays correct when its key cache overflows', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble(), maxCacheEntries: 3 });
    const refs: number[] = [];
    for (let round = 0; round < 3; round++) {
      const batch: SampleBatch = { source: { host: 'h' }, samples: ['a', 'b', 'c', 'd', 'e'].map((n) => sample(n)) };
      const out = (await decode(decoder, record(batch))).batch;
      refs.push(...out.seriesRefs);
    }
    expect(refs).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(decoder.series.size).toBe(5);
  });

  it('finds every series whatever the order of a source\'s samples from one record to the next', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    const names = (b: DecodeResult['batch']) => [...b.seriesRefs].map((ref) => b.series.get(ref).name);
    const orders = [
      ['a', 'b', 'c', 'd'],
      ['a', 'b', 'c', 'd'],
      ['d', 'c', 'b', 'a'],
      ['b', 'x', 'c', 'a', 'd'],
      ['c', 'c', 'a', 'b'],
    ];
    for (const order of orders) {
      for (const host of ['h1', 'h2']) {
        const out = (await decode(decoder, record({ source: { host }, samples: order.map((n) => sample(n)) }))).batch;
        expect(names(out)).toEqual(order);
        expect([...out.seriesRefs].map((ref) => out.series.get(ref).labels.host)).toEqual(order.map(() => host));
      }
    }
    expect(decoder.series.size).toBe(10);
  });

  it('treats labels in a different order as the same series', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    const out = (
      await decode(decoder, record({ source: { b: '2', a: '1' }, samples: [sample('m', { y: '1', x: '2' }), sample('m', { x: '2', y: '1' })] }))
    ).batch;
    const other = (await decode(decoder, record({ source: { a: '1', b: '2' }, samples: [sample('m', { x: '2', y: '1' })] }))).batch;
    expect(new Set([...out.seriesRefs, ...other.seriesRefs]).size).toBe(1);
  });
});

describe('SampleBatchDecoder, unusual names', () => {
  it('keeps a label called __proto__ on the fast path', async () => {
    const decoder = new SampleBatchDecoder({ registry: registryDouble() });
    const labels = JSON.parse('{"__proto__": "x"}') as Record<string, string>;
    const out = (await decode(decoder, record({ source: labels, samples: [sample('m', { a: '1' })] }))).batch;
    expect(out.series.get(out.seriesRefs[0]!).canonical).toBe('m{__proto__="x",a="1"}');
  });
});

describe('SampleBatchDecoder, cache keys', () => {
  it('never mixes up series whose names and values contain separator characters (both paths)', async () => {
    const REORDERED_ID = 4;
    for (const id of [CONTRACT, REORDERED_ID]) {
      const decoder = new SampleBatchDecoder({ registry: registryDouble() });
      const tricky: SampleBatch = {
        source: {},
        samples: [sample('a', { x: '1\u0000y\u00002' }), sample('a', { x: '1', y: '2' }), sample('a', { x: '1:1' }), sample('a', { x: '1', '1': 'z' } as never)],
      };
      const r = await decode(decoder, record(tricky, id));
      const canon = [...r.batch.seriesRefs].map((ref) => r.batch.series.get(ref).canonical);
      expect(new Set(canon).size).toBe(3);
      expect(r.deadLetters.map((l) => l.reason)).toEqual(['invalid_label_name']);
    }
  });
});
