import { describe, it, expect, afterEach } from 'vitest';
import type { Message, ProducerRecord } from 'kafkajs';
import {
  SampleBatchPublisher,
  sourceKey,
  PublishError,
  PublisherBackpressureError,
  type KafkaLike,
  type SampleBatchPublisherOptions,
} from '../../src/kafka/publisher.js';
import { contractSchema } from '../../src/model/avro-schemas.js';
import { sampleBatchSerde } from '../../src/model/serde.js';
import type { Sample, SampleBatch } from '../../src/model/types.js';

/** A producer whose sends the test completes (or fails) by hand, or at once when `auto`. */
class FakeProducer {
  sends: { record: ProducerRecord; resolve: () => void; reject: (e: Error) => void }[] = [];
  delivered: Message[] = [];
  connects = 0;
  disconnects = 0;
  auto = true;
  failNext = 0;
  failConnects = 0;

  async connect() {
    this.connects++;
    if (this.failConnects > 0) {
      this.failConnects--;
      throw new Error('connection refused');
    }
  }
  async disconnect() {
    this.disconnects++;
  }
  send(record: ProducerRecord): Promise<never[]> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('broker not available'));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        record,
        resolve: () => {
          this.delivered.push(...record.messages);
          resolve([]);
        },
        reject,
      };
      if (this.auto) entry.resolve();
      else this.sends.push(entry);
    });
  }
  /** Completes the oldest pending send. */
  ackOne() {
    this.sends.shift()!.resolve();
  }
}

/** A RegistryClient that hands out id 42 and records the subjects registered. */
const fakeRegistry = () => {
  const r = {
    subjects: [] as string[],
    failNext: 0,
    register: async (subject: string) => {
      if (r.failNext > 0) {
        r.failNext--;
        throw new Error('registry down');
      }
      r.subjects.push(subject);
      return 42;
    },
    schemaById: async () => contractSchema('sample-batch').text,
  };
  return r;
};

const sampleType = contractSchema('sample-batch').type;

function decode(value: Buffer): { id: number; batch: SampleBatch } {
  expect(value[0]).toBe(0);
  return { id: value.readInt32BE(1), batch: sampleType.fromBuffer(value.subarray(5)) as SampleBatch };
}

function samples(n: number, t = 1000): Sample[] {
  return Array.from({ length: n }, (_, i) => ({ name: `m${i}`, labels: { i: String(i) }, timestamp: t, value: i, kind: 'GAUGE' as const }));
}

const open: SampleBatchPublisher[] = [];
function publisher(producer: FakeProducer, over: Partial<SampleBatchPublisherOptions> = {}, registry = fakeRegistry()) {
  const kafka: KafkaLike = { producer: () => producer };
  const serde = sampleBatchSerde({ registry });
  const p = new SampleBatchPublisher({ kafka, serde, topic: 'metrics', lingerMs: 1, ...over });
  open.push(p);
  return p;
}

afterEach(async () => {
  for (const p of open.splice(0)) await p.close().catch(() => undefined);
});

describe('sourceKey', () => {
  it('sorts labels by name and leaves out empty values', () => {
    expect(sourceKey({ pool: 'a', host: 'web1' })).toBe('host=web1,pool=a');
    expect(sourceKey({ pool: 'a', host: 'web1', env: 'prod', x: '' })).toBe('env=prod,host=web1,pool=a');
    expect(sourceKey({})).toBe('');
  });
});

describe('the serde it uses', () => {
  it('registers under <topic>-value once and writes the wire format', async () => {
    const registry = fakeRegistry();
    const p = publisher(new FakeProducer(), {}, registry);
    await p.publish({ host: 'h' }, samples(3));
    await p.publish({ host: 'h' }, samples(3));
    await p.flush();
    expect(registry.subjects).toEqual(['metrics-value']);
  });

  it('tries the registration again after a failure', async () => {
    const registry = fakeRegistry();
    registry.failNext = 1;
    const producer = new FakeProducer();
    const p = publisher(producer, {}, registry);
    await expect(p.publish({ host: 'h' }, samples(1))).rejects.toThrow('registry down');
    await p.publish({ host: 'h' }, samples(1));
    await p.flush();
    expect(decode(producer.delivered[0]!.value as Buffer).id).toBe(42);
  });
});

