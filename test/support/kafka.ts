/**
 * The real Kafka broker of the test run (started once by test/support/kafka-global-setup.ts) and names that
 * keep test files apart on it.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** Bootstrap servers of the run's shared broker (integration project only). */
export function sharedKafkaBrokers(): string {
  const brokers = inject('kafkaBrokers');
  if (!brokers) throw new Error('no shared Kafka broker: this test must run in the integration project (vitest.config.ts globalSetup)');
  return brokers;
}

/** A name unique to this test run and file: `<prefix>-<8 hex>`, valid as a topic name and a group id. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
