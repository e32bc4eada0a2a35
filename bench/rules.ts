/**
 * `npm run bench -- rules [--series 1000000] [--rounds 7] [--close-groups 1000000]`
 *
 * 1) Throughput: SampleBatch records (100 samples each, Confluent wire format) for `--series` series
 *    -> SampleBatchDecoder -> RulesEngine with 100 rules (selection by metric name + matchers,
 *    aggregation per rule group and window). Baseline in the same run: the plain 1m rollup topology
 *    (src/topology/rollup) on the same records. `ratio` = rules / rollup.
 * 2) close_ms: one rule over a metric with `--close-groups` groups; time of the one `advance` that
 *    evaluates all groups at the window close (state machine included).
 * Last line: JSON {bench, samples_per_s, baseline, baseline_per_s, ratio, close_ms, ...}.
 */
import { checkSources } from '../src/dsl/index.js';
import { RulesEngine } from '../src/rules/engine.js';
import { SampleBatchDecoder } from '../src/model/sample-batch-decoder.js';
import { SeriesTable } from '../src/model/decoded-batch.js';
import { MemoryRegistryClient } from '../src/topology/memory-registry.js';
import { buildRollup1mTopology } from '../src/topology/rollup/rollup-topology.js';
import { StreamTask } from '../src/topology/internals/stream-task.js';
import type { RawRecord } from '../src/topology/topology.js';
import { arg, encodeSampleRounds } from './support/harness.js';

const SERIES = Number(arg('series', '1000000'));
const ROUNDS = Number(arg('rounds', '7'));
const CLOSE_GROUPS = Number(arg('close-groups', '1000000'));
const PER_SOURCE = 100;
const METRICS = 20;
const INTERVAL = 10_000;
const T0 = 1_700_000_040_000;

function rulesText(): string {
  const fns = ['avg', 'max', 'min', 'sum', 'p99', 'rate', 'count_series', 'stddev', 'last', 'increase'];
  const groupings = ['by (pool)', 'by (pool, idx)', 'by (host)', '', 'without (idx)'];
  const out: string[] = [];
  for (let i = 0; i < 100; i++) {
    const metric = `metric_${i % METRICS}`;
    const fn = fns[i % fns.length]!;
    const g = groupings[Math.floor(i / 10) % groupings.length]!;
    const matcher = i % 3 === 0 ? `{pool=~"p[0-4].*"}` : i % 3 === 1 ? `{idx!="7"}` : '';
    out.push(`alert R${i} { when ${fn}(${metric}${matcher}) ${g} > ${900 + (i % 7) * 20} }`);
  }
  return out.join('\n');
}

function encode(series: number, rounds: number, registry: MemoryRegistryClient): Promise<RawRecord[][]> {
  return encodeSampleRounds({
    series,
    rounds,
    registry,
    t0: T0,
    intervalMs: INTERVAL,
    perSource: PER_SOURCE,
    sample: (s, m, r, t) => ({ name: `metric_${m % METRICS}`, labels: { idx: String(m) }, timestamp: t, value: (s * 7 + m + r * 13) % 1000, kind: 'GAUGE' }),
  });
}

async function runRollup(rounds: RawRecord[][], registry: MemoryRegistryClient): Promise<number> {
  const topology = buildRollup1mTopology({ registry, graceMs: 10_000 });
  const task = new StreamTask(topology, { taskId: 'bench-0', partition: 0, clock: { now: () => Date.now() } });
  task.init();
  await task.prepare(rounds[0]!.slice(0, 1));
  for (const r of rounds[0]!) task.process(r);
  task.commitSent(task.prepareCommit());
  let samples = 0;
  const t0 = performance.now();
  for (const list of rounds.slice(1)) for (const r of list) {
    task.process(r);
    samples += PER_SOURCE;
  }
  task.commitSent(task.prepareCommit());
  const perS = samples / ((performance.now() - t0) / 1000);
  task.close();
  return perS;
}

