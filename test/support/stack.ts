/**
 * Integration-test helpers: one embedded stack (or only an embedded Kafka) per test file, started in
 * beforeAll and stopped in afterAll. Always embedded, whatever KAFKA_BROKERS says, so tests are isolated.
 *
 *   const stack = useStack({ partitions: 2 });
 *   it('...', async () => {
 *     const kafka = createKafka(stack.brokers, 'my-test');         // kafkajs with Vigil's settings
 *     await publish(stack.registryUrl, ...);
 *     stack.kafka.brokerDown(1);                                  // fault injection
 *   });
 *
 * Accessing a property before beforeAll ran throws, so a mistake shows up as a clear error.
 */
import { afterAll, beforeAll } from 'vitest';
import { configSchema, type VigilConfig } from '../../src/config/config.js';
import { startEmbeddedKafka, type EmbeddedKafka, type EmbeddedKafkaOptions } from '../../src/dev/embedded-kafka.js';
import { startStack, type Stack, type StackOptions } from '../../src/dev/stack.js';

/** A stack whose Kafka is always the embedded one. */
export interface TestStack extends Stack {
  readonly kafka: EmbeddedKafka;
}

/** Defaults with everything embedded, plus `overrides` (e.g. { topics: { metrics: 'm2' } }). */
export function testConfig(overrides: Record<string, unknown> = {}): VigilConfig {
  const config = configSchema.parse(overrides);
  return { ...config, kafka: { ...config.kafka, brokers: undefined }, schemaRegistry: { url: undefined } };
}

/** Starts an embedded stack for a test (caller stops it). */
export async function startTestStack(options: Omit<StackOptions, 'config'> & { config?: VigilConfig } = {}): Promise<TestStack> {
  const stack = await startStack({ ...options, config: options.config ?? testConfig() });
  return stack as TestStack;
}

/** Registers beforeAll/afterAll that start and stop one embedded stack for the current file or describe. */
export function useStack(options: Omit<StackOptions, 'config'> & { config?: VigilConfig } = {}): TestStack {
  let stack: TestStack | undefined;
  beforeAll(async () => {
    stack = await startTestStack(options);
  });
  afterAll(async () => {
    await stack?.stop();
    stack = undefined;
  });
  return lazy(() => stack, 'useStack');
}

/** Like useStack, but only an embedded Kafka (no registry, no topics): quicker when that is all a test needs. */
export function useEmbeddedKafka(options: EmbeddedKafkaOptions = {}): EmbeddedKafka {
  let kafka: EmbeddedKafka | undefined;
  beforeAll(async () => {
    kafka = await startEmbeddedKafka(options);
  });
  afterAll(async () => {
    await kafka?.stop();
    kafka = undefined;
  });
  return lazy(() => kafka, 'useEmbeddedKafka');
}

function lazy<T extends object>(get: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get(_target, prop) {
      const value = get();
      if (!value) throw new Error(`${what}(): not running here (use it inside tests, after beforeAll)`);
      const v = Reflect.get(value, prop, value);
      return typeof v === 'function' ? v.bind(value) : v;
    },
  });
}
