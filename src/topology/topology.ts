/**
 * A topology is a description: sources, processors, sinks and the stores they use, as a graph of
 * named nodes. Running it is the job of the runtime (src/topology/runtime.ts) or of the test driver.
 * Build one with `StreamsBuilder` (builder.ts) or node by node with the methods below (Processor API).
 */
import type { Headers, ProcessorContext, ProcessorSupplier, Serde, StreamRecord } from './api.js';
import { TopologyError } from './api.js';
import type { StoreDefinition } from '../state/stores.js';

/** An input record as the runtime reads it from Kafka. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka record timestamp (ms). */
  timestamp: number;
  headers?: Headers;
}

/**
 * Turns a raw record into the first StreamRecord of the graph, or null when it was unusable (the decoder
 * must then have sent it to a side topic via `ctx.sendToSideTopic`, never drop it silently).
 * `timestamp` of the result is the record's event time (it advances stream time).
 */
export type RecordDecoder<K, V> = (raw: RawRecord, ctx: ProcessorContext) => StreamRecord<K, V> | null;

/**
 * Optional async step before a batch of raw records is processed (e.g. fetch unknown writer schemas),
 * so that `decode` itself can stay synchronous. Runs per task; may return nothing when all is cached.
 */
export type SourcePrepare = (records: RawRecord[], ctx: ProcessorContext) => void | Promise<void>;

export interface SourceNode {
  kind: 'source';
  name: string;
  topics: string[];
  decode: RecordDecoder<unknown, unknown>;
  /** Stores the decoder may use (e.g. a per-task series table). */
  stores: string[];
  prepare?: SourcePrepare;
  children: string[];
}

export interface ProcessorNode {
  kind: 'processor';
  name: string;
  supplier: ProcessorSupplier;
  stores: string[];
  children: string[];
}

/** Computes the deterministic id of an output record (header `vigil.id`). */
export type OutputIdFn = (record: StreamRecord) => string;

export interface SinkNode {
  kind: 'sink';
  name: string;
  topic: string;
  keySerde: Serde<unknown>;
  valueSerde: Serde<unknown>;
  idOf?: OutputIdFn;
  /** Write to the input partition's number (keeps an output co-partitioned); default: key hash. */
  toInputPartition?: boolean;
  /**
   * Records carry the time they are written, not the event time (a topic's time-based retention then
   * counts from the write: records of a backfill stamped years ago would be deleted at once).
   */
  writeTime?: boolean;
  children: string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

export interface TopologyOptions {
  /** Consumer group id and prefix of internal topics (changelog, repartition). */
  applicationId: string;
  /** Topic for records that arrive after their window closed (default `metrics.late`). */
  lateTopic?: string;
  /** Topic for undecodable records (default `metrics.dlq`). */
  dlqTopic?: string;
}

export class Topology {
  readonly nodes = new Map<string, TopologyNode>();
  readonly stores = new Map<string, StoreDefinition>();
  /** Internal topics the runtime must create (repartition topics), with the input's partition count. */
  readonly internalTopics = new Set<string>();
  readonly lateTopic: string;
  readonly dlqTopic: string;
  private counter = 0;

  constructor(readonly options: TopologyOptions) {
    this.lateTopic = options.lateTopic ?? 'metrics.late';
    this.dlqTopic = options.dlqTopic ?? 'metrics.dlq';
  }

  get applicationId(): string {
    return this.options.applicationId;
  }

  /** The compacted changelog topic of every store of this topology (one topic, keys prefixed by store). */
  get changelogTopic(): string {
    return `${this.applicationId}-changelog`;
  }

  /** A fresh node name with this prefix (`KSTREAM-FILTER-0000000003` style, shorter). */
  newName(prefix: string): string {
    return `${prefix}-${String(this.counter++).padStart(4, '0')}`;
  }

