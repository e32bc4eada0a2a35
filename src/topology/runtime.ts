/**
 * TopologyRuntime: runs a Topology on kafkajs. One consumer group (= applicationId), one StreamTask per
 * assigned input partition, batch-at-a-time processing (eachBatch). The parts, each unit-tested alone:
 *
 * - the consumer loop (here): batches to tasks, wall-clock punctuation, commit triggers, start/stop;
 * - the commit protocol (internals/commit-chain.ts): storage batch -> changelog + outputs -> offsets;
 * - the tasks (internals/task-manager.ts): open once, close on revoke, recover after a failed commit
 *   (pause, reopen from storage, seek back to what the storage covers, resume);
 * - opening one task (internals/task-opener.ts): incarnation, staleness, changelog restore.
 *
 * The Kafka client is injected (wired at the app level); this module never reads the environment.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Clock } from './api.js';
import type { RawRecord, Topology } from './topology.js';
import type { StreamTask, TaskCommit } from './internals/stream-task.js';
import { readChangelog } from './internals/changelog-restore.js';
import { RecordSender } from './internals/record-sender.js';
import { TaskOpener, type ClusterView } from './internals/task-opener.js';
import { TaskManager } from './internals/task-manager.js';
import { CommitChain, type CommitSummary } from './internals/commit-chain.js';
import type { TaskStorageFactory } from '../state/task-storage.js';
import { startResilientConsumer, type ResilientConsumer } from '../kafka/resilient-consumer.js';
import { componentLogger, type Logger } from '../obs/logger.js';
import { counter, gauge } from '../obs/metrics.js';

const recordsTotal = counter('vigil_topology_records_total', 'Input records processed', ['topology']);
const samplesRate = gauge('vigil_topology_records_per_second', 'Input records processed per second (last commit interval)', ['topology']);
const skippedTotal = counter('vigil_topology_records_skipped_total', 'Input records skipped as already covered by stored offsets (replays)', ['topology']);
const sideTotal = counter('vigil_topology_side_records_total', 'Records sent to side topics (late, dead letters)', ['topology', 'topic', 'reason']);
const lateTotal = counter('vigil_late_records_total', 'Input records with data for closed windows (sent to metrics.late)', ['topology']);
const lagGauge = gauge('vigil_consumer_lag', 'High watermark minus next offset to process', ['topology', 'topic', 'partition']);

export interface TopologyRuntimeOptions {
  kafka: Kafka;
  topology: Topology;
  storage: TaskStorageFactory;
  /** From clusterIncarnation(): a change drops stored input offsets (state is kept). */
  incarnation: string;
  /** Extra kafkajs consumer settings (e.g. embeddedConsumerDefaults). */
  consumer?: Record<string, unknown>;
  /** Commit interval (ms). Default 5000. */
  commitIntervalMs?: number;
  /** How often wall-clock punctuators are checked (ms). Default 1000. */
  punctuateIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called after each commit (tests, progress). */
  onCommit?: (taskId: string, commit: TaskCommit) => void;
  /** First backoff between attempts to reopen a task after a failed commit (ms). Default 200. */
  recoveryRetryMs?: number;
  /** The topics' max.message.bytes (config kafka.maxMessageBytes): requests and records stay under it. Default 1 MiB. */
  maxMessageBytes?: number;
  /** GZIP-compress changelog requests (config kafka.changelogCompression). Default true. */
  compressChangelog?: boolean;
}

const systemClock: Clock = { now: () => Date.now() };

export class TopologyRuntime {
  private readonly topology: Topology;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly tasks: TaskManager;
  private readonly commits: CommitChain;
  /** Sends every record of this runtime; its stats are the runtime's request and record sizes. */
  readonly sender: RecordSender;
  private consumer: ResilientConsumer | null = null;
  private adminClient: Promise<Admin> | null = null;
  /**
   * The group's committed offsets, fetched once per assignment for every task it opens (one request,
   * not one per task: 16 concurrent look-ups took up to 1.5 s on the embedded Kafka). While this
   * instance owns a partition only it commits there, and its commits never pass its local storage,
   * so a copy older than the latest own commit gives the same staleness answer.
   */
  private groupOffsets: ReturnType<ClusterView['committedOffsets']> | null = null;
  private producer: Producer | null = null;
  private lastCommit = 0;
  private recordsSinceRate = 0;
  private rateSince = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Moves when a rebalance starts and when it ends (see CommitChainOptions.generation). */
  private generation = 0;
  /** Records processed by this runtime (all tasks). */
  processed = 0;
  /** Time spent processing records / waiting for a previous commit's IO (ms; for benchmarks). */
  busyMs = 0;
  commitWaitMs = 0;

