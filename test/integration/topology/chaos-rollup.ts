/**
 * Entry of `npm run chaos -- rollup --cycles N [--seed S] [--scrapes K]`: starts an embedded stack,
 * runs the crash scenario with N SIGKILLs and prints the verifier's counts (last line JSON).
 */
import { configSchema } from '../../../src/config/config.js';
import { startStack } from '../../../src/dev/stack.js';
import { runCrashScenario } from './rollup-crash-harness.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const cycles = Number(opt('cycles', '5'));
const seed = Number(opt('seed', String(Date.now() % 100000)));
const base = configSchema.parse({});
const stack = await startStack({ partitions: 2, kafkaDataDir: null, config: { ...base, kafka: { ...base.kafka, brokers: undefined }, schemaRegistry: { ...base.schemaRegistry, url: undefined } } });
try {
  const started = Date.now();
  const result = await runCrashScenario({
    brokers: stack.brokers,
    registryUrl: stack.registryUrl,
    cycles,
    partitions: 2,
    seed,
    scrapes: Number(opt('scrapes', String(Math.max(60, cycles * 12)))),
    log: (line) => console.log(line),
  });
  console.log(`seed ${seed}, ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(JSON.stringify({ scenario: 'rollup', cycles, ...result }));
  process.exitCode = result.ok ? 0 : 1;
} finally {
  await stack.stop();
}
