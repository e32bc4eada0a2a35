// `npm run bench -- decode [--seconds N]`: decode + validate + series id of realistic SampleBatch
// records (~100 samples each, a simulated fleet's label sets), against bare avsc decode of the same
// buffers in the same run. Also measures, for comparison, a writer schema with an extra field (fast
// path), a reordered writer schema (avsc path) and a naive implementation (avsc decode + canonical
// string + xxh64 per sample).
import avro from 'avsc';
import { contractSchema } from '../src/model/avro-schemas.js';
import { SampleBatchDecoder, type MetricsRecord } from '../src/model/sample-batch-decoder.js';
import type { RegistryClient } from '../src/model/registry-client.js';
import { wireHeader } from '../src/model/serde.js';
import { checkSeries, mergeLabels, seriesIdentity } from '../src/model/series.js';
import { SeriesTable, type DecodeResult } from '../src/model/decoded-batch.js';
import type { Sample, SampleBatch } from '../src/model/types.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 1.5;
const POOLS = 40;
const HOSTS = 25; // per pool: 1000 hosts
const INTERVALS = 4;

/** ~100 samples for one host: the metric mix of a typical server. */
function hostSamples(t: number, rnd: () => number): Sample[] {
  const s: Sample[] = [];
  const g = (name: string, labels: Record<string, string>, value: number): void => {
    s.push({ name, labels, timestamp: t, value, kind: 'GAUGE' });
  };
  const c = (name: string, labels: Record<string, string>, value: number): void => {
    s.push({ name, labels, timestamp: t, value, kind: 'COUNTER' });
  };
  g('cpu.load', {}, rnd() * 4);
  for (let cpu = 0; cpu < 8; cpu++) for (const mode of ['user', 'system', 'idle']) g('cpu.usage_percent', { cpu: String(cpu), mode }, rnd() * 100);
  for (const mount of ['/', '/var', '/data', '/tmp']) {
    g('disk.used_percent', { mount, device: `sd${mount.length}` }, rnd() * 100);
    c('disk.read_bytes', { mount }, Math.floor(rnd() * 1e9));
    c('disk.write_bytes', { mount }, Math.floor(rnd() * 1e9));
  }
  for (const k of ['used', 'free', 'cached', 'buffers']) g(`mem.${k}_bytes`, {}, Math.floor(rnd() * 64e9));
  for (const iface of ['eth0', 'eth1']) for (const dir of ['rx', 'tx']) c('net.bytes', { iface, dir }, Math.floor(rnd() * 1e12));
  for (const svc of ['api', 'web', 'auth', 'search']) {
    for (const code of ['200', '201', '301', '400', '404', '500', '503']) c('http.requests', { svc, code }, Math.floor(rnd() * 1e6));
    for (const q of ['0.5', '0.9', '0.99']) g('http.latency_seconds', { svc, quantile: q }, rnd());
  }
  for (const mount of ['/', '/var', '/data', '/tmp']) g('disk.inodes_used_percent', { mount }, rnd() * 100);
  for (const state of ['running', 'sleeping', 'blocked', 'zombie']) g('proc.count', { state }, Math.floor(rnd() * 500));
  for (const state of ['established', 'time_wait', 'close_wait', 'listen', 'syn_sent']) g('tcp.connections', { state }, Math.floor(rnd() * 1e4));
  g('up', {}, 1);
  return s;
}

function fleet(): { buffers: Buffer[]; samples: number } {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const type = contractSchema('sample-batch').type;
  const buffers: Buffer[] = [];
  let samples = 0;
  for (let i = 0; i < INTERVALS; i++) {
    for (let p = 0; p < POOLS; p++) {
      for (let h = 0; h < HOSTS; h++) {
        const batch: SampleBatch = {
          source: { pool: `pool-${p}`, host: `host-${p}-${h}`, env: p % 4 === 0 ? 'staging' : 'prod', region: `r${p % 3}` },
          samples: hostSamples(1_700_000_000_000 + i * 10_000, rnd),
        };
        samples += batch.samples.length;
        buffers.push(Buffer.concat([wireHeader(1), type.toBuffer(batch)]));
      }
    }
  }
  return { buffers, samples };
}

/** Runs `pass` over every buffer repeatedly for ~`seconds`; returns samples/s of the best pass. */
function measure(label: string, samplesPerPass: number, pass: () => void): number {
  pass(); // warm-up: JIT and caches
  let best = Infinity;
  const until = performance.now() + seconds * 1000;
  let passes = 0;
  while (performance.now() < until || passes < 2) {
    const t0 = performance.now();
    pass();
    best = Math.min(best, performance.now() - t0);
    passes++;
  }
  const rate = samplesPerPass / (best / 1000);
  console.log(`${label.padEnd(48)} ${(rate / 1e6).toFixed(2)}M samples/s (best of ${passes} passes)`);
  return rate;
}

