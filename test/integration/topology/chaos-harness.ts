/**
 * The rollup verifier behind `npm run chaos -- rollup|instances --cycles N` and the crash test: the 1m
 * and 1h rollup topologies run in child engines (test/integration/topology/rollup-child.ts) while a fixed
 * input is published gradually; children are killed with SIGKILL at random points (while consuming,
 * committing, joining the group or restoring, since some restarts lose their local state on purpose);
 * then the last children drain the rest. Every record of `metrics.rollup.1m` and `metrics.rollup.1h`, as
 * a consumer reads it (replays included, nothing deduplicated by id), is compared with an uninterrupted
 * run of the same input: the 1m rollups, and the 1h rollups that the 1h topology, the internal consumer
 * of the 1m topic, computed from them (rollup-verifier.ts).
 *
 * - `rollup`: one engine at a time; a quarter of the restarts start without local state (full restore).
 * - `instances`: up to three engines in one group (two or three alive), a random one killed each cycle and
 *   restarted (its state kept or lost), so partitions and their tasks move between them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, ensureTopics } from '../../../src/kafka/client.js';
import { spawnTs, type Child } from '../../support/child-process.js';
import { collectAll, fixtureInput, oracleRollups, publish } from './rollup-fixture.js';
import { compareRollups, expectedRollups } from './rollup-verifier.js';

export interface ChaosOptions {
  scenario: 'rollup' | 'instances';
  brokers: string;
  registryUrl: string;
  /** The brokers are librdkafka's mock (short sessions) rather than a real Kafka. */
  embedded: boolean;
  cycles: number;
  seed?: number;
  /** Input: sources x 10 series, a scrape every 20 s for ~2.2 h of event time (two hours close). */
  sources?: number;
  scrapes?: number;
  log?: (line: string) => void;
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
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const restores = (c: Child) => (c.stderr().match(/restored from changelog/g) ?? []).length; // logs go to stderr

