/**
 * `npm run bench -- topology [--rounds N] [--sizes 100000,1000000]`
 *
 * In-process hot path of the engine: SampleBatch records (100 samples each, one per source and scrape,
 * Confluent wire format) -> decode (src/model SampleBatchDecoder) -> per-series 1m window aggregation
 * (the rollup topology's task) -> commits into LevelDB (one batch per commit with offsets and outbox),
 * including the window closes and RollupBatch emission. Baseline in the same run: bare avsc decode of
 * the same records. Last line: JSON with samples_per_s (the worst of the sizes), baseline_per_s, ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { avroTypes } from '../src/model/avro-schemas.js';
import type { SampleBatch } from '../src/model/types.js';
import { MemoryRegistryClient } from '../src/topology/memory-registry.js';
import { buildRollup1mTopology } from '../src/topology/rollup/rollup-topology.js';
import { StreamTask } from '../src/topology/internals/stream-task.js';
import { LevelTaskStorage } from '../src/state/level-task-storage.js';
import type { RawRecord } from '../src/topology/topology.js';
import { arg, encodeSampleRounds } from './support/harness.js';

const sizes = arg('sizes', '100000,1000000').split(',').map(Number);
const roundsArg = Number(arg('rounds', '0'));
// One commit per 5M samples = the runtime's default 5 s commit interval at the 1M samples/s goal.
const COMMIT_EVERY_SAMPLES = Number(arg('commit-samples', '5000000'));
const PER_SOURCE = 100;
const INTERVAL = 10_000;
const T0 = 1_700_000_040_000; // a minute boundary + 40 s, so a window closes during the run

function encodeRounds(series: number, rounds: number, registry: MemoryRegistryClient): Promise<RawRecord[][]> {
  return encodeSampleRounds({
    series,
    rounds,
    registry,
    t0: T0,
    intervalMs: INTERVAL,
    perSource: PER_SOURCE,
    sample: (s, m, r, t) => ({ name: `metric_${m % 20}`, labels: { idx: String(m) }, timestamp: t, value: (s * 7 + m + r) % 1000, kind: m % 4 === 0 ? 'COUNTER' : 'GAUGE' }),
  });
}

function baseline(rounds: RawRecord[][]): number {
  const type = avroTypes().sampleBatch;
  let samples = 0;
  const t0 = performance.now();
  for (const list of rounds) for (const r of list) samples += (type.fromBuffer(r.value!.subarray(5)) as SampleBatch).samples.length;
  return samples / ((performance.now() - t0) / 1000);
}

async function runTopology(
  rounds: RawRecord[][],
  registry: MemoryRegistryClient,
): Promise<{ perS: number; firstRoundPerS: number; commits: number; commitMs: number; emitted: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-topology-'));
  const storage = await LevelTaskStorage.open(dir);
  const topology = buildRollup1mTopology({ registry, graceMs: 10_000 });
  const task = new StreamTask(topology, { taskId: 'bench-0', partition: 0, clock: { now: () => Date.now() } });
  task.init();
  await task.prepare(rounds[0]!.slice(0, 1));
  let samples = 0;
  let sinceCommit = 0;
  let commits = 0;
  let commitMs = 0;
  let emitted = 0;
  // As the runtime does: the commit is prepared synchronously (a consistent cut), its LevelDB write runs
  // while processing goes on, and at most one commit's IO is in flight.
  let inflight: Promise<void> = Promise.resolve();
  const commit = async () => {
    await inflight;
    const c0 = performance.now();
    const c = task.prepareCommit();
    const c1 = performance.now();
    for (const m of c.messages) if (m.topic === 'metrics.rollup.1m') emitted++;
    commits++;
    commitMs += c1 - c0;
    inflight = storage.write(c.ops).then(() => {
      task.commitSent(c);
      if (process.env.BENCH_DEBUG) console.log(`commit: prepare ${Math.round(c1 - c0)} ms, write ${Math.round(performance.now() - c1)} ms (overlapped), ops ${c.ops.length}, bytes ${c.ops.reduce((n, o) => n + (o.type === 'put' ? o.value.length : 0), 0)}`);
    });
  };
  // Round 0 sees every series for the first time (identity + interning in the decoder): timed apart,
  // the steady state of active series is what samples_per_s measures.
  const w0 = performance.now();
  for (const r of rounds[0]!) task.process(r);
  await commit();
  await inflight;
  const firstRoundPerS = (rounds[0]!.length * PER_SOURCE) / ((performance.now() - w0) / 1000);
  commits = 0;
  commitMs = 0;
  const t0 = performance.now();
  for (const list of rounds.slice(1)) {
    for (const r of list) {
      task.process(r);
      samples += PER_SOURCE;
      sinceCommit += PER_SOURCE;
      if (sinceCommit >= COMMIT_EVERY_SAMPLES) {
        sinceCommit = 0;
        await commit();
      }
    }
  }
  await commit();
  await inflight;
  const secs = (performance.now() - t0) / 1000;
  task.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  return { perS: samples / secs, firstRoundPerS, commits, commitMs, emitted };
}

const results: Record<string, number> = {};
let worst = Infinity;
let baseWorst = Infinity;
for (const series of sizes) {
  // 1M series: 9 rounds (90 s of data, one window close); 100k: 20 rounds.
  const rounds = roundsArg || (series >= 1_000_000 ? 10 : 20);
  const registry = new MemoryRegistryClient();
  const data = await encodeRounds(series, rounds, registry);
  const base = baseline(data);
  const r = await runTopology(data, registry);
  const label = series >= 1_000_000 ? `${series / 1_000_000}m` : `${series / 1000}k`;
  console.log(
    `series=${series} samples=${series * (rounds - 1)} (+${series} first-sight, ${Math.round(r.firstRoundPerS)}/s) topology=${Math.round(r.perS)}/s baseline(avsc decode)=${Math.round(base)}/s ratio=${(r.perS / base).toFixed(2)} commits=${r.commits} commit_prepare_ms_total=${Math.round(r.commitMs)} rollup_records=${r.emitted} rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)}`,
  );
  results[`samples_per_s_${label}`] = Math.round(r.perS);
  results[`baseline_per_s_${label}`] = Math.round(base);
  results[`first_sight_samples_per_s_${label}`] = Math.round(r.firstRoundPerS);
  worst = Math.min(worst, r.perS);
  baseWorst = Math.min(baseWorst, base);
  (globalThis as { gc?: () => void }).gc?.();
}
console.log(
  JSON.stringify({ bench: 'topology', samples_per_s: Math.round(worst), baseline: 'avsc decode', baseline_per_s: Math.round(baseWorst), ratio: Number((worst / baseWorst).toFixed(3)), ...results }),
);
