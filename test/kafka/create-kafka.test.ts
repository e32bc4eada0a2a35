import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { pino } from 'pino';
import { createKafka, embeddedConsumerDefaults, kafkaLogLevel, kafkaRetry, parseBrokers, pinoLogCreator } from '../../src/kafka/client.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('parseBrokers', () => {
  it('splits and trims a comma-separated list', () => {
    expect(parseBrokers(' a:9092, b:9093 ,')).toEqual(['a:9092', 'b:9093']);
    expect(parseBrokers(['127.0.0.1:1'])).toEqual(['127.0.0.1:1']);
  });

  it('names the bad entry', () => {
    expect(() => parseBrokers('')).toThrow(/set KAFKA_BROKERS/);
    expect(() => parseBrokers('a:9092,nohost')).toThrow(/bad Kafka broker address "nohost"/);
  });
});

describe('kafkajs log bridge', () => {
  it('lets through what pino would print', () => {
    expect(kafkaLogLevel(capture('debug').logger)).toBe(logLevel.DEBUG);
    expect(kafkaLogLevel(capture('info').logger)).toBe(logLevel.INFO);
    expect(kafkaLogLevel(capture('warn').logger)).toBe(logLevel.WARN);
    expect(kafkaLogLevel(capture('error').logger)).toBe(logLevel.ERROR);
    expect(kafkaLogLevel(capture('silent').logger)).toBe(logLevel.NOTHING);
  });

  it('maps levels and keeps kafkajs fields', async () => {
    const { logger, lines } = capture('debug');
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    const entry = (level: logLevel, message: string) =>
      log({ namespace: 'Consumer', level, label: 'X', log: { timestamp: 't', logger: 'kafkajs', message, groupId: 'g' } });
    entry(logLevel.ERROR, 'boom');
    entry(logLevel.WARN, 'careful');
    entry(logLevel.INFO, 'hello');
    entry(logLevel.DEBUG, 'detail');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg, l.namespace, l.groupId, l.timestamp])).toEqual([
      [50, 'boom', 'Consumer', 'g', undefined],
      [40, 'careful', 'Consumer', 'g', undefined],
      [30, 'hello', 'Consumer', 'g', undefined],
      [20, 'detail', 'Consumer', 'g', undefined],
    ]);
  });
});

describe('client settings', () => {
  it('gives requests a retry budget over 10 s', () => {
    let total = 0;
    let delay: number = kafkaRetry.initialRetryTime;
    for (let i = 0; i < kafkaRetry.retries; i++) {
      total += delay;
      delay = Math.min(kafkaRetry.maxRetryTime, delay * kafkaRetry.multiplier);
    }
    expect(total).toBeGreaterThan(12_000);
  });

  it('keeps the embedded consumer settings consistent', () => {
    expect(embeddedConsumerDefaults.heartbeatInterval * 3).toBeLessThanOrEqual(embeddedConsumerDefaults.sessionTimeout);
    expect(embeddedConsumerDefaults.rebalanceTimeout).toBeGreaterThan(embeddedConsumerDefaults.sessionTimeout);
    expect(embeddedConsumerDefaults.maxWaitTimeInMs).toBeLessThanOrEqual(100);
  });

  it('creates a client from a comma-separated list', () => {
    expect(() => createKafka('127.0.0.1:1,127.0.0.1:2', 'x')).not.toThrow();
    expect(() => createKafka('oops', 'x')).toThrow(/bad Kafka broker address/);
  });
});