  private addNode(node: TopologyNode, parents: string[]): void {
    if (this.nodes.has(node.name)) throw new TopologyError(`Node "${node.name}" already exists`, 'DUPLICATE_NODE');
    for (const p of parents) {
      const parent = this.nodes.get(p);
      if (!parent) throw new TopologyError(`Parent node "${p}" of "${node.name}" does not exist`, 'UNKNOWN_NODE');
      if (parent.kind === 'sink') throw new TopologyError(`Sink "${p}" cannot have children`, 'INVALID_TOPOLOGY');
      parent.children.push(node.name);
    }
    this.nodes.set(node.name, node);
  }

  /** Adds a source reading `topics`; `decode` turns raw records into stream records. */
  addSource<K, V>(name: string, topics: string[], decode: RecordDecoder<K, V>, options: { stores?: string[]; prepare?: SourcePrepare } = {}): this {
    for (const t of topics) {
      for (const n of this.nodes.values()) {
        if (n.kind === 'source' && n.topics.includes(t)) throw new TopologyError(`Topic "${t}" is already read by source "${n.name}"`, 'DUPLICATE_SOURCE');
      }
    }
    for (const st of options.stores ?? []) if (!this.stores.has(st)) throw new TopologyError(`Store "${st}" of "${name}" is not defined`, 'UNKNOWN_STORE');
    this.addNode(
      { kind: 'source', name, topics, decode: decode as RecordDecoder<unknown, unknown>, stores: options.stores ?? [], ...(options.prepare ? { prepare: options.prepare } : {}), children: [] },
      [],
    );
    return this;
  }

  addProcessor(name: string, supplier: ProcessorSupplier<any, any, any, any>, parents: string[], stores: string[] = []): this {
    for (const s of stores) if (!this.stores.has(s)) throw new TopologyError(`Store "${s}" of "${name}" is not defined`, 'UNKNOWN_STORE');
    this.addNode({ kind: 'processor', name, supplier: supplier as ProcessorSupplier, stores, children: [] }, parents);
    return this;
  }

  addSink<K, V>(
    name: string,
    topic: string,
    serdes: { key: Serde<K>; value: Serde<V>; idOf?: (record: StreamRecord<K, V>) => string; toInputPartition?: boolean; writeTime?: boolean },
    parents: string[],
  ): this {
    this.addNode(
      {
        kind: 'sink',
        name,
        topic,
        keySerde: serdes.key as Serde<unknown>,
        valueSerde: serdes.value as Serde<unknown>,
        ...(serdes.idOf ? { idOf: serdes.idOf as OutputIdFn } : {}),
        ...(serdes.toInputPartition ? { toInputPartition: true } : {}),
        ...(serdes.writeTime ? { writeTime: true } : {}),
        children: [],
      },
      parents,
    );
    return this;
  }

  addStore(definition: StoreDefinition): this {
    if (this.stores.has(definition.name)) throw new TopologyError(`Store "${definition.name}" already exists`, 'DUPLICATE_STORE');
    if (definition.name.includes('\u0000')) throw new TopologyError(`Store name "${definition.name}" contains NUL`, 'INVALID_STORE');
    this.stores.set(definition.name, definition);
    return this;
  }

  /** Every topic some source reads. */
  sourceTopics(): string[] {
    const out: string[] = [];
    for (const n of this.nodes.values()) if (n.kind === 'source') out.push(...n.topics);
    return out;
  }

  /** Every topic some sink writes. */
  sinkTopics(): string[] {
    const out = new Set<string>();
    for (const n of this.nodes.values()) if (n.kind === 'sink') out.add(n.topic);
    return [...out];
  }

  /** A readable description (for logs and `describe` in tests). */
  describe(): string {
    const lines: string[] = [`Topology ${this.applicationId}`];
    for (const n of this.nodes.values()) {
      const extra = n.kind === 'source' ? ` topics=[${n.topics.join(',')}]` : n.kind === 'sink' ? ` topic=${n.topic}` : n.stores.length ? ` stores=[${n.stores.join(',')}]` : '';
      lines.push(`  ${n.kind} ${n.name}${extra} -> ${n.children.join(', ') || '(none)'}`);
    }
    return lines.join('\n');
  }
}
