/**
 * The kafkajs client factory and settings shared by every component. Import from ./client.js.
 */
import { Kafka, logLevel, type ConsumerConfig, type KafkaConfig, type logCreator } from 'kafkajs';
import { componentLogger, type Logger } from '../obs/logger.js';

// Opt out of kafkajs's one-time "v2 switched the default partitioner" warning: Vigil never used v1's.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/**
 * Retries for every request: 300 ms doubling up to 3 s, 8 retries, so about 16 s (with jitter 13-20 s)
 * before a request fails. That rides out a 10-15 s broker outage (kafkajs's default gives up after ~10 s).
 */
export const kafkaRetry = { initialRetryTime: 300, maxRetryTime: 3000, retries: 8, factor: 0.2, multiplier: 2 } as const;

/**
 * Consumer settings for the embedded Kafka (librdkafka mock), also sane on a real cluster: the mock waits
 * sessionTimeout - 1 s for members at each rebalance, so a short session makes rebalances quick; it never
 * wakes a waiting fetch when data arrives, so fetches must return after 100 ms; a JoinGroup can take the
 * whole rebalance wait, so rebalanceTimeout is twice the session.
 */
export const embeddedConsumerDefaults = {
  sessionTimeout: 6000,
  heartbeatInterval: 1000,
  rebalanceTimeout: 12_000,
  maxWaitTimeInMs: 100,
} as const satisfies Partial<ConsumerConfig>;

/** Splits a comma-separated bootstrap list ("h1:9092, h2:9092") into kafkajs brokers. */
export function parseBrokers(brokers: string | readonly string[]): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers]).map((b) => b.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('no Kafka brokers given: set KAFKA_BROKERS to host:port[,host:port...]');
  for (const b of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new Error(`bad Kafka broker address "${b}": expected host:port`);
  }
  return list;
}

/**
 * A kafkajs client for `brokers` (comma-separated string or list) with Vigil's retry budget and its logs
 * going to pino (component "kafkajs", with the client id). `overrides` are merged last.
 */
export function createKafka(brokers: string | readonly string[], clientId: string, overrides: Partial<KafkaConfig> = {}): Kafka {
  const logger = componentLogger('kafkajs', { clientId });
  return new Kafka({
    clientId,
    brokers: parseBrokers(brokers),
    connectionTimeout: 3000,
    retry: { ...kafkaRetry },
    logLevel: kafkaLogLevel(logger),
    logCreator: pinoLogCreator(logger),
    ...overrides,
  });
}

/** The kafkajs level that lets through exactly what the pino logger would print. */
export function kafkaLogLevel(logger: Logger): logLevel {
  switch (logger.level) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'error':
    case 'fatal':
      return logLevel.ERROR;
    default:
      return logLevel.NOTHING;
  }
}

/** A kafkajs logCreator writing to `logger`; kafkajs's namespace and extra fields become pino fields. */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _t, logger: _l, ...fields } = log as { message: string; [k: string]: unknown };
      const entry = { namespace, ...fields };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
