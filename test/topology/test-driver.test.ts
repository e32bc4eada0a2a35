import { afterEach, describe, expect, it } from 'vitest';
import {
  StreamsBuilder,
  TopologyTestDriver,
  jsonSerde,
  keyValueStoreDefinition,
  stringSerde,
  tumbling,
  windowedKeySerde,
  type KeyValueStore,
  type Processor,
  type ProcessorContext,
  type StreamRecord,
} from '../../src/topology/index.js';

interface Reading {
  host: string;
  x: number;
}

let driver: TopologyTestDriver | null = null;
afterEach(() => {
  driver?.close();
  driver = null;
});

function windowedSum(grace = 10_000) {
  const b = new StreamsBuilder({ applicationId: 'app' });
  b.stream('in', { key: stringSerde, value: jsonSerde<Reading>() })
    .filter((r) => r.value.x >= 0)
    .groupBy((r) => r.value.host, { value: jsonSerde<Reading>() }, 'by-host')
    .windowedBy(tumbling(60_000, grace))
    .aggregate({ init: () => 0, add: (a: number, _k, v) => a + v.x }, { name: 'sums' })
    .suppress()
    .toStream()
    .to('out', { key: windowedKeySerde, value: jsonSerde<number>(), idOf: (r) => `${r.key.key}@${r.key.start}` });
  return b.build();
}