export async function runChaos(o: ChaosOptions) {
  const log = o.log ?? (() => undefined);
  const random = rng(o.seed ?? Date.now());
  const partitions = o.scenario === 'instances' ? 4 : 2;
  const prefix = `chaos-${o.scenario}-${Date.now()}-`;
  const topic = (t: string) => `${prefix}${t}`;
  await ensureTopics(o.brokers, ['metrics', 'metrics.rollup.1m', 'metrics.rollup.1h', 'metrics.late', 'metrics.dlq'].map((t) => ({ name: topic(t), partitions })));
  const input = fixtureInput({ sources: o.sources ?? 8, perSource: 10, scrapes: o.scrapes ?? 400, partitions, intervalMs: 20_000 });
  const oracle = await oracleRollups(input, 10_000);
  const expected1m = expectedRollups(oracle.m1);
  const expected1h = expectedRollups(oracle.h1);
  const kafka = createKafka(o.brokers, 'chaos-harness');
  const out1m = await collectAll(kafka, o.registryUrl, topic('metrics.rollup.1m'));
  const out1h = await collectAll(kafka, o.registryUrl, topic('metrics.rollup.1h'));
  const dirs: string[] = [];
  const newDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-chaos-'));
    dirs.push(d);
    return d;
  };
  const env = (dir: string) => ({
    KAFKA_BROKERS: o.brokers,
    SCHEMA_REGISTRY_URL: o.registryUrl,
    VIGIL_STATE_DIR: dir,
    VIGIL_LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? 'info',
    CHILD_PREFIX: prefix,
    CHILD_PARTITIONS: String(partitions),
    CHILD_HOURLY: '1',
    CHILD_EMBEDDED: o.embedded ? '1' : '0',
    // a real broker refuses sessions under group.min.session.timeout.ms (6 s)
    CHILD_SESSION_TIMEOUT: o.embedded ? '3000' : '6000',
  });
  const slots = o.scenario === 'instances' ? 3 : 1;
  const children: Array<{ child: Child | null; dir: string }> = Array.from({ length: slots }, () => ({ child: null, dir: newDir() }));
  const launch = (i: number) => {
    children[i]!.child = track(spawnTs('test/integration/topology/rollup-child.ts', [], env(children[i]!.dir)));
    return children[i]!.child!;
  };
  let kills = 0;
  let wiped = 0;
  let restored = 0;
  const countRestores = (c: Child) => {
    restored += restores(c);
  };
  // A share of the input is published at the start of each cycle, so every child finds input arriving.
  const perCycle = Math.ceil(input.length / (o.cycles + 1));
  const publishShare = (k: number) => publish(kafka, o.registryUrl, input.slice(k * perCycle, (k + 1) * perCycle), undefined, topic('metrics'));
  const started = Date.now();
  try {
    if (o.scenario === 'instances') for (let i = 1; i < slots; i++) await launch(i).waitFor(/ready/, 60_000);
    for (let cycle = 0; cycle < o.cycles; cycle++) {
      // The victim: in `rollup` the one engine; in `instances` a random running one (one is always down).
      const down = children.findIndex((c) => c.child === null);
      const i = o.scenario === 'rollup' ? 0 : down;
      if (random() < 0.25) {
        rmSync(children[i]!.dir, { recursive: true, force: true });
        children[i]!.dir = newDir();
        wiped++;
      }
      const child = launch(i);
      await publishShare(cycle);
      await child.waitFor(/ready/, 90_000);
      // Half the kills wait for processing; the others land anywhere after start (join, restore, commit).
      if (random() < 0.5) await child.waitFor(/processed \d+/, 20_000).catch(() => undefined);
      await sleep(Math.floor(random() * 1500));
      let victim = i;
      if (o.scenario === 'instances') {
        const alive = children.map((c, k) => (c.child ? k : -1)).filter((k) => k >= 0);
        victim = alive[Math.floor(random() * alive.length)]!;
      }
      const v = children[victim]!.child!;
      await v.stop('SIGKILL');
      countRestores(v);
      children[victim]!.child = null;
      kills++;
      if (kills % 10 === 0 || kills === o.cycles) log(`kill ${kills}/${o.cycles} (${Math.round((Date.now() - started) / 1000)} s): 1m records ${out1m.records.length}, 1h records ${out1h.records.length}, restores so far ${restored}, wiped ${wiped}`);
    }
    await publishShare(o.cycles);
    for (let i = 0; i < slots; i++) if (!children[i]!.child) await launch(i).waitFor(/ready/, 90_000);
    // Drained when every expected rollup of both resolutions is there, then a little longer for strays.
    const end = Date.now() + 180_000;
    while (Date.now() < end) {
      if (compareRollups(expected1m, out1m.records).missing === 0 && compareRollups(expected1h, out1h.records).missing === 0) break;
      await sleep(500);
    }
    await sleep(2000);
  } finally {
    for (const c of children) {
      if (!c.child) continue;
      const file = join(tmpdir(), `vigil-chaos-last-child-${process.pid}.log`);
      writeFileSync(file, `${c.child.stdout().slice(-200_000)}\n--- stderr ---\n${c.child.stderr().slice(-50_000)}`);
      countRestores(c.child);
      await c.child.stop('SIGTERM');
    }
    await out1m.stop();
    await out1h.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  const m1 = compareRollups(expected1m, out1m.records);
  const h1 = compareRollups(expected1h, out1h.records);
  const missing = m1.missing + h1.missing;
  const doubleCounted = m1.double_counted + h1.double_counted;
  const different = m1.different + h1.different;
  return {
    scenario: o.scenario,
    cycles: o.cycles,
    kills,
    missing,
    double_counted: doubleCounted,
    different,
    duplicate_transitions: 0,
    ok: kills === o.cycles && missing === 0 && doubleCounted === 0 && different === 0 && m1.rows_expected > 0 && h1.rows_expected > 0,
    rollups_1m: m1,
    rollups_1h: h1,
    restarts_without_state: wiped,
    restores: restored,
    records_in: input.length,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
