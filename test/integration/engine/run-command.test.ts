import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnChild } from '../../support/child-process.js';
import { namespaceEnv, testConfig } from '../../support/stack.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('vigil run', () => {
  it('starts the engine (with its own embedded registry), serves /healthz, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-run-'));
    dirs.push(dir);
    const config = testConfig();
    const child = spawnChild(process.execPath, ['--import', 'tsx', '-e', `import('./src/cli/main.ts').then((m) => m.main(process.argv))`, 'x', 'run', '--commit-interval', '200'], {
      ...namespaceEnv(dir, config),
      VIGIL_STATE_DIR: join(dir, 'state'),
      VIGIL_ARCHIVE: join(dir, 'archive'),
      VIGIL_HTTP_PORT: '0',
      VIGIL_LOG_LEVEL: 'warn',
      SCHEMA_REGISTRY_URL: '',
    });
    try {
      const started = await child.waitFor(/engine started \((.*)\); http (\S+)/, 90_000);
      expect(started[1]).toContain(`${config.kafka.clientId}-rollup-1m`);
      expect((await fetch(`${started[2]}/healthz`)).status).toBe(200);
      expect(await child.stop('SIGTERM', 30_000)).toBe(0);
      expect(child.stdout()).toContain('vigil run: stopped');
      // the rollup tasks opened their LevelDBs under VIGIL_STATE_DIR
      expect(readdirSync(join(dir, 'state')).some((d) => d.startsWith(`${config.kafka.clientId}-rollup-1m-`))).toBe(true);
    } finally {
      if (child.proc.exitCode === null) await child.stop('SIGKILL');
    }
  });
});
