/**
 * Shared entry of the rollup verifier scenarios (`npm run chaos -- rollup|instances --cycles N
 * [--seed S] [--brokers HOST:PORT | --mock]`): on the Kafka at --brokers (or KAFKA_BROKERS), else on a
 * real broker of its own (temporary data), or on librdkafka's mock with --mock; the embedded schema
 * registry runs on it. The last line printed is the JSON result.
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
  const mock = args.includes('--mock');
  const base = configSchema.parse({});
  // --brokers: that cluster; --mock: librdkafka's mock; else a real broker of its own in a temporary directory.
  const stack = await startStack({
    partitions: 4,
    config: { ...base, kafka: { ...base.kafka, brokers: brokers || undefined }, schemaRegistry: { ...base.schemaRegistry, url: undefined } },
    ...(mock ? { embedded: 'mock' as const } : { kafkaDataDir: null }),
  });
  try {
    const result = await runChaos({ scenario, brokers: stack.brokers, registryUrl: stack.registryUrl, embedded: mock, cycles, seed, ...(opt('scrapes', '') ? { scrapes: Number(opt('scrapes', '')) } : {}), log: (line) => console.log(line) });
    console.log(`seed ${seed}, broker ${brokers ? `kafka at ${brokers}` : mock ? 'embedded mock' : `embedded real broker at ${stack.brokers}`}`);
    console.log(JSON.stringify(result));
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await stack.stop();
  }
}
