// `npm run chaos -- SCENARIO --cycles N [--seed S] [--brokers HOST:PORT]`: the verifier. Each scenario kills
// Vigil's processes at random points while they consume a fixed input and compares what they computed with
// an uninterrupted run of the same input; the last line printed is one JSON object.
import { spawnSync } from 'node:child_process';

const [scenario, ...rest] = process.argv.slice(2);
const scenarios = {
  rollup: 'test/integration/chaos/rollup.ts',
  instances: 'test/integration/chaos/instances.ts',
};
if (!scenario || !scenarios[scenario]) {
  console.error(`usage: npm run chaos -- SCENARIO [--cycles N] [--seed S] [--brokers HOST:PORT]\nscenarios: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const res = spawnSync(process.execPath, ['--import', 'tsx', scenarios[scenario], ...rest], { stdio: 'inherit' });
process.exit(res.status ?? 1);
