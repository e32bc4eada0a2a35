/**
 * The high-level builder, shaped like Kafka Streams' StreamsBuilder/KStream/KTable:
 *
 *   const b = new StreamsBuilder({ applicationId: 'app' });
 *   b.stream('in', { key: stringSerde, value: jsonSerde<Reading>() })
 *     .filter((r) => r.value.ok)
 *     .groupBy((r) => r.value.host, { key: stringSerde, value: jsonSerde<Reading>() })  // repartitions
 *     .windowedBy(tumbling(60_000, 10_000))
 *     .aggregate({ init: () => 0, add: (a, _k, v) => a + v.x }, { name: 'sum-store' })
 *     .suppress()
 *     .toStream()
 *     .to('out', { key: windowedKeySerde, value: jsonSerde<number>() });
 *   const topology = b.build();
 *
 * The per-record operators are for rules and small flows; batch processors (process()) carry the
 * hot path (see src/topology/rollup).
 */
import type { ProcessorSupplier, Serde, StreamRecord } from './api.js';
import { TopologyError } from './api.js';
import {
  AggregateProcessor,
  StatelessProcessor,
  SuppressProcessor,
  WindowedAggregateProcessor,
  type Aggregator,
  type Windowed,
} from './internals/dsl-processors.js';
import { Topology, type RecordDecoder, type TopologyOptions } from './topology.js';
import type { WindowSpec } from './windows.js';
import { jsonCodec, type ValueCodec } from '../state/codec.js';
import { keyValueStoreDefinition, windowStoreDefinition, type StoreDefinition } from '../state/stores.js';

export type { Aggregator, Windowed };

export interface Serdes<K, V> {
  key: Serde<K>;
  value: Serde<V>;
}

/** Serde of windowed keys as `key@start` strings (what `to()` writes for windowed streams by default). */
export const windowedKeySerde: Serde<Windowed<string>> = {
  serialize: (w) => Buffer.from(`${w.key}@${w.start}`),
  deserialize: (b) => {
    const s = b!.toString();
    const i = s.lastIndexOf('@');
    const start = Number(s.slice(i + 1));
    return { key: s.slice(0, i), start, end: start };
  },
};

export class StreamsBuilder {
  readonly topology: Topology;

  constructor(options: TopologyOptions) {
    this.topology = new Topology(options);
  }

  /** A stream of `topics` deserialized with `serdes` (undecodable records go to the DLQ topic). */
  stream<K, V>(topics: string | string[], serdes: Serdes<K, V>): KStream<K, V> {
    const list = Array.isArray(topics) ? topics : [topics];
    const name = this.topology.newName('source');
    const dlq = this.topology.dlqTopic;
    const decode: RecordDecoder<K, V> = (raw, ctx) => {
      try {
        return { key: serdes.key.deserialize(raw.key), value: serdes.value.deserialize(raw.value), timestamp: raw.timestamp, ...(raw.headers ? { headers: raw.headers } : {}) };
      } catch (err) {
        ctx.sendToSideTopic(dlq, 'undecodable', raw.key, raw.value, { 'vigil.error': (err as Error).message.slice(0, 500) });
        return null;
      }
    };
    this.topology.addSource(name, list, decode);
    return new KStream<K, V>(this, name);
  }

  /** A stream from a custom decoder (e.g. the SampleBatch decoder producing columnar batches). */
  streamWith<K, V>(topics: string | string[], decode: RecordDecoder<K, V>): KStream<K, V> {
    const name = this.topology.newName('source');
    this.topology.addSource(name, Array.isArray(topics) ? topics : [topics], decode);
    return new KStream<K, V>(this, name);
  }

  /** Registers a store for `process()` processors. */
  addStateStore(definition: StoreDefinition): this {
    this.topology.addStore(definition);
    return this;
  }

  build(): Topology {
    return this.topology;
  }
}

export class KStream<K, V> {
  constructor(
    protected readonly builder: StreamsBuilder,
    readonly nodeName: string,
  ) {}

  private stateless<K2, V2>(prefix: string, fn: (r: StreamRecord<K, V>) => StreamRecord<K2, V2>[] | StreamRecord<K2, V2> | null): KStream<K2, V2> {
    const name = this.builder.topology.newName(prefix);
    this.builder.topology.addProcessor(name, () => new StatelessProcessor(fn as never), [this.nodeName]);
    return new KStream<K2, V2>(this.builder, name);
  }

  filter(predicate: (record: StreamRecord<K, V>) => boolean): KStream<K, V> {
    return this.stateless('filter', (r) => (predicate(r) ? r : null));
  }

  filterNot(predicate: (record: StreamRecord<K, V>) => boolean): KStream<K, V> {
    return this.filter((r) => !predicate(r));
  }

  map<K2, V2>(fn: (record: StreamRecord<K, V>) => { key: K2; value: V2 }): KStream<K2, V2> {
    return this.stateless('map', (r) => ({ ...r, ...fn(r) }));
  }

  mapValues<V2>(fn: (value: V, record: StreamRecord<K, V>) => V2): KStream<K, V2> {
    return this.stateless('mapValues', (r) => ({ ...r, value: fn(r.value, r) }));
  }

  flatMap<K2, V2>(fn: (record: StreamRecord<K, V>) => Iterable<{ key: K2; value: V2; timestamp?: number }>): KStream<K2, V2> {
    return this.stateless('flatMap', (r) => [...fn(r)].map((o) => ({ key: o.key, value: o.value, timestamp: o.timestamp ?? r.timestamp, ...(r.headers ? { headers: r.headers } : {}) })));
  }

