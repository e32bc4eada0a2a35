import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runner = `${root}scripts/bench.mjs`;
const fixtures = `${root}test/fixtures/bench-runner`;

describe('npm run bench (scripts/bench.mjs)', () => {
  it('prints the result line last even when the benchmark logs after it', () => {
    const res = spawnSync('bash', ['-c', `"${process.execPath}" "${runner}" late-log 2>&1`], { cwd: fixtures, encoding: 'utf8' });
    expect(res.status).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toEqual(['figures: 1 sample/s', '{"level":30,"msg":"stack stopped"}', '{"bench":"late-log","samples_per_s":1}']);
  });

  it('exits 2 with the list of benchmarks for an unknown name', () => {
    const res = spawnSync(process.execPath, [runner, 'nope'], { cwd: fixtures, encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('available: late-log');
  });
});
