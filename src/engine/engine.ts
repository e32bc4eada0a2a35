/**
 * The engine composition behind `vigil run`: Kafka client, cluster incarnation, topics, one
 * TopologyRuntime per module topology, the HTTP server (/metrics, /healthz, module routes), and a
 * clean stop (final commits) on SIGTERM.
 */
import type { Kafka } from 'kafkajs';
import type { VigilConfig } from '../config/config.js';
import { createKafka, embeddedConsumerDefaults, ensureTopics, clusterIncarnation, streamTopicSpec, topicPolicy, topicSpec, type TopicSpec } from '../kafka/client.js';
import { createHttpServer, httpServerOptions, type HttpServer } from '../http/http-server.js';
import { componentLogger } from '../obs/logger.js';
import { TopologyRuntime } from '../topology/runtime.js';
import type { Topology } from '../topology/topology.js';
import { levelStorageFactory } from '../state/level-task-storage.js';
import type { TaskStorageFactory } from '../state/task-storage.js';
import type { EngineContext, EngineModule } from './engine-module.js';

export interface EngineOptions {
  /** Config with kafka.brokers and schemaRegistry.url set (e.g. from startStack). */
  config: VigilConfig;
  modules: EngineModule[];
  rulesPaths?: string[];
  /** Short consumer sessions for the embedded Kafka (default: true when the stack was started here). */
  embedded?: boolean;
  /** HTTP port (default config.http.port; 0 = any; null = no HTTP server). */
  httpPort?: number | null;
  /** Override the storage (tests). */
  storage?: TaskStorageFactory;
  commitIntervalMs?: number;
  /** Extra kafkajs consumer settings (override the embedded defaults). */
  consumer?: Record<string, unknown>;
}

export class Engine {
  private readonly log = componentLogger('engine');
  private readonly runtimes = new Map<string, TopologyRuntime>();
  private kafka: Kafka | null = null;
  private http: HttpServer | null = null;
  private stopped: Promise<void> | null = null;
  private startedModules: EngineModule[] = [];

  constructor(private readonly options: EngineOptions) {}

  /** The HTTP base URL (once started with a server). */
  url(): string | undefined {
    return this.http?.url();
  }

  runtime(applicationId: string): TopologyRuntime | undefined {
    return this.runtimes.get(applicationId);
  }

  async start(): Promise<void> {
    const { config } = this.options;
    const brokers = config.kafka.brokers;
    const registryUrl = config.schemaRegistry.url;
    if (!brokers || !registryUrl) throw new Error('Engine needs kafka.brokers and schemaRegistry.url (start the stack first)');
    this.kafka = createKafka(brokers, `${config.kafka.clientId}-engine`);
    const incarnation = await clusterIncarnation(this.kafka);
    const ctx: EngineContext = {
      config,
      brokers,
      registryUrl,
      kafka: this.kafka,
      rulesPaths: this.options.rulesPaths ?? config.rules.paths,
      storage: this.options.storage ?? levelStorageFactory(config.state.dir),
      consumerDefaults: { ...(this.options.embedded ? embeddedConsumerDefaults : {}), ...(this.options.consumer ?? {}) },
      logger: this.log,
      runtimes: this.runtimes,
      moduleStatus: () => Object.fromEntries(this.options.modules.flatMap((m) => (m.status ? [[m.name, m.status()]] : []))),
    };
    const topologies: Topology[] = [];
    for (const m of this.options.modules) topologies.push(...((await m.topologies?.(ctx)) ?? []));
    await this.ensureTopics(brokers, topologies);
    if (this.options.httpPort !== null) {
      this.http = createHttpServer(httpServerOptions(config, this.options.httpPort ?? config.http.port));
      for (const m of this.options.modules) await m.routes?.(this.http.app, ctx);
      this.http.addHealthCheck('engine', () => ({ ok: this.stopped === null, detail: `${this.runtimes.size} topologies` }));
      await this.http.listen();
    }
    for (const topology of topologies) {
      const runtime = new TopologyRuntime({
        kafka: this.kafka,
        topology,
        storage: ctx.storage,
        incarnation,
        consumer: ctx.consumerDefaults,
        maxMessageBytes: config.kafka.maxMessageBytes,
        compressChangelog: config.kafka.changelogCompression !== 'none',
        ...(this.options.commitIntervalMs ? { commitIntervalMs: this.options.commitIntervalMs } : {}),
      });
      this.runtimes.set(topology.applicationId, runtime);
      await runtime.start();
    }
    for (const m of this.options.modules) {
      await m.start?.(ctx);
      this.startedModules.push(m);
    }
    this.log.info({ modules: this.options.modules.map((m) => m.name), topologies: [...this.runtimes.keys()], http: this.http?.url() }, 'engine started');
  }

  private async ensureTopics(brokers: string, topologies: Topology[]): Promise<void> {
    const { config } = this.options;
    const specs = new Map<string, TopicSpec>();
    for (const t of topologies) {
      for (const name of [...t.sourceTopics(), ...t.sinkTopics(), t.lateTopic, t.dlqTopic, ...t.internalTopics]) specs.set(name, streamTopicSpec(config, name));
      specs.set(t.changelogTopic, topicSpec(config, t.changelogTopic, 'compacted'));
    }
    const ensured = await ensureTopics(brokers, [...specs.values()], topicPolicy(config));
    const inputs = new Map(ensured.map((e) => [e.name, e.partitions]));
    for (const t of topologies) {
      const changelog = inputs.get(t.changelogTopic) ?? 0;
      for (const s of t.sourceTopics()) {
        if ((inputs.get(s) ?? 0) > changelog) this.log.warn({ topic: s, changelog: t.changelogTopic }, 'changelog has fewer partitions than the input: restores of the extra tasks will fail');
      }
    }
  }

  /** One line for status output. */
  status(): string {
    const parts = [...this.runtimes.values()].map((r) => `${r.applicationId}: ${r.processed} records, partitions [${r.assignedPartitions().join(',')}]`);
    for (const m of this.options.modules) if (m.status) parts.push(`${m.name}: ${m.status()}`);
    return parts.join('; ');
  }

  /** Clean stop: modules, then every runtime with a final commit, then HTTP. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const m of this.startedModules.reverse()) await m.stop?.().catch((err: Error) => this.log.error({ err, module: m.name }, 'module stop failed'));
      await Promise.all([...this.runtimes.values()].map((r) => r.stop()));
      await this.http?.close();
      this.log.info('engine stopped');
    })();
    return this.stopped;
  }
}