  selectKey<K2>(fn: (record: StreamRecord<K, V>) => K2): KStream<K2, V> {
    return this.stateless('selectKey', (r) => ({ ...r, key: fn(r) }));
  }

  peek(fn: (record: StreamRecord<K, V>) => void): KStream<K, V> {
    return this.stateless('peek', (r) => {
      fn(r);
      return r;
    });
  }

  /** Attaches a custom processor (Processor API) connected to `stores` (registered with addStateStore). */
  process<K2, V2>(supplier: ProcessorSupplier<K, V, K2, V2>, ...stores: string[]): KStream<K2, V2> {
    const name = this.builder.topology.newName('process');
    this.builder.topology.addProcessor(name, supplier, [this.nodeName], stores);
    return new KStream<K2, V2>(this.builder, name);
  }

  /** Writes to `topic`; `idOf` gives each output its deterministic id (header `vigil.id`). */
  to(topic: string, serdes: Serdes<K, V> & { idOf?: (record: StreamRecord<K, V>) => string }): void {
    this.builder.topology.addSink(this.builder.topology.newName('sink'), topic, serdes, [this.nodeName]);
  }

  /** Groups by the current key (which must be a string): no repartition. */
  groupByKey(this: KStream<string, V>): KGroupedStream<V> {
    return new KGroupedStream<V>(this.builder, this.nodeName);
  }

  /**
   * Groups by a new key: the records go through the repartition topic `<applicationId>-<name>-repartition`
   * so that every record of one key lands in the same task (co-partitioned with the input).
   */
  groupBy(fn: (record: StreamRecord<K, V>) => string, serdes: { value: Serde<V> }, name?: string): KGroupedStream<V> {
    const topo = this.builder.topology;
    const repName = name ?? topo.newName('groupBy');
    const topic = `${topo.applicationId}-${repName}-repartition`;
    const keySerde: Serde<string> = { serialize: (k) => Buffer.from(k), deserialize: (b) => (b === null ? '' : b.toString()) };
    const rekeyed = this.selectKey(fn);
    rekeyed.to(topic, { key: keySerde, value: serdes.value });
    topo.internalTopics.add(topic);
    const again = this.builder.stream<string, V>(topic, { key: keySerde, value: serdes.value });
    return new KGroupedStream<V>(this.builder, again.nodeName);
  }
}

export interface AggregateOptions<A> {
  /** Store name (also in the changelog keys); default generated. */
  name?: string;
  codec?: ValueCodec<A>;
  /** How long closed windows stay in the store for queries, beyond size + grace. Default 0. */
  retentionMs?: number;
}

export class KGroupedStream<V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly nodeName: string,
  ) {}

  windowedBy(spec: WindowSpec): TimeWindowedKStream<V> {
    return new TimeWindowedKStream<V>(this.builder, this.nodeName, spec);
  }

  aggregate<A>(aggregator: Aggregator<V, A>, options: AggregateOptions<A> = {}): KTable<string, A> {
    const topo = this.builder.topology;
    const store = options.name ?? topo.newName('aggregate-store');
    topo.addStore(keyValueStoreDefinition<A>(store, { codec: options.codec ?? jsonCodec<A>() }));
    const name = topo.newName('aggregate');
    topo.addProcessor(name, () => new AggregateProcessor(store, aggregator), [this.nodeName], [store]);
    return new KTable<string, A>(this.builder, name, null, store);
  }

  count(options: AggregateOptions<number> = {}): KTable<string, number> {
    return this.aggregate({ init: () => 0, add: (a) => a + 1, merge: (a, b) => a + b }, options);
  }
}

export class TimeWindowedKStream<V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly nodeName: string,
    private readonly spec: WindowSpec,
  ) {}

  aggregate<A>(aggregator: Aggregator<V, A>, options: AggregateOptions<A> = {}): KTable<Windowed<string>, A> {
    const topo = this.builder.topology;
    const store = options.name ?? topo.newName('window-store');
    topo.addStore(windowStoreDefinition<A>(store, { codec: options.codec ?? jsonCodec<A>() }));
    const name = topo.newName('window-aggregate');
    const spec = this.spec;
    topo.addProcessor(name, () => new WindowedAggregateProcessor(store, spec, aggregator, (options.retentionMs ?? 0) + spec.graceMs), [this.nodeName], [store]);
    return new KTable<Windowed<string>, A>(this.builder, name, spec, store);
  }

  count(options: AggregateOptions<number> = {}): KTable<Windowed<string>, number> {
    return this.aggregate({ init: () => 0, add: (a) => a + 1, merge: (a, b) => a + b }, options);
  }
}

export class KTable<K, A> {
  constructor(
    private readonly builder: StreamsBuilder,
    readonly nodeName: string,
    private readonly spec: WindowSpec | null,
    /** The store holding this table (query it in the test driver). */
    readonly storeName: string,
  ) {}

  /** Emits each window's final result once, when stream time passes window end + grace. */
  suppress(this: KTable<Windowed<string>, A>, options: { name?: string } = {}): KTable<Windowed<string>, A> {
    if (!this.spec) throw new TopologyError('suppress(untilWindowCloses) needs a windowed table', 'INVALID_TOPOLOGY');
    const topo = this.builder.topology;
    const store = options.name ?? topo.newName('suppress-store');
    topo.addStore(keyValueStoreDefinition(store, { cacheEntries: 0 }));
    const name = topo.newName('suppress');
    const grace = this.spec.graceMs;
    topo.addProcessor(name, () => new SuppressProcessor<A>(store, grace), [this.nodeName], [store]);
    return new KTable<Windowed<string>, A>(this.builder, name, this.spec, store);
  }

  toStream(): KStream<K, A> {
    return new KStream<K, A>(this.builder, this.nodeName);
  }
}
