/**
 * The crash scenario shared by the integration test and `npm run chaos -- rollup --cycles N`:
 * the rollup topology runs as a child process; while a fixed input is published and consumed it is
 * killed with SIGKILL at random points `cycles` times; a last child drains the rest. The union of all
 * outputs, deduplicated by output id, must equal the oracle (an uninterrupted run) exactly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka } from '../../../src/kafka/client.js';
import { spawnTs, type Child } from '../../support/child-process.js';
import { collect, fixtureInput, oracle, publish, verify } from './rollup-fixture.js';

export interface CrashOptions {
  brokers: string;
  registryUrl: string;
  cycles: number;
  partitions: number;
  /** Input size: sources x perSource series, `scrapes` scrapes 10 s apart. */
  sources?: number;
  perSource?: number;
  scrapes?: number;
  seed?: number;
  log?: (line: string) => void;
  /** Topics (default the config defaults) and extra environment for the children (e.g. VIGIL_CONFIG). */
  topics?: { metrics: string; rollup1m: string };
  env?: Record<string, string>;
}

/** Children still running when the harness process exits (e.g. a test timeout) are killed with it. */
function track(child: Child): Child {
  const kill = () => child.proc.kill('SIGKILL');
  process.once('exit', kill);
  child.proc.once('exit', () => process.off('exit', kill));
  return child;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export async function runCrashScenario(o: CrashOptions) {
  const log = o.log ?? (() => undefined);
  const random = rng(o.seed ?? Date.now());
  const input = fixtureInput({ sources: o.sources ?? 6, perSource: o.perSource ?? 10, scrapes: o.scrapes ?? 60, partitions: o.partitions });
  const expected = await oracle(input, 10_000);
  const kafka = createKafka(o.brokers, 'crash-harness');
  const topics = o.topics ?? { metrics: 'metrics', rollup1m: 'metrics.rollup.1m' };
  const out = await collect(kafka, o.registryUrl, topics.rollup1m);
  const stateDir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  const env = { ...(o.env ?? {}), KAFKA_BROKERS: o.brokers, SCHEMA_REGISTRY_URL: o.registryUrl, VIGIL_STATE_DIR: stateDir, CHILD_SESSION_TIMEOUT: '3000', VIGIL_LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? 'warn' };
  // The input is published gradually over ~8 s per cycle (a restart takes 3-6 s to rejoin the group),
  // so every child finds input arriving and each kill lands while it is being consumed.
  const ticks = Math.max(1, o.cycles * 40);
  const perTick = Math.ceil(input.length / ticks);
  const publishing = publish(kafka, o.registryUrl, input, { perTick, tickMs: 200 }, topics.metrics);
  let kills = 0;
  let child: Child | null = null;
  try {
    for (let i = 0; i < o.cycles; i++) {
      child = track(spawnTs('test/integration/topology/rollup-child.ts', [], env));
      await child.waitFor(/processed \d+/, 30_000);
      const delay = Math.floor(random() * 1500);
      await new Promise((r) => setTimeout(r, delay));
      const processed = /processed (\d+)\s*$/.exec(child.stdout())?.[1] ?? '0';
      await child.stop('SIGKILL');
      kills++;
      log(`kill ${kills}/${o.cycles}: SIGKILL after ${delay} ms of consuming (child had processed ${processed} records, outputs so far ${out.seen.size}/${expected.size})`);
      child = null;
    }
    await publishing;
    child = track(spawnTs('test/integration/topology/rollup-child.ts', [], env));
    await child.waitFor(/ready/, 60_000);
    const drained = await out.waitFor(expected.size, 90_000);
    if (!drained) {
      const file = join(tmpdir(), `vigil-crash-final-child-${process.pid}.log`);
      writeFileSync(file, `${child.stdout()}\n--- stderr ---\n${child.stderr()}`);
      log(`final run did not drain: its output is in ${file}`);
    }
    // Give duplicates or stray records a moment to show up before comparing.
    await new Promise((r) => setTimeout(r, 1000));
    await child.stop('SIGTERM');
    child = null;
    log(`final run ${drained ? 'drained' : 'did NOT drain'} the input`);
  } finally {
    if (child) await child.stop('SIGKILL');
    await out.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return { kills, records_in: input.length, records_out: out.records(), ...verify(expected, out.seen) };
}
