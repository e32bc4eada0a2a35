/**
 * `npm run bench -- memory [--series 1000000]`
 *
 * Resident bytes per active series of the engine's rollup path at 1M series: SampleBatch records are
 * decoded and folded into the 1m windows (two scrapes of every series, one commit into LevelDB); then,
 * after a full GC (the last commit's batch already written and dropped), the growth of live memory (V8 heap + array buffers) is divided by the series count.
 * Also printed: the share of the rollup store's typed arrays and of the decoder's series table, and the
 * RSS growth. Baseline (same run): the live memory of a bare Map<seriesId, Float64Array(7)> per series,
 * the "accumulator objects" design. Last line JSON with bytes_per_series.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleBatchSerde } from '../src/model/serde.js';
import type { SampleBatch } from '../src/model/types.js';
import { MemoryRegistryClient } from '../src/topology/memory-registry.js';
import { buildRollup1mTopology, type SampleRollupStore } from '../src/topology/rollup/rollup-topology.js';
import { StreamTask } from '../src/topology/internals/stream-task.js';
import { LevelTaskStorage } from '../src/state/level-task-storage.js';

const args = process.argv.slice(2);
const i = args.indexOf('--series');
const SERIES = i >= 0 ? Number(args[i + 1]) : 1_000_000;
const PER_SOURCE = 100;
const T0 = 1_700_000_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench does)');

function live(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Baseline: one Float64Array(7) accumulator per series in a Map keyed by a 64-bit id string. */
function baselineBytes(): number {
  const b0 = live();
  const map = new Map<string, Float64Array>();
  for (let s = 0; s < SERIES; s++) map.set((s * 2654435761 + 1e15).toString(16).padStart(16, '0'), new Float64Array(7));
  const bytes = (live() - b0) / SERIES;
  console.log(`baseline Map<id, Float64Array(7)>: ${bytes.toFixed(1)} bytes per series (${map.size} entries)`);
  return bytes;
}

async function main(): Promise<void> {
  const baseline = baselineBytes();
  const registry = new MemoryRegistryClient();
  const serde = sampleBatchSerde({ registry });
  const id = await serde.schemaId('metrics');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-memory-'));
  const storage = await LevelTaskStorage.open(dir);
  const task = new StreamTask(buildRollup1mTopology({ registry }), { taskId: 'mem-0', partition: 0, clock: { now: () => Date.now() } });
  task.init();
  const sources = Math.ceil(SERIES / PER_SOURCE);
  const before = live();
  const rssBefore = process.memoryUsage().rss;
  let offset = 0;
  /** One scrape of every series, then one commit (a function, so the commit batch is garbage when it returns). */
  const round = async (t: number, delta: number): Promise<void> => {
    for (let s = 0; s < sources; s++) {
      const samples = [];
      for (let m = 0; m < PER_SOURCE; m++) samples.push({ name: `metric_${m % 20}`, labels: { idx: String(m) }, timestamp: t, value: m + delta, kind: 'GAUGE' as const });
      const batch: SampleBatch = { source: { pool: `p${s % 100}`, host: `h${s}` }, samples };
      const raw = { topic: 'metrics', partition: 0, offset: String(offset++), key: Buffer.from(`pool=p${s % 100},host=h${s}`), value: serde.encodeWithId(id, batch), timestamp: t };
      if (offset === 1) await task.prepare([raw]);
      task.process(raw);
    }
    const c = task.prepareCommit();
    await storage.write(c.ops);
    task.commitSent(c);
  };
  for (let r = 0; r < 2; r++) await round(T0 + r * 10_000, r);
  const after = live();
  const rssAfter = process.memoryUsage().rss;
  const store = task.getStore('rollup-1m') as SampleRollupStore;
  const typed = store.residentBytes();
  const perSeries = (after - before) / SERIES;
  console.log(`series=${SERIES} live_growth_mb=${((after - before) / 2 ** 20).toFixed(1)} bytes_per_series=${perSeries.toFixed(1)} rollup_typed_arrays_per_series=${(typed / SERIES).toFixed(1)} rest(decoder series table + caches)_per_series=${(perSeries - typed / SERIES).toFixed(1)} rss_growth_per_series=${((rssAfter - rssBefore) / SERIES).toFixed(1)} series_in_table=${store.series.size}`);
  task.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });

  console.log(JSON.stringify({ bench: 'memory', series: SERIES, bytes_per_series: Math.round(perSeries), rollup_state_bytes_per_series: Math.round(typed / SERIES), rss_bytes_per_series: Math.round((rssAfter - rssBefore) / SERIES), baseline: 'Map<id, Float64Array(7)>', baseline_bytes_per_series: Math.round(baseline), ratio: Number((perSeries / baseline).toFixed(3)), goal_bytes_per_series: 256 }));
}

await main();
