/**
 * The collection service as one unit (what `vigil collect` runs and `vigil start` can embed):
 * the sharded pull collector and, when tokens are configured, the push endpoint, both publishing
 * through one SamplePublisher. Real clients (kafkajs, the publisher) are passed in.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { FastifyInstance } from 'fastify';
import { componentLogger } from '../obs/logger.js';
import { Collector } from './collector.js';
import { startPushServer, registerPushRoutes, type PushOptions } from './push/push-server.js';
import type { SamplePublisher } from './sample-publisher.js';
import type { ScrapeJob } from './scrape/scrape-config.js';
import { closeScrapeAgents } from './scrape/scrape-http.js';
import { Membership } from './shard/membership.js';
import { ShardSchedule } from './shard/shard-schedule.js';

export interface CollectServiceOptions {
  jobs: readonly ScrapeJob[];
  publisher: SamplePublisher;
  /** Publish stale markers for series and targets that disappear (default true). */
  staleMarkers?: boolean;
  /** Sharding through the Kafka group; omit to scrape every target from this instance. */
  shard?: { kafka: Kafka; brokers: string; groupId?: string; topic?: string; settleMs?: number; instanceId?: string };
  /** Push endpoint: its own server on `port`, or routes added to `app`. Omit to disable push. */
  push?: Omit<PushOptions, 'publisher'> & ({ port: number; host?: string } | { app: FastifyInstance });
}

/** Status figures for the periodic status line. */
export interface CollectStatus {
  targets: number;
  owned: number;
  up: number;
  down: number;
  scrapes: number;
  samples: number;
  publishErrors: number;
  missed: number;
  members: number | undefined;
  pushUrl: string | undefined;
}

const log = componentLogger('collect');

export class CollectService {
  private collector: Collector | undefined;
  private membership: Membership | undefined;
  private schedule: ShardSchedule | undefined;
  private closePush: (() => Promise<void>) | undefined;
  private pushUrl: string | undefined;
  readonly instanceId: string;

  constructor(private readonly options: CollectServiceOptions) {
    this.instanceId = options.shard?.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  async start(): Promise<void> {
    const { shard } = this.options;
    if (shard) this.schedule = new ShardSchedule(this.instanceId);
    const schedule = this.schedule;
    if (this.options.jobs.length > 0) {
      this.collector = new Collector({
        jobs: this.options.jobs,
        publisher: this.options.publisher,
        ...(schedule ? { owns: (key: string, slot: number) => schedule.owns(key, slot) } : {}),
        userAgent: `vigil-collect/0.1 (${this.instanceId})`,
        staleMarkers: this.options.staleMarkers ?? true,
      });
      await this.collector.start();
      if (shard) {
        this.membership = new Membership({
          kafka: shard.kafka,
          brokers: shard.brokers,
          instanceId: this.instanceId,
          groupId: shard.groupId,
          topic: shard.topic,
          settleMs: shard.settleMs,
          onView: (view) => schedule!.add(view),
          onFence: () => schedule!.fence(Date.now()),
        });
        await this.membership.start();
      }
    }
    const push = this.options.push;
    if (push) {
      const pushOptions: PushOptions = { ...push, publisher: this.options.publisher };
      if ('app' in push) {
        await registerPushRoutes(push.app, pushOptions);
      } else {
        const server = await startPushServer({ ...pushOptions, port: push.port, host: push.host });
        this.closePush = server.close;
        this.pushUrl = server.url;
      }
    }
    log.info({ instanceId: this.instanceId, jobs: this.options.jobs.map((j) => j.name), push: this.pushUrl }, 'collect service started');
  }

  status(now = Date.now()): CollectStatus {
    const stats = this.collector?.manager.stats;
    const targets = this.collector?.currentTargets() ?? [];
    const owned = this.schedule ? targets.filter((t) => this.schedule!.owns(t.key, now)).length : targets.length;
    return {
      targets: targets.length,
      owned,
      up: stats?.up ?? 0,
      down: stats?.down ?? 0,
      scrapes: stats?.scrapes ?? 0,
      samples: stats?.samples ?? 0,
      publishErrors: stats?.publishErrors ?? 0,
      missed: stats?.missed ?? 0,
      members: this.schedule?.viewAt(now)?.members.length,
      pushUrl: this.pushUrl,
    };
  }

  /** Stops scraping, leaves the group (the others take over), closes the push server. */
  async stop(): Promise<void> {
    this.schedule?.clear();
    await this.closePush?.();
    await this.collector?.close();
    await this.membership?.leave();
    closeScrapeAgents();
  }
}
