import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { EmbeddedKafkaError, startEmbeddedKafka, type EmbeddedKafka } from '../../src/dev/embedded-kafka.js';

describe('startEmbeddedKafka', () => {
  let kafka: EmbeddedKafka;
  beforeAll(async () => {
    kafka = await startEmbeddedKafka({ brokers: 2 });
  });
  afterAll(() => kafka?.stop());

  it('exposes one 127.0.0.1 listener per broker', () => {
    expect(kafka.bootstrapServers).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    expect(kafka.brokerIds).toEqual([1, 2]);
  });

  it('creates topics with the asked partition count, idempotently', async () => {
    expect(kafka.createTopic('events', 6)).toBe(true);
    expect(kafka.createTopic('events', 6)).toBe(false);
    const admin = new Kafka({ brokers: kafka.bootstrapServers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: ['events'] });
      expect(topics[0]!.partitions).toHaveLength(6);
    } finally {
      await admin.disconnect();
    }
  });

  it('rejects bad arguments with EmbeddedKafkaError', () => {
    expect(() => kafka.createTopic('bad name', 1)).toThrow(EmbeddedKafkaError);
    expect(() => kafka.createTopic('ok', 0)).toThrow(/partitions must be an integer/);
    expect(() => kafka.brokerDown(3)).toThrow(/no broker 3: brokers are 1, 2/);
    expect(() => kafka.setBrokerRtt(1, -5)).toThrow(/rtt must be/);
    expect(() => kafka.pushRequestErrors(-1, [1])).toThrow(/apiKey/);
    expect(() => kafka.pushRequestErrors(0, [1.5])).toThrow(/integer Kafka error codes/);
  });

  it('rejects a bad broker count', async () => {
    await expect(startEmbeddedKafka({ brokers: 0 })).rejects.toThrow(/brokers must be an integer from 1 to 16/);
  });
});

describe('EmbeddedKafka.stop', () => {
  it('is idempotent, frees the ports and refuses further calls', async () => {
    const kafka = await startEmbeddedKafka();
    const port = Number(kafka.bootstrapServers.split(':')[1]);
    await Promise.all([kafka.stop(), kafka.stop()]);
    expect(() => kafka.createTopic('x', 1)).toThrow(/is stopped/);
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('librdkafka loading', () => {
  it('explains how to fix a missing library', async () => {
    const { librdkafka, LibrdkafkaUnavailableError } = await import('../../src/dev/librdkafka.js');
    expect(() => librdkafka('librdkafka-absent.so.9')).toThrow(LibrdkafkaUnavailableError);
    expect(() => librdkafka('librdkafka-absent.so.9')).toThrow(/apt-get install librdkafka1.*or set KAFKA_BROKERS/);
  });

  it('rejects a library without the mock API', async () => {
    const { librdkafka } = await import('../../src/dev/librdkafka.js');
    expect(() => librdkafka('libc.so.6')).toThrow(/lacks the mock cluster API/);
  });

  it('binds the Debian librdkafka 2.x', async () => {
    const { librdkafka } = await import('../../src/dev/librdkafka.js');
    expect(librdkafka().version).toMatch(/^2\./);
  });
});
