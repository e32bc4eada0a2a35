/**
 * Integration-test helpers: a stack per test file, started in beforeAll and stopped in afterAll.
 *
 *   const stack = useStack({ partitions: 2 });     // the run's shared real Kafka broker + an own registry
 *   it('...', async () => {
 *     const kafka = createKafka(stack.brokers, 'my-test');   // kafkajs with Vigil's settings
 *     await publish(stack.registryUrl, stack.config.topics.metrics, ...);
 *   });
 *
 *   const mock = useMockStack();                   // librdkafka's mock, only where its fault injection is the point
 *   mock.kafka.brokerDown(1);
 *
 * On the shared broker every file gets its own namespace (`testConfig`): topics `<ns>.metrics`, ...,
 * consumer groups `<ns>-...` (config kafka.clientId) and the registry's `<ns>._schemas`, so files running
 * at the same time never see each other's records. Accessing a property before beforeAll ran throws.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll } from 'vitest';
import { configSchema, type VigilConfig } from '../../src/config/config.js';
import { startEmbeddedKafka, type EmbeddedKafka, type EmbeddedKafkaOptions } from '../../src/dev/embedded-kafka.js';
import { startStack, type Stack, type StackOptions } from '../../src/dev/stack.js';
import { sharedKafkaBrokers, uniqueName } from './kafka.js';

/** A stack on the mock: its Kafka is always the embedded librdkafka mock (fault injection). */
export interface MockTestStack extends Stack {
  readonly kafka: EmbeddedKafka;
}

/** A stack on the run's shared real broker. */
export type TestStack = Stack;

type TestStackOptions = Omit<StackOptions, 'config' | 'embedded' | 'kafkaDataDir'> & { config?: VigilConfig };

/**
 * Defaults with everything embedded except Kafka, plus `overrides`, in a fresh namespace `ns`: every topic of
 * config.topics is `<ns>.<default name>` (unless overridden), kafka.clientId (the prefix of every group) is `ns`,
 * the registry's topic `<ns>._schemas`, and kafka.brokers is unset (the stack helpers fill it in).
 */
export function testConfig(overrides: Record<string, unknown> = {}, ns = uniqueName()): VigilConfig {
  const defaults = configSchema.parse({});
  const topics = Object.fromEntries(Object.entries(defaults.topics).map(([k, v]) => [k, `${ns}.${v}`]));
  const o = overrides as { topics?: Record<string, string>; kafka?: Record<string, unknown>; schemaRegistry?: Record<string, unknown> };
  const config = configSchema.parse({
    ...overrides,
    topics: { ...topics, ...(o.topics ?? {}) },
    kafka: { clientId: ns, ...(o.kafka ?? {}) },
    schemaRegistry: { topic: `${ns}._schemas`, ...(o.schemaRegistry ?? {}) },
  });
  return { ...config, kafka: { ...config.kafka, brokers: undefined }, schemaRegistry: { ...config.schemaRegistry, url: undefined } };
}

/** The config of `testConfig` pointed at the run's shared broker. */
export function sharedBrokerConfig(config: VigilConfig = testConfig()): VigilConfig {
  return { ...config, kafka: { ...config.kafka, brokers: sharedKafkaBrokers() } };
}

/** Starts a stack on the shared broker (its own namespace and registry); the caller stops it. */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  return startStack({ ...options, config: sharedBrokerConfig(options.config ?? testConfig()) });
}

/** Starts a stack on a new librdkafka mock cluster in this process; the caller stops it. */
export async function startMockTestStack(options: TestStackOptions = {}): Promise<MockTestStack> {
  const stack = await startStack({ ...options, embedded: 'mock', config: options.config ?? testConfig() });
  return stack as MockTestStack;
}

/** Registers beforeAll/afterAll that start and stop one stack on the shared broker for the current file or describe. */
export function useStack(options: TestStackOptions = {}): TestStack {
  return useResource(() => startTestStack(options), (s) => s.stop(), 'useStack');
}

/** Like useStack, on librdkafka's mock: only for tests whose point is its fault injection. */
export function useMockStack(options: TestStackOptions = {}): MockTestStack {
  return useResource(() => startMockTestStack(options), (s) => s.stop(), 'useMockStack');
}

/** Only an embedded mock Kafka (no registry, no topics): quicker when that is all a fault-injection test needs. */
export function useEmbeddedKafka(options: EmbeddedKafkaOptions = {}): EmbeddedKafka {
  return useResource(() => startEmbeddedKafka(options), (k) => k.stop(), 'useEmbeddedKafka');
}

function useResource<T extends object>(start: () => Promise<T>, stop: (t: T) => Promise<void>, what: string): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value) await stop(value);
    value = undefined;
  });
  return lazy(() => value, what);
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

/**
 * The environment for a `vigil` child process that must work in `stack`'s namespace: KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, and VIGIL_CONFIG pointing at a YAML file with the stack's topics, client id and
 * registry topic (written to `dir`).
 */
export function stackEnv(stack: Stack, dir: string): Record<string, string> {
  return { ...namespaceEnv(dir, stack.config), KAFKA_BROKERS: stack.brokers, SCHEMA_REGISTRY_URL: stack.registryUrl };
}

/**
 * The environment for a `vigil` child process that runs on the run's shared broker in a namespace of its
 * own (`config`'s, default a new one) and starts its own embedded registry: KAFKA_BROKERS and VIGIL_CONFIG
 * (a YAML file written to `dir`).
 */
export function namespaceEnv(dir: string, config: VigilConfig = testConfig()): Record<string, string> {
  const { topics, kafka, schemaRegistry } = config;
  const file = join(dir, `vigil-${kafka.clientId}.yaml`);
  writeFileSync(file, stringifyYaml({ topics, kafka: { clientId: kafka.clientId, partitions: kafka.partitions }, schemaRegistry: { topic: schemaRegistry.topic } }));
  return { KAFKA_BROKERS: sharedKafkaBrokers(), VIGIL_CONFIG: file };
}