  constructor(private readonly options: TopologyRuntimeOptions) {
    this.topology = options.topology;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? componentLogger('runtime', { topology: options.topology.applicationId });
    const maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
    // Changelog requests are compressed (GZIP, kafkajs' own codec): state blocks shrink to ~1/4.
    const compress = options.compressChangelog ?? true;
    this.sender = new RecordSender(() => this.producer, { maxRequestBytes: maxMessageBytes, compressed: (topic) => compress && topic === this.topology.changelogTopic });
    const sender = this.sender;
    const opener = new TaskOpener({
      topology: this.topology,
      storage: options.storage,
      incarnation: options.incarnation,
      clock: this.clock,
      log: this.log,
      cluster: this.clusterView(),
      maxRecordBytes: maxMessageBytes,
      onSideRecord: (topic, reason) => this.countSide(topic, reason),
    });
    this.commits = new CommitChain({
      topology: this.topology,
      sender,
      commitOffsets: () => (this.consumer ? (offsets) => this.consumer!.consumer.commitOffsets(offsets) : null),
      onFailure: (entry, err) => this.tasks.fail(entry, err),
      generation: () => this.generation,
      log: this.log,
      ...(options.onCommit ? { onCommit: options.onCommit } : {}),
    });
    const topics = () => this.topology.sourceTopics();
    this.tasks = new TaskManager({
      topology: this.topology,
      opener,
      sender,
      consumer: () => {
        const c = this.consumer?.consumer;
        if (!c) return null;
        return {
          pause: (partition) => c.pause(topics().map((topic) => ({ topic, partitions: [partition] }))),
          resume: (partition) => c.resume(topics().map((topic) => ({ topic, partitions: [partition] }))),
          seek: (topic, partition, offset) => c.seek({ topic, partition, offset }),
        };
      },
      startOffset: (topic, partition) => this.startOffset(topic, partition),
      idle: () => this.commits.idle(),
      log: this.log,
      ...(options.recoveryRetryMs !== undefined ? { retryDelayMs: options.recoveryRetryMs } : {}),
    });
  }

  get applicationId(): string {
    return this.topology.applicationId;
  }

  /** Partitions with an open task. */
  assignedPartitions(): number[] {
    return this.tasks.partitions();
  }

  /** The task of `partition` (tests, HTTP state views). */
  taskFor(partition: number): StreamTask | undefined {
    return this.tasks.get(partition)?.task;
  }

  /** One admin connection for the runtime's look-ups (opening a task must stay cheap). */
  private admin(): Promise<Admin> {
    if (!this.adminClient) {
      const admin = this.options.kafka.admin();
      const p = admin.connect().then(() => admin);
      p.catch(() => {
        if (this.adminClient === p) this.adminClient = null;
      });
      this.adminClient = p;
    }
    return this.adminClient;
  }

  private clusterView(): ClusterView {
    return {
      committedOffsets: () => {
        if (!this.groupOffsets) {
          const p = this.admin().then((admin) => admin.fetchOffsets({ groupId: this.applicationId, topics: this.topology.sourceTopics() }));
          // A failed look-up is not kept: the next task open asks again.
          p.catch(() => {
            if (this.groupOffsets === p) this.groupOffsets = null;
          });
          this.groupOffsets = p;
        }
        return this.groupOffsets;
      },
      topicOffsets: async (topic) => (await this.admin()).fetchTopicOffsets(topic),
      readChangelog: ({ partition, from, high, taskId, onProgress }) =>
        readChangelog({
          kafka: this.options.kafka,
          topic: this.topology.changelogTopic,
          partition,
          from,
          high,
          groupId: `${this.applicationId}-restore-${taskId}-${Date.now()}`,
          ...(this.options.consumer ? { consumer: this.options.consumer } : {}),
          onProgress,
        }),
    };
  }

