/**
 * kafkajs clients the Vigil way (the public entry of src/kafka, apart from publisher.ts): one factory with
 * a retry budget sized for broker outages and a pino log bridge, consumer settings that suit the embedded
 * Kafka, a consumer that survives the embedded Kafka's SyncGroup crash, and the helpers every component
 * uses to get its topics and to notice a new cluster. The same code runs against the embedded Kafka and a
 * real cluster; only KAFKA_BROKERS changes.
 */
export {
  createKafka,
  embeddedConsumerDefaults,
  kafkaRetry,
  kafkaLogLevel,
  parseBrokers,
  pinoLogCreator,
} from './create-kafka.js';
export { ensureTopics, TopicSetupError, type TopicSpec, type TopicPolicy, type EnsuredTopic } from './ensure-topics.js';
export { topicSpec, streamTopicSpec, topicPolicy, vigilTopics, silencesTopic, type TopicKind } from './vigil-topics.js';
export { clusterIncarnation } from './cluster-incarnation.js';
export { startResilientConsumer, type ResilientConsumer, type ResilientConsumerOptions } from './resilient-consumer.js';
export { findBeacon, isBeaconTopic, type EmbeddedBeacon } from './embedded-beacon.js';
export {
  connectEmbeddedControl,
  EmbeddedControlError,
  type EmbeddedControl,
} from './embedded-control-client.js';
