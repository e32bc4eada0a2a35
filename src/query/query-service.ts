/**
 * Everything that answers queries, assembled in one thread: the head (fed from `metrics` by its
 * own consumer group), the archive (DuckDB), and the executor of the data endpoints over both.
 * `vigil run` starts it on the query worker thread (query-worker.ts), so evaluation, the head's
 * decoding and DuckDB never run on the stream-processing thread.
 */
import { parseDurationMs } from '../dsl/duration.js';
import type { VigilConfig } from '../config/config.js';
import { createKafka } from '../kafka/client.js';
import { componentLogger } from '../obs/logger.js';
import type { ResilientConsumer } from '../kafka/client.js';
import { ArchiveQuery } from '../sinks/archive/archive-query.js';
import { openObjectStore } from '../sinks/archive/storage/open-store.js';
import { ArchiveSource } from './archive-source.js';
import { CombinedSource } from './combined-source.js';
import { Head, type HeadStats } from './head.js';
import { startHeadFeeder } from './head-feeder.js';
import { inProcessExecutor, type QueryExecutor } from './query-routes.js';

/** What the service needs (plain data: it crosses to the worker thread). */
export interface QueryServiceConfig {
  brokers: string;
  registryUrl: string;
  clientId: string;
  topic: string;
  consumer: Record<string, unknown>;
  archive: Pick<VigilConfig['archive'], 'root' | 's3Endpoint'>;
  query: VigilConfig['query'];
}

export interface QueryService {
  executor: QueryExecutor;
  stats(): HeadStats;
  stop(): Promise<void>;
}

const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function startQueryService(config: QueryServiceConfig): Promise<QueryService> {
  const head = new Head({ retentionMs: parseDurationMs(config.query.headRetention), maxSeries: config.query.headMaxSeries });
  const archive = await ArchiveQuery.open(openObjectStore(config.archive));
  let feeder: ResilientConsumer | null = null;
  try {
    feeder = await startHeadFeeder({
      kafka: createKafka(config.brokers, `${config.clientId}-query-head`),
      topic: config.topic,
      registryUrl: config.registryUrl,
      head,
      consumer: config.consumer,
      logger: componentLogger('query-head'),
    });
  } catch (err) {
    archive.close();
    throw err;
  }
  const executor = inProcessExecutor({
    source: new CombinedSource(new ArchiveSource(archive), head),
    limits: { maxSeries: config.query.maxSeries, maxSamples: config.query.maxSamples },
    timeoutMs: parseDurationMs(config.query.timeout),
    metadata: () => head.metricTypes(),
    warnings: () => head.warnings(),
    yieldNow,
  });
  return {
    executor,
    stats: () => head.stats(),
    async stop() {
      await feeder?.stop();
      archive.close();
    },
  };
}