  /** Where a partition is read from when its task stores no offset: the group's, else the log start. */
  private async startOffset(topic: string, partition: number): Promise<string> {
    const admin = await this.admin();
    const committed = (await admin.fetchOffsets({ groupId: this.applicationId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === partition)?.offset;
    if (committed !== undefined && Number(committed) >= 0) return committed;
    return (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.low ?? '0';
  }

  async start(): Promise<void> {
    const { kafka } = this.options;
    this.producer = kafka.producer({ allowAutoTopicCreation: true });
    await this.producer.connect();
    this.lastCommit = this.clock.now();
    this.consumer = await startResilientConsumer(kafka, {
      config: { groupId: this.applicationId, ...(this.options.consumer ?? {}) } as never,
      subscribe: { topics: this.topology.sourceTopics(), fromBeginning: true },
      run: {
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Tasks are independent: while one waits for a fetch or a schema, another processes.
        partitionsConsumedConcurrently: 4,
        eachBatch: (payload) => this.eachBatch(payload),
      },
      onConsumer: (consumer) => this.watch(consumer),
    });
    this.timer = setInterval(() => this.tick(), this.options.punctuateIntervalMs ?? 1000);
    this.log.info({ topics: this.topology.sourceTopics() }, 'runtime started');
  }

  private watch(consumer: Consumer): void {
    consumer.on(consumer.events.REBALANCING, () => {
      this.generation++;
      this.tasks.rebalancing();
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.generation++;
      const mine = new Set<number>();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        if (this.topology.sourceTopics().includes(topic)) for (const p of partitions as number[]) mine.add(p);
      }
      this.log.info({ partitions: [...mine].sort((a, b) => a - b) }, 'assignment');
      this.groupOffsets = null;
      this.tasks.assign(mine);
    });
  }

  private tick(): void {
    if (this.stopping) return;
    const now = this.clock.now();
    for (const e of this.tasks.entries()) e.task.punctuateWallClock(now);
    if (now - this.lastCommit >= (this.options.commitIntervalMs ?? 5000)) void this.commitAll();
  }

  private async eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    this.log.debug({ partition: batch.partition, messages: batch.messages.length, first: batch.firstOffset() }, 'batch');
    let entry;
    try {
      entry = await this.tasks.ensure(batch.partition);
    } catch (err) {
      // A partition revoked meanwhile, a stop, or a task refused (paused, logged): nothing to process.
      if (this.stopping || !this.tasks.isAssigned(batch.partition) || this.tasks.refusal(batch.partition)) return;
      throw err;
    }
    // After a recovery the consumer was moved back: this batch was fetched from the old position.
    if (isStale() || entry.fenced) return;
    const records: RawRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      timestamp: Number(m.timestamp),
      ...(m.headers ? { headers: headersOf(m.headers) } : {}),
    }));
    const prep = entry.task.prepare(records);
    if (prep) await prep;
    let n = 0;
    let skipped = 0;
    const t0 = performance.now();
    for (const r of records) {
      if (!isRunning() || isStale() || entry.fenced) break;
      if (entry.task.process(r)) n++;
      else skipped++;
      // Kafka's committed offsets move only in the commit; this tells kafkajs where to fetch next.
      resolveOffset(r.offset);
    }
    this.busyMs += performance.now() - t0;
    if (skipped) skippedTotal.inc({ topology: this.applicationId }, skipped);
    this.processed += n;
    this.recordsSinceRate += n;
    recordsTotal.inc({ topology: this.applicationId }, n);
    const last = records.at(-1);
    if (last) lagGauge.set({ topology: this.applicationId, topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
    if (this.clock.now() - this.lastCommit >= (this.options.commitIntervalMs ?? 5000)) {
      // At most one commit's IO in flight: wait for the previous one, start this one, go on processing.
      const w0 = performance.now();
      await this.commits.idle();
      this.commitWaitMs += performance.now() - w0;
      void this.commitAll();
    }
    await heartbeat();
  }

  private countSide(topic: string, reason: string): void {
    sideTotal.inc({ topology: this.applicationId, topic, reason });
    if (reason === 'late') lateTotal.inc({ topology: this.applicationId });
  }

  /**
   * Commits every task with changes (see internals/commit-chain.ts). A task whose commit fails is
   * recovered (internals/task-manager.ts); the summary says how many failed.
   */
  commitAll(): Promise<CommitSummary> {
    this.lastCommit = this.clock.now();
    return this.commits.commitAll(this.tasks.entries()).then((summary) => {
      const secs = Math.max(0.001, (this.clock.now() - this.rateSince) / 1000);
      samplesRate.set({ topology: this.applicationId }, this.recordsSinceRate / secs);
      this.recordsSinceRate = 0;
      this.rateSince = this.clock.now();
      return summary;
    });
  }

  /** Clean stop: final commit of every task, leave the group, close storages. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.timer);
    try {
      if (this.consumer) await this.consumer.consumer.pause(this.topology.sourceTopics().map((topic) => ({ topic })));
    } catch {
      /* not running */
    }
    const summary = await this.commitAll();
    if (summary.failed) this.log.error({ failed: summary.failed }, 'final commit failed: those tasks continue from their last durable commit');
    await this.consumer?.stop().catch(() => undefined);
    await this.tasks.closeAll();
    await this.producer?.disconnect().catch(() => undefined);
    await this.adminClient?.then((a) => a.disconnect()).catch(() => undefined);
    this.log.info({ processed: this.processed }, 'runtime stopped');
  }
}

function headersOf(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
  return out;
}
