/**
 * vitest globalSetup of the integration project: ONE real Apache Kafka broker for the whole test run
 * (src/dev/kafka-cluster.ts, a temporary data directory), shared by every test file; files keep apart
 * by unique topic names and group ids (test/support/stack.ts `testConfig`). Tests read its address with
 * `sharedKafkaBrokers()` (test/support/kafka.ts). No test depends on a broker left from an earlier run:
 * the broker is new for every run and its data is removed at the end.
 */
import type { TestProject } from 'vitest/node';
import { startKafkaCluster, type KafkaCluster } from '../../src/dev/kafka-cluster.js';

let cluster: KafkaCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  cluster = await startKafkaCluster({ nodes: 1 });
  project.provide('kafkaBrokers', cluster.bootstrapServers);
  process.stderr.write(`kafka: shared test broker ${cluster.bootstrapServers} ready in ${Date.now() - started} ms (logs: ${cluster.nodes[0]!.logFile})\n`);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}
