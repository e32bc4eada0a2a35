/**
 * Shared entry of the rollup verifier scenarios (`npm run chaos -- rollup|instances --cycles N
 * [--seed S] [--brokers HOST:PORT]`): on the Kafka at --brokers (or KAFKA_BROKERS), with the embedded
 * schema registry on it; without either, on the embedded mock. The last line printed is the JSON result.
 */
import { configSchema } from '../../../src/config/config.js';
import { startStack } from '../../../src/dev/stack.js';
import { runChaos, type ChaosOptions } from '../topology/chaos-harness.js';

export async function main(scenario: ChaosOptions['scenario']): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : def);
  const cycles = Number(opt('cycles', '5'));
  const seed = Number(opt('seed', String(Date.now() % 100000)));
  const brokers = opt('brokers', process.env.KAFKA_BROKERS ?? '');
  const base = configSchema.parse({});
  const stack = await startStack({ partitions: 4, config: { ...base, kafka: { ...base.kafka, brokers: brokers || undefined }, schemaRegistry: { url: undefined } } });
  try {
    const result = await runChaos({ scenario, brokers: stack.brokers, registryUrl: stack.registryUrl, embedded: !brokers, cycles, seed, ...(opt('scrapes', '') ? { scrapes: Number(opt('scrapes', '')) } : {}), log: (line) => console.log(line) });
    console.log(`seed ${seed}, broker ${brokers ? `kafka at ${brokers}` : 'embedded mock'}`);
    console.log(JSON.stringify(result));
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}