async function runRules(rounds: RawRecord[][], registry: MemoryRegistryClient): Promise<{ perS: number; groups: number }> {
  const model = checkSources([{ file: 'bench.rules', source: rulesText() }]).model!;
  const engine = new RulesEngine(model);
  const decoder = new SampleBatchDecoder({ registry, series: new SeriesTable(), maxCacheEntries: 4_000_000 });
  await decoder.decode(rounds[0]![0]!);
  let decodeMs = 0;
  const feed = (r: RawRecord) => {
    const d0 = performance.now();
    const res = decoder.decode(r);
    decodeMs += performance.now() - d0;
    if (res instanceof Promise) throw new Error('schema not cached');
    const b = res.batch;
    engine.ingestBatch(b);
    // What the processor hands to its store at each commit (the runtime commits every ~5 s).
    sinceCommit += b.length;
    if (sinceCommit >= 5_000_000) {
      sinceCommit = 0;
      engine.drainChanges();
    }
  };
  let sinceCommit = 0;
  for (const r of rounds[0]!) feed(r);
  let samples = 0;
  const t0 = performance.now();
  for (const list of rounds.slice(1)) for (const r of list) {
    feed(r);
    samples += PER_SOURCE;
  }
  engine.drainChanges();
  const perS = samples / ((performance.now() - t0) / 1000);
  if (process.env.BENCH_DEBUG) console.log(`rules: total ${Math.round(performance.now() - t0)} ms, decode ${Math.round(decodeMs)} ms`);
  return { perS, groups: 0 };
}

function closeBench(groups: number): { closeMs: number; events: number; persistMs: number } {
  const model = checkSources([{ file: 'close.rules', source: 'alert Close { when avg(m) by (host, idx) > 998 }' }]).model!;
  const engine = new RulesEngine(model);
  const hosts = Math.ceil(groups / 100);
  for (let h = 0; h < hosts; h++) {
    for (let i = 0; i < 100; i++) {
      const labels = { host: `h${h}`, idx: String(i) };
      engine.ingest({ key: `${h}/${i}`, name: 'm', labels }, T0 + 1000, (h * 100 + i) % 1000);
    }
  }
  engine.drainChanges();
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  const out = engine.advance(T0 + 60_000 + 10_000);
  const closeMs = performance.now() - t0;
  // What the next commit hands to the store: the closed window's deletions and the alert states.
  const t1 = performance.now();
  engine.drainChanges();
  return { closeMs, events: out.events.length, persistMs: performance.now() - t1 };
}

const registry = new MemoryRegistryClient();
const data = await encode(SERIES, ROUNDS, registry);
const rollup = await runRollup(data, registry);
(globalThis as { gc?: () => void }).gc?.();
const rules = await runRules(data, registry);
(globalThis as { gc?: () => void }).gc?.();
const close = closeBench(CLOSE_GROUPS);
console.log(`series=${SERIES} rounds=${ROUNDS} rules=100 rules_engine=${Math.round(rules.perS)}/s rollup_topology=${Math.round(rollup)}/s ratio=${(rules.perS / rollup).toFixed(2)}`);
console.log(`close: groups=${CLOSE_GROUPS} close_ms=${Math.round(close.closeMs)} (+ ${Math.round(close.persistMs)} ms to hand the changes to the store at the next commit) firing_events=${close.events} rss_mb=${Math.round(process.memoryUsage().rss / 2 ** 20)}`);
console.log(
  JSON.stringify({
    bench: 'rules',
    samples_per_s: Math.round(rules.perS),
    baseline: 'rollup topology (1m, same records)',
    baseline_per_s: Math.round(rollup),
    ratio: Number((rules.perS / rollup).toFixed(3)),
    close_ms: Math.round(close.closeMs),
    close_persist_ms: Math.round(close.persistMs),
    close_groups: CLOSE_GROUPS,
    series: SERIES,
    rules: 100,
  }),
);