describe('SampleBatchPublisher', () => {
  it('publishes one record per call keyed by source, split evenly above maxSamplesPerRecord', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer);
    await p.publish({ pool: 'a', host: 'web1', env: 'prod' }, samples(250));
    await p.publish({ pool: 'a', host: 'web2', env: 'prod' }, samples(12));
    await p.publish({ pool: 'a', host: 'web3', env: 'prod' }, []);
    await p.flush();
    const records = producer.delivered.map((m) => ({ key: m.key!.toString(), ...decode(m.value as Buffer) }));
    expect(records.map((r) => [r.key, r.batch.samples.length])).toEqual([
      ['env=prod,host=web1,pool=a', 84],
      ['env=prod,host=web1,pool=a', 83],
      ['env=prod,host=web1,pool=a', 83],
      ['env=prod,host=web2,pool=a', 12],
    ]);
    expect(records.flatMap((r) => (r.key.includes('web1') ? r.batch.samples : []))).toEqual(samples(250));
    expect(records[0]!.batch.source).toEqual({ pool: 'a', host: 'web1', env: 'prod' });
    const st = p.stats;
    expect(st).toMatchObject({ records: 4, samples: 262, failedRecords: 0, retries: 0, bufferedBytes: 0 });
    expect(st.bytes).toBe(producer.delivered.reduce((n, m) => n + (m.value as Buffer).length, 0));
  });

  it('sends with acks from all replicas, batching many records per request', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer, { lingerMs: 20 });
    for (let i = 0; i < 50; i++) await p.publish({ host: `h${i}` }, samples(10));
    await p.flush();
    expect(producer.delivered).toHaveLength(50);
    expect(p.stats.sends).toBeLessThan(5);
  });

  it('makes publish() wait while the buffer is full and loses nothing', async () => {
    const producer = new FakeProducer();
    producer.auto = false;
    const p = publisher(producer, { maxInFlightBytes: 4000, maxConcurrentSends: 1, maxRequestBytes: 1500 });
    const settled: number[] = [];
    const calls = Array.from({ length: 12 }, (_, i) => p.publish({ host: `h${i}` }, samples(20)).then(() => settled.push(i)));
    await new Promise((r) => setTimeout(r, 20));
    expect(p.saturated).toBe(true);
    expect(p.stats.bufferedBytes).toBeLessThanOrEqual(4000);
    const before = settled.length;
    expect(before).toBeLessThan(12);
    expect(p.stats.backpressureWaits).toBeGreaterThan(0);
    while (settled.length < 12 || producer.sends.length > 0) {
      if (producer.sends.length > 0) producer.ackOne();
      await new Promise((r) => setTimeout(r, 2));
      expect(p.stats.bufferedBytes).toBeLessThanOrEqual(4000);
    }
    await Promise.all(calls);
    await p.flush();
    expect(settled).toEqual([...Array(12).keys()]); // in order
    expect(producer.delivered.map((m) => m.key!.toString())).toEqual(Array.from({ length: 12 }, (_, i) => `host=h${i}`));
    expect(p.saturated).toBe(false);
  });

  it('rejects with a backpressure error instead of waiting when asked to', async () => {
    const producer = new FakeProducer();
    producer.auto = false;
    const p = publisher(producer, { maxInFlightBytes: 1000, onFull: 'reject' });
    await p.publish({ host: 'a' }, samples(30));
    const err = await p.publish({ host: 'b' }, samples(30)).catch((e) => e);
    expect(err).toBeInstanceOf(PublisherBackpressureError);
    expect(err).toMatchObject({ code: 'PUBLISHER_BACKPRESSURE', name: 'BackpressureError', retriable: true });
    await new Promise((r) => setTimeout(r, 10));
    producer.ackOne();
    await p.flush();
    producer.auto = true;
    await p.publish({ host: 'b' }, samples(30));
    await p.flush();
    expect(producer.delivered.map((m) => m.key!.toString())).toEqual(['host=a', 'host=b']);
  });

  it('retries failed sends and connects with backoff', async () => {
    const producer = new FakeProducer();
    producer.failConnects = 1;
    producer.failNext = 2;
    const p = publisher(producer, { retryBackoffMs: 5 });
    await p.publish({ host: 'a' }, samples(5));
    await p.flush();
    expect(producer.delivered).toHaveLength(1);
    expect(p.stats).toMatchObject({ records: 1, retries: 3, failedRecords: 0 });
  });

  it('fails loudly when the retry budget runs out and counts what was not written', async () => {
    const producer = new FakeProducer();
    producer.failNext = Infinity;
    const p = publisher(producer, { retryBackoffMs: 5, retryBudgetMs: 50 });
    await p.publish({ host: 'a' }, samples(5));
    await p.publish({ host: 'b' }, samples(5));
    const err = await p.flush().catch((e) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect(err.code).toBe('PUBLISH_FAILED');
    expect(err.message).toMatch(/broker not available/);
    expect(p.stats.failedRecords).toBe(2);
    expect(p.stats.bufferedBytes).toBe(0);
    await expect(p.publish({ host: 'c' }, samples(1))).rejects.toThrow(PublishError);
  });

  it('connect() registers the schema and connects up front, reporting failures', async () => {
    const registry = fakeRegistry();
    registry.failNext = 1;
    const producer = new FakeProducer();
    const p = publisher(producer, {}, registry);
    await expect(p.connect()).rejects.toThrow('registry down');
    expect(producer.connects).toBe(0);
    await p.connect();
    expect(registry.subjects).toEqual(['metrics-value']);
    expect(producer.connects).toBe(1);
    const unreachable = new FakeProducer();
    unreachable.failConnects = 1;
    await expect(publisher(unreachable, {}, fakeRegistry()).connect()).rejects.toThrow('connection refused');
  });

  it('flushes on close, disconnects, and refuses work afterwards', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer, { lingerMs: 1000 });
    await p.publish({ host: 'a' }, samples(5));
    expect(producer.delivered).toHaveLength(0);
    await p.close();
    expect(producer.delivered).toHaveLength(1);
    expect(producer.disconnects).toBe(1);
    await expect(p.publish({ host: 'a' }, samples(1))).rejects.toMatchObject({ code: 'PUBLISHER_CLOSED' });
  });
});
