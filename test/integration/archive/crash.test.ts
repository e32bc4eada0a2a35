/** SIGKILL in the middle of a write: nothing partial is visible, and the restart cuts the same objects. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../src/sinks/archive/storage/local-store.js';
import { spawnTs } from '../../support/child-process.js';
import { readBack } from '../../sinks/archive/archive-fixtures.js';
import { rollupRecords } from '../../sinks/archive/sink-fixtures.js';

const CHILD = 'test/integration/archive/crash-child.ts';
const RECORDS = '1200'; // 8 hosts x 150 ticks (09:50 .. 10:15), 20 samples each = 24,000 rows
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vigil-crash-'));
  dirs.push(d);
  return d;
}

function runChild(root: string, commitFile: string, env: Record<string, string> = {}) {
  return spawnTs(CHILD, [root, commitFile, RECORDS], env);
}

describe('archive crash safety', () => {
  it('a SIGKILL during a write leaves no partial object and the restart writes the same object names', async () => {
    const clean = await tempDir();
    const cleanRun = await runChild(join(clean, 'archive'), join(clean, 'commit'));
    await cleanRun.waitFor(/DONE/, 60_000);
    await cleanRun.stop();
    const expectedKeys = (await new LocalStore(join(clean, 'archive')).list('')).map((o) => o.key);
    expect(expectedKeys.length).toBeGreaterThan(4);

    const dir = await tempDir();
    const root = join(dir, 'archive');
    const crashed = await runChild(root, join(dir, 'commit'), { PAUSE_AT_PUT: '4' });
    const paused = await crashed.waitFor(/PAUSED (\S+)/, 60_000);
    expect(await crashed.stop('SIGKILL')).toBe('SIGKILL');
    const store = new LocalStore(root);
    const visible = (await store.list('')).map((o) => o.key);
    // The killed write left only a temp file, outside the hive tree, invisible to list and to DuckDB's glob.
    expect(visible).not.toContain(paused[1]);
    expect(visible).toEqual(expectedKeys.slice(0, 3));
    expect((await readdir(join(root, '_tmp'))).some((f) => f.endsWith('.parquet.tmp'))).toBe(true);
    const partial = await readBack(`SELECT count(*)::INTEGER AS n FROM read_parquet('${root}/**/*.parquet', hive_partitioning = true)`);
    expect(partial[0]!.n).toBeGreaterThan(0);

    const restarted = await runChild(root, join(dir, 'commit'));
    await restarted.waitFor(/DONE/, 60_000);
    await restarted.stop();
    expect((await store.list('')).map((o) => o.key)).toEqual(expectedKeys);
    const rows = await readBack(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT (series_id, "timestamp"))::INTEGER AS d FROM read_parquet('${root}/resolution=*/**/*.parquet', hive_partitioning = true)`,
    );
    expect(rows[0]).toEqual({ n: 24_000, d: 24_000 });
  });

  it('a SIGKILL during a write of rollups the engine replays at new offsets: the restart archives each window once', async () => {
    const env = { ROLLUPS: '1' };
    const clean = await tempDir();
    const cleanRun = await runChild(join(clean, 'archive'), join(clean, 'commit'), env);
    await cleanRun.waitFor(/DONE/, 60_000);
    await cleanRun.stop();
    const expectedKeys = (await new LocalStore(join(clean, 'archive')).list('')).map((o) => o.key);
    expect(expectedKeys.length).toBeGreaterThan(6);

    const dir = await tempDir();
    const root = join(dir, 'archive');
    const crashed = await runChild(root, join(dir, 'commit'), { ...env, PAUSE_AT_PUT: '6' });
    await crashed.waitFor(/PAUSED (\S+)/, 60_000);
    expect(await crashed.stop('SIGKILL')).toBe('SIGKILL');
    const restarted = await runChild(root, join(dir, 'commit'), env);
    await restarted.waitFor(/DONE/, 60_000);
    await restarted.stop();
    expect((await new LocalStore(root).list('')).map((o) => o.key)).toEqual(expectedKeys);
    // 8 hosts x 20 series x 150 windows, each once, with the values of a run without replays.
    const sum = rollupRecords(150, 8, 20, Date.UTC(2026, 10, 25, 9, 30)).flat().reduce((a, r) => a + r.sum, 0);
    const rows = await readBack(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT (series_id, "start"))::INTEGER AS d, sum("sum") AS s FROM read_parquet('${root}/resolution=1m/**/*.parquet')`,
    );
    expect(rows[0]!.n).toBe(24_000);
    expect(rows[0]!.d).toBe(24_000);
    expect(rows[0]!.s as number).toBeCloseTo(sum, 6);
  });
});
