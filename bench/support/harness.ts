/** Harness bits the benchmarks share: flags, a seeded random source, SampleBatch input records. */
import { sampleBatchSerde } from '../../src/model/serde.js';
import type { Sample, SampleBatch } from '../../src/model/types.js';
import type { MemoryRegistryClient } from '../../src/topology/memory-registry.js';
import type { RawRecord } from '../../src/topology/topology.js';

/** The value after `--NAME` on the command line, else `def`. */
export function arg(name: string, def: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
}

/** `arg` as a number. */
export function numArg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

/** mulberry32: a fast seeded random source in [0, 1), the same sequence for the same seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleRounds {
  series: number;
  rounds: number;
  registry: MemoryRegistryClient;
  /** Time of round 0; round r is at t0 + r * intervalMs. */
  t0: number;
  intervalMs: number;
  /** Samples per source = per record (sources = ceil(series / perSource)). */
  perSource: number;
  /** Sample `m` of source `s` in round `r`. */
  sample: (s: number, m: number, r: number, t: number) => Sample;
}

/**
 * One list of `metrics` records per round (Confluent wire format, partition 0, offsets counting up):
 * one SampleBatch per source `{ pool: p<s % 100>, host: h<s> }`, keyed like the publisher keys it.
 */
export async function encodeSampleRounds(o: SampleRounds): Promise<RawRecord[][]> {
  const serde = sampleBatchSerde({ registry: o.registry });
  const id = await serde.schemaId('metrics');
  const sources = Math.ceil(o.series / o.perSource);
  const out: RawRecord[][] = [];
  let offset = 0;
  for (let r = 0; r < o.rounds; r++) {
    const t = o.t0 + r * o.intervalMs;
    const list: RawRecord[] = [];
    for (let s = 0; s < sources; s++) {
      const samples: Sample[] = [];
      for (let m = 0; m < o.perSource; m++) samples.push(o.sample(s, m, r, t));
      const batch: SampleBatch = { source: { pool: `p${s % 100}`, host: `h${s}` }, samples };
      list.push({ topic: 'metrics', partition: 0, offset: String(offset++), key: Buffer.from(`pool=p${s % 100},host=h${s}`), value: serde.encodeWithId(id, batch), timestamp: t });
    }
    out.push(list);
  }
  return out;
}