const { buffers, samples } = fleet();
const schemaText = contractSchema('sample-batch').text;
const evolved = JSON.parse(schemaText);
evolved.fields.push({ name: 'producer', type: ['null', 'string'], default: null });
const evolvedType = avro.Type.forSchema(evolved);
const reordered = JSON.parse(schemaText);
reordered.fields.reverse();
const reorderedType = avro.Type.forSchema(reordered);
const registry: RegistryClient = {
  register: async () => 1,
  schemaById: async (id) => JSON.stringify(id === 1 ? JSON.parse(schemaText) : id === 2 ? evolved : reordered),
};
const records: MetricsRecord[] = buffers.map((value, i) => ({ topic: 'metrics', partition: 0, offset: String(i), key: null, value }));
const evolvedRecords: MetricsRecord[] = buffers.map((value, i) => ({
  topic: 'metrics',
  partition: 0,
  offset: String(i),
  key: null,
  value: Buffer.concat([wireHeader(2), evolvedType.toBuffer({ ...(contractSchema('sample-batch').type.fromBuffer(value.subarray(5)) as object), producer: 'bench' })]),
}));
const reorderedRecords: MetricsRecord[] = buffers.map((value, i) => ({
  topic: 'metrics',
  partition: 0,
  offset: String(i),
  key: null,
  value: Buffer.concat([wireHeader(3), reorderedType.toBuffer(contractSchema('sample-batch').type.fromBuffer(value.subarray(5)))]),
}));
console.log(`${buffers.length} records, ${samples} samples, ${(samples / buffers.length).toFixed(0)} samples/record, ${POOLS * HOSTS} hosts`);

const type = contractSchema('sample-batch').type;
let sink = 0;
const decoder = new SampleBatchDecoder({ registry });
await decoder.decodeAsync(records[0]!);
await decoder.decodeAsync(evolvedRecords[0]!);
await decoder.decodeAsync(reorderedRecords[0]!);
const check = (r: DecodeResult | Promise<DecodeResult>): number => {
  if (r instanceof Promise) throw new Error('schema id not cached');
  if (r.deadLetters.length > 0) throw new Error(`unexpected dead letter: ${r.deadLetters[0]!.message}`);
  return r.batch.length;
};
const cold = performance.now();
for (const r of records) sink += check(decoder.decode(r));
const coldRate = samples / ((performance.now() - cold) / 1000);
console.log(`${'vigil decoder, first pass (every series new)'.padEnd(48)} ${(coldRate / 1e6).toFixed(2)}M samples/s`);

// Baseline and decoder alternate pass by pass, so load from other processes hits both alike.
const baselinePass = (): void => {
  for (const b of buffers) sink += (type.fromBuffer(b.subarray(5)) as SampleBatch).samples.length;
};
const decoderPass = (): void => {
  for (const r of records) sink += check(decoder.decode(r));
};
baselinePass();
decoderPass();
let bestBaseline = Infinity;
let bestDecoder = Infinity;
let rounds = 0;
for (const until = performance.now() + seconds * 2000; performance.now() < until || rounds < 2; rounds++) {
  let t0 = performance.now();
  baselinePass();
  bestBaseline = Math.min(bestBaseline, performance.now() - t0);
  t0 = performance.now();
  decoderPass();
  bestDecoder = Math.min(bestDecoder, performance.now() - t0);
}
const baseline = samples / (bestBaseline / 1000);
const fast = samples / (bestDecoder / 1000);
console.log(`${'baseline: bare avsc decode'.padEnd(48)} ${(baseline / 1e6).toFixed(2)}M samples/s (best of ${rounds} alternating passes)`);
console.log(`${'vigil decoder (decode + validate + series id)'.padEnd(48)} ${(fast / 1e6).toFixed(2)}M samples/s (best of ${rounds} alternating passes)`);
measure('vigil decoder, writer with an extra field', samples, () => {
  for (const r of evolvedRecords) sink += check(decoder.decode(r));
});
measure('vigil decoder, reordered writer (avsc path)', samples, () => {
  for (const r of reorderedRecords) sink += check(decoder.decode(r));
});
const table = new SeriesTable();
// The naive path is ~30x slower: measure it on a slice to keep the run short.
const slice = buffers.slice(0, 400);
measure('naive: avsc + merge + canonical + xxh64 / sample', (samples * slice.length) / buffers.length, () => {
  for (const b of slice) {
    const batch = type.fromBuffer(b.subarray(5)) as SampleBatch;
    for (const s of batch.samples) {
      const labels = mergeLabels(batch.source, s.labels);
      if (checkSeries(s.name, labels) === null) sink += table.intern(seriesIdentity(s.name, labels)).ref;
    }
  }
});
console.log(`series: ${decoder.series.size}, checksum ${sink % 1000}`);
console.log(
  JSON.stringify({
    bench: 'decode',
    samples_per_s: Math.round(fast),
    baseline: 'avsc decode',
    baseline_per_s: Math.round(baseline),
    ratio: Number((fast / baseline).toFixed(3)),
  }),
);
