import { describe, expect, it } from 'vitest';
import { spawnVigil, type Child } from '../support/child-process.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const exitOf = (child: Child) => new Promise<number | null>((resolve) => child.proc.once('exit', (code) => resolve(code)));

describe('vigil exit codes', () => {
  it('prints an error with a stable code as a message and exits 1 (bad rules given to vigil run)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-main-'));
    writeFileSync(join(dir, 'bad.rules'), 'alert X {\n  when avg(cpu.load) >\n}\n');
    const child = spawnVigil(['run', '--rules', dir], { VIGIL_HTTP_PORT: '0', VIGIL_STATE_DIR: join(dir, 'state'), VIGIL_ARCHIVE: join(dir, 'archive') });
    const code = await exitOf(child);
    expect(code).toBe(1);
    expect(child.stderr()).toMatch(/bad\.rules:3:1: /);
    expect(child.stderr()).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on a usage error', async () => {
    const child = spawnVigil(['no-such-command']);
    expect(await exitOf(child)).toBe(2);
  });
});
