/** Builds the UI's PromQL editor bundle (dist/ui-build) as `npm run build` does, in a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/child-process.js';

export async function buildUi(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(repoRoot, 'scripts/build-ui.mjs')], { cwd: repoRoot, timeout: 60_000 });
}