describe('TopologyTestDriver', () => {
  it('runs stateless operators synchronously', () => {
    const b = new StreamsBuilder({ applicationId: 'app' });
    b.stream('in', { key: stringSerde, value: jsonSerde<Reading>() })
      .filter((r) => r.value.x > 1)
      .mapValues((v) => v.x * 10)
      .flatMap((r) => [{ key: r.key, value: r.value }, { key: `${r.key}!`, value: r.value + 1 }])
      .to('out', { key: stringSerde, value: jsonSerde<number>() });
    driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
    const out = driver.createOutputTopic('out', stringSerde, jsonSerde<number>());
    input.pipeInput('a', { host: 'h', x: 1 }, 1000);
    input.pipeInput('b', { host: 'h', x: 2 }, 2000);
    expect(out.readKeyValuesToList()).toEqual([
      { key: 'b', value: 20 },
      { key: 'b!', value: 21 },
    ]);
    expect(out.isEmpty()).toBe(true);
  });

  it('windowed aggregate through a repartition, suppressed until the window closes (end + grace)', () => {
    driver = new TopologyTestDriver(windowedSum());
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
    const out = driver.createOutputTopic('out', windowedKeySerde, jsonSerde<number>());
    input.pipeInput('k1', { host: 'a', x: 1 }, 1_000);
    input.pipeInput('k2', { host: 'a', x: 2 }, 59_999);
    input.pipeInput('k3', { host: 'b', x: 5 }, 30_000);
    input.pipeInput('k4', { host: 'a', x: 4 }, 60_000); // next window
    expect(out.isEmpty()).toBe(true);
    input.pipeInput('k5', { host: 'a', x: 8 }, 69_999); // stream time 69_999 < 70_000: still open
    expect(out.isEmpty()).toBe(true);
    expect(driver.getWindowStore<number>('sums').fetch('a', 0)).toBe(3);
    input.pipeInput('k6', { host: 'b', x: 1 }, 70_000); // closes [0, 60000)
    const rs = out.readRecordsToList();
    expect(rs.map((r) => [r.key.key, r.key.start, r.value])).toEqual([
      ['a', 0, 3],
      ['b', 0, 5],
    ]);
    expect(rs[0]!.headers['vigil.id']).toBe('a@0');
    expect(driver.history.has('app-by-host-repartition')).toBe(true);
  });

  it('sends records for closed windows to metrics.late with the DLQ header scheme', () => {
    driver = new TopologyTestDriver(windowedSum(0));
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
    input.pipeInput('k1', { host: 'a', x: 1 }, 120_000);
    input.pipeInput('late', { host: 'a', x: 100 }, 10_000);
    const late = driver.createOutputTopic('metrics.late', stringSerde, jsonSerde<Reading>()).readRecordsToList();
    expect(late).toHaveLength(1);
    expect(late[0]!.key).toBe('a'); // the repartitioned record's key
    expect(late[0]!.headers['vigil.reason']).toBe('late');
    expect(late[0]!.headers['vigil.topic']).toBe('app-by-host-repartition');
    expect(late[0]!.headers['vigil.offset']).toBe('1');
    expect(late[0]!.headers['vigil.topology']).toBe('app');
    expect(late[0]!.headers['vigil.id']).toBe('app-by-host-repartition/0/1/late/app');
    expect(driver.getWindowStore<number>('sums').fetch('a', 0)).toBeUndefined();
  });

  it('sends undecodable records to metrics.dlq', () => {
    driver = new TopologyTestDriver(windowedSum());
    driver.pipeRaw('in', Buffer.from('k'), Buffer.from('{not json'), 5);
    const dlq = driver.createOutputTopic('metrics.dlq', stringSerde, stringSerde).readRecordsToList();
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.value).toBe('{not json');
    expect(dlq[0]!.headers['vigil.reason']).toBe('undecodable');
    expect(dlq[0]!.headers['vigil.partition']).toBe('0');
  });

  it('restores committed state and stream time after a restart', () => {
    driver = new TopologyTestDriver(windowedSum());
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
    input.pipeInput('k1', { host: 'a', x: 1 }, 1_000);
    input.pipeInput('k2', { host: 'a', x: 2 }, 2_000);
    driver.restart();
    expect(driver.getWindowStore<number>('sums').fetch('a', 0)).toBe(3);
    expect(driver.streamTime()).toBe(2_000);
    input.pipeInput('k3', { host: 'a', x: 4 }, 80_000);
    const out = driver.createOutputTopic('out', windowedKeySerde, jsonSerde<number>());
    expect(out.readValuesToList()).toEqual([3]);
  });

  it('runs stream-time and wall-clock punctuators', () => {
    const fired: string[] = [];
    class Ticker implements Processor<string | null, Reading, string, number> {
      private ctx!: ProcessorContext<string, number>;
      private store!: KeyValueStore<number>;
      init(ctx: ProcessorContext<string, number>): void {
        this.ctx = ctx;
        this.store = ctx.getStateStore('seen');
        ctx.schedule(10_000, 'stream-time', (t) => fired.push(`stream@${t}`));
        ctx.schedule(5_000, 'wall-clock', (t) => {
          fired.push(`wall@${t}`);
          this.ctx.forward({ key: 'count', value: this.store.get('n') ?? 0, timestamp: t });
        });
      }
      process(r: StreamRecord<string | null, Reading>): void {
        this.store.put('n', (this.store.get('n') ?? 0) + 1);
      }
    }
    const b = new StreamsBuilder({ applicationId: 'app' });
    b.addStateStore(keyValueStoreDefinition<number>('seen'));
    b.stream('in', { key: stringSerde, value: jsonSerde<Reading>() })
      .process(() => new Ticker(), 'seen')
      .to('out', { key: stringSerde, value: jsonSerde<number>() });
    driver = new TopologyTestDriver(b.build(), { wallClockStart: 0 });
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
    input.pipeInput(null, { host: 'a', x: 1 }, 1_000);
    input.pipeInput(null, { host: 'a', x: 1 }, 5_000);
    input.pipeInput(null, { host: 'a', x: 1 }, 11_000);
    driver.advanceWallClockTime(4_999);
    driver.advanceWallClockTime(1);
    expect(fired).toEqual(['stream@1000', 'stream@11000', 'wall@5000']);
    expect(driver.createOutputTopic('out', stringSerde, jsonSerde<number>()).readValuesToList()).toEqual([3]);
    expect(driver.getKeyValueStore<number>('seen').get('n')).toBe(3);
  });

  it('gives processors the stream time before the current record (priorStreamTime) and with it (streamTime)', () => {
    const seen: Array<[number, number, number]> = [];
    const b = new StreamsBuilder({ applicationId: 'app' });
    b.stream('in', { key: stringSerde, value: jsonSerde<Reading>() }).process(() => ({
      ctx: null as unknown as ProcessorContext,
      init(ctx: ProcessorContext) {
        this.ctx = ctx;
      },
      process(r: StreamRecord<string | null, Reading>) {
        seen.push([r.timestamp, this.ctx.priorStreamTime, this.ctx.streamTime]);
      },
    }));
    driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', stringSerde, jsonSerde<Reading>());
    for (const t of [5_000, 2_000, 9_000]) input.pipeInput(null, { host: 'a', x: 1 }, t);
    expect(seen).toEqual([
      [5_000, -Infinity, 5_000],
      [2_000, 5_000, 5_000],
      [9_000, 5_000, 9_000],
    ]);
  });

  it('rejects unknown topics and unconnected stores', () => {
    driver = new TopologyTestDriver(windowedSum());
    expect(() => driver!.createInputTopic('nope', stringSerde, stringSerde)).toThrow(/does not read topic "nope"/);
    expect(() => driver!.getKeyValueStore('nope')).toThrow(/No store named "nope"/);
  });
});
