// `npm run chaos -- rollup --cycles N [--seed S]`: kills the rollup topology (a child process on the
// embedded Kafka) with SIGKILL N times while it consumes a fixed input, then verifies that the union of
// its outputs, deduplicated by output id, equals an uninterrupted run. Prints the verifier's counts.
import { spawnSync } from 'node:child_process';

const [scenario, ...rest] = process.argv.slice(2);
const scenarios = { rollup: 'test/integration/topology/chaos-rollup.ts' };
if (!scenario || !scenarios[scenario]) {
  console.error(`usage: npm run chaos -- SCENARIO [--cycles N] [--seed S]\nscenarios: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const res = spawnSync(process.execPath, ['--import', 'tsx', scenarios[scenario], ...rest], { stdio: 'inherit' });
process.exit(res.status ?? 1);
