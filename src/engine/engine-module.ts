/**
 * How areas plug into the engine (`vigil run`): a module contributes topologies (run by the engine's
 * TopologyRuntime, one consumer group each), optional HTTP routes, and start/stop hooks. The lead adds
 * a module with one line in src/cli/commands/run.ts (`modules: [rollupModule(), rulesModule(), ...]`).
 */
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { VigilConfig } from '../config/config.js';
import type { Logger } from '../obs/logger.js';
import type { Topology } from '../topology/topology.js';
import type { TopologyRuntime } from '../topology/runtime.js';
import type { TaskStorageFactory } from '../state/task-storage.js';

/** What the engine hands to every module. */
export interface EngineContext {
  /** The configuration with kafka.brokers and schemaRegistry.url filled in. */
  readonly config: VigilConfig;
  readonly brokers: string;
  readonly registryUrl: string;
  /** A kafkajs client with Vigil's settings (createKafka). */
  readonly kafka: Kafka;
  /** `--rules` paths (or config.rules.paths). */
  readonly rulesPaths: string[];
  /** Per-task LevelDB storages under VIGIL_STATE_DIR. */
  readonly storage: TaskStorageFactory;
  /** Consumer settings for this cluster (embedded: short sessions). */
  readonly consumerDefaults: Record<string, unknown>;
  readonly logger: Logger;
  /** Runtimes of all modules' topologies, by applicationId (available after start). */
  readonly runtimes: ReadonlyMap<string, TopologyRuntime>;
  /** Every module's one-line status by module name (for status pages; call it after start). */
  readonly moduleStatus?: () => Record<string, string>;
}

export interface EngineModule {
  /** Short name for logs and the status line. */
  readonly name: string;
  /** Topologies this module contributes; each runs in its own TopologyRuntime. */
  topologies?(ctx: EngineContext): Topology[] | Promise<Topology[]>;
  /** Adds HTTP routes (before the server listens). */
  routes?(app: FastifyInstance, ctx: EngineContext): void | Promise<void>;
  /** Starts what is not a topology (after the runtimes started). */
  start?(ctx: EngineContext): Promise<void>;
  /** Stops it (before the runtimes' final commits). */
  stop?(): Promise<void>;
  /** One-line live status. */
  status?(): string;
}
