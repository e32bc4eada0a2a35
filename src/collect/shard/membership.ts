/**
 * Collector membership through a Kafka consumer group, so sharding needs no extra service.
 *
 * Every collector joins group `groupId` on the one-partition topic `topic` with a custom
 * assigner ("vigil-membership"). Each member's JoinGroup metadata carries its instance id; the
 * group leader, in `assign()`, writes a view record `{members, effectiveAt}` to `topic`
 * (effectiveAt = now + settleMs, so every member has it before it takes effect) and assigns the
 * partition to every member. Each member reads the topic from the beginning and applies the
 * newest view once it has caught up. kafkajs drops the assignment's userData on followers, hence
 * the record rather than userData.
 *
 * The group is what detects liveness: a member that leaves (or whose session expires) triggers a
 * rebalance, and the new leader publishes the new view.
 */
import { AssignerProtocol, type Kafka, type PartitionAssigner, type Producer } from 'kafkajs';
import { embeddedConsumerDefaults, ensureTopics, startResilientConsumer, type ResilientConsumer } from '../../kafka/client.js';
import { componentLogger } from '../../obs/logger.js';
import type { ShardView } from './shard-schedule.js';

export const DEFAULT_MEMBERSHIP_GROUP = 'vigil-collectors';
export const DEFAULT_MEMBERSHIP_TOPIC = 'vigil.collectors';
const PROTOCOL = 'vigil-membership';

export interface MembershipOptions {
  kafka: Kafka;
  /** Bootstrap servers (to make sure the membership topic exists). */
  brokers: string;
  /** This collector's id (unique per process). */
  instanceId: string;
  groupId?: string;
  topic?: string;
  /** Delay between a view's publication and the moment it takes effect; default 2000 ms. */
  settleMs?: number;
  /** Called with each new view (in effectiveAt order). */
  onView: (view: ShardView) => void;
  /**
   * Called when this member's consumer crashed (it is replaced and rejoins): the group may already
   * have handed its targets to the others, so the caller should stop owning any (ShardSchedule.fence).
   */
  onFence?: () => void;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  /** Wall clock (ms) for effectiveAt; default Date.now. */
  now?: () => number;
}

/** A view record on the membership topic. */
interface ViewRecord {
  members: string[];
  effectiveAt: number;
  leader: string;
}

const log = componentLogger('collect-membership');

function parseView(value: Buffer | null): ViewRecord | undefined {
  if (!value) return undefined;
  try {
    const v = JSON.parse(value.toString('utf8')) as ViewRecord;
    if (Array.isArray(v.members) && v.members.every((m) => typeof m === 'string') && Number.isFinite(v.effectiveAt)) return v;
  } catch {
    /* not a view record: ignored below */
  }
  log.warn('ignoring a record on the membership topic that is not a view');
  return undefined;
}

/** A running membership; `leave()` leaves the group (the others rebalance without this member). */
export class Membership {
  private consumer: ResilientConsumer | undefined;
  private producer: Producer | undefined;
  private lastApplied = -Infinity;

  constructor(private readonly options: MembershipOptions) {}

  get groupId(): string {
    return this.options.groupId ?? DEFAULT_MEMBERSHIP_GROUP;
  }

  get topic(): string {
    return this.options.topic ?? DEFAULT_MEMBERSHIP_TOPIC;
  }

  async start(): Promise<void> {
    const { kafka, instanceId } = this.options;
    await ensureTopics(this.options.brokers, [{ name: this.topic, partitions: 1 }]);
    this.producer = kafka.producer({ allowAutoTopicCreation: true });
    await this.producer.connect();
    this.consumer = await startResilientConsumer(kafka, {
      config: {
        groupId: this.groupId,
        ...embeddedConsumerDefaults,
        ...(this.options.sessionTimeout ? { sessionTimeout: this.options.sessionTimeout, rebalanceTimeout: 2 * this.options.sessionTimeout } : {}),
        ...(this.options.heartbeatInterval ? { heartbeatInterval: this.options.heartbeatInterval } : {}),
        partitionAssigners: [this.assigner()],
      },
      onConsumer: (consumer) => {
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (payload.restart) return;
          log.warn({ instanceId, error: payload.error.message }, 'membership consumer crashed: owning no targets until the next view');
          this.options.onFence?.();
        });
      },
      subscribe: { topics: [this.topic], fromBeginning: true },
      run: {
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          let latest: ViewRecord | undefined;
          for (const m of batch.messages) latest = parseView(m.value) ?? latest;
          const caughtUp = BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark);
          if (latest && caughtUp) this.apply(latest);
        },
      },
    });
    log.info({ instanceId, groupId: this.groupId, topic: this.topic }, 'joined the collector group');
  }

  /** Leaves the group and stops (idempotent). */
  async leave(): Promise<void> {
    await this.consumer?.stop();
    await this.producer?.disconnect();
    this.consumer = undefined;
    this.producer = undefined;
  }

  private apply(view: ViewRecord): void {
    if (view.effectiveAt <= this.lastApplied) return;
    this.lastApplied = view.effectiveAt;
    log.info({ members: view.members, effectiveAt: new Date(view.effectiveAt).toISOString(), leader: view.leader }, 'collector view');
    this.options.onView({ members: view.members, effectiveAt: view.effectiveAt });
  }

  /** The assigner: members announce their id; the leader publishes the view and gives everyone the partition. */
  private assigner(): PartitionAssigner {
    const self = this.options.instanceId;
    const topic = this.topic;
    const settleMs = this.options.settleMs ?? 2000;
    return () => ({
      name: PROTOCOL,
      version: 1,
      protocol: ({ topics }) => ({
        name: PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify({ id: self })) }),
      }),
      assign: async ({ members }) => {
        const ids = new Set<string>();
        for (const m of members) {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          try {
            const id = (JSON.parse(meta?.userData.toString('utf8') ?? '{}') as { id?: unknown }).id;
            if (typeof id === 'string' && id) ids.add(id);
          } catch {
            log.warn({ memberId: m.memberId }, 'group member without a collector id');
          }
        }
        const view: ViewRecord = { members: [...ids].sort(), effectiveAt: (this.options.now ?? Date.now)() + settleMs, leader: self };
        await this.producer!.send({ topic, messages: [{ partition: 0, key: this.groupId, value: JSON.stringify(view) }] });
        return members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { [topic]: [0] }, userData: Buffer.alloc(0) }),
        }));
      },
    });
  }
}
