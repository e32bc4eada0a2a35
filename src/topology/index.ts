/** Public entry of the topology core: contracts, builder, windows, serdes, test driver. */
export * from './api.js';
export * from './windows.js';
export * from './serdes.js';
export { Topology, type RawRecord, type RecordDecoder, type TopologyOptions } from './topology.js';
export { StreamsBuilder, KStream, KGroupedStream, TimeWindowedKStream, KTable, windowedKeySerde, type Serdes, type AggregateOptions, type Aggregator, type Windowed } from './builder.js';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TestRecord, type TestDriverOptions } from './test-driver.js';
export { keyValueStoreDefinition, windowStoreDefinition, type StoreDefinition } from '../state/stores.js';
export { jsonCodec, float64Codec, bytesCodec, type ValueCodec } from '../state/codec.js';
