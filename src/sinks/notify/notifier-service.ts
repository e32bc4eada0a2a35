/**
 * `startNotifier`: the notifier as a running service, wired to Kafka, LevelDB and HTTP. What
 * `vigil notify` runs, and what `vigil start` can run in-process.
 *
 * - `alerts` is consumed by its own consumer group; each batch is decoded with the registry-aware
 *   serde (undecodable records go to `alerts.dlq` with vigil.* headers), written durably into the
 *   groups, and only then are its offsets committed.
 * - `silences` (silences and acks as JSON events, keyed `silence/<id>` / `ack/<fingerprint>`) is read
 *   to its end before alerts are consumed, then followed, by a consumer group unique to this instance,
 *   so every instance sees every silence. The embedded Kafka never compacts: the topic is replayed in
 *   full at start; silences expired more than 5 days ago are skipped.
 * - Group timers run on the wall clock through `NotifierCore.tick`.
 */
import { join } from 'node:path';
import type { Consumer, ConsumerConfig, EachBatchPayload, IHeaders, Producer } from 'kafkajs';
import type { VigilConfig } from '../../config/config.js';
import { createHttpServer, httpServerOptions, type HttpServer } from '../../http/http-server.js';
import { createKafka, embeddedConsumerDefaults, ensureTopics, silencesTopic, startResilientConsumer, streamTopicSpec, topicPolicy, type ResilientConsumer } from '../../kafka/client.js';
import { alertEventSerde, SerdeError } from '../../model/serde.js';
import type { AlertEvent } from '../../model/types.js';
import { componentLogger } from '../../obs/logger.js';
import { counter } from '../../obs/metrics.js';
import { parseDurationMs } from '../../dsl/duration.js';
import { LevelTaskStorage } from '../../state/level-task-storage.js';
import type { Ack } from './acks.js';
import { loadNotifyConfig } from './config-from-rules.js';
import { createReceivers } from './create-receivers.js';
import { NotifyConfigError } from './errors.js';
import { compileNotifyConfig, type NotifyConfig } from './notify-config.js';
import { registerNotifyRoutes, type NotifyApiDeps } from './notify-http.js';
import { followSilences } from './silence-feed.js';
import type { Notification } from './notification.js';
import { NotifierCore } from './notifier-core.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry-stage.js';
import type { Silence } from './silences.js';

export interface StartNotifierOptions {
  /** Rules files (or directories) holding `route`, `receiver` and `inhibit` blocks. */
  readonly rulesPaths?: string[];
  /** The notification config given directly (instead of rules files). */
  readonly notify?: NotifyConfig;
  /**
   * Mount the API on this server (the caller listens); false: serve nothing (the caller mounts
   * `RunningNotifier.api` itself); default: a server of its own.
   */
  readonly http?: HttpServer | false;
  /** Port of its own server (default config.http.port, VIGIL_HTTP_PORT). */
  readonly port?: number;
  /** Environment for env("X") in receivers (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A PagerDuty routing key `env("X")` whose variable is unset: 'error' (default) fails the start,
   * 'log' writes those pages to the log (what the embedded dev setup wants).
   */
  readonly missingRoutingKey?: 'error' | 'log';
  /** Consumer group on `alerts` (default `<clientId>-notify`). */
  readonly groupId?: string;
  /** Overrides of the consumer settings (default embeddedConsumerDefaults). */
  readonly consumer?: Partial<ConsumerConfig>;
  readonly retry?: RetryOptions;
  /** Observes every finished delivery (tests, benchmarks). */
  readonly onDelivered?: (n: Notification, ok: boolean) => void;
}

export interface RunningNotifier {
  readonly core: NotifierCore;
  /** What the HTTP routes need (for `registerNotifyRoutes` on another server). */
  readonly api: NotifyApiDeps;
  /** Base URL of the HTTP API. */
  readonly url: string;
  /** Stops consuming, waits for deliveries in flight, closes everything. Idempotent. */
  stop(): Promise<void>;
}

/** How often the delivery log, history and resolved alerts past notify.retention are deleted. */
const PRUNE_EVERY_MS = 3_600_000;
const deliveries = counter('vigil_notify_notifications_total', 'Notifications by receiver and outcome', ['receiver', 'outcome']);
const deadEvents = counter('vigil_notify_dead_letters_total', 'Alert events and notifications sent to alerts.dlq', ['reason']);

/**
 * Starts the notifier. The second argument may be the rules paths alone. Throws NotifyConfigError
 * for bad rules or receivers (e.g. an unknown receiver type, a missing env("X")) before touching Kafka.
 */
export async function startNotifier(config: VigilConfig, opts: StartNotifierOptions | string[]): Promise<RunningNotifier> {
  const o: StartNotifierOptions = Array.isArray(opts) ? { rulesPaths: opts } : opts;
  const log = componentLogger('notify');
  const brokers = config.kafka.brokers;
  const registry = config.schemaRegistry.url;
  if (!brokers || !registry) throw new NotifyConfigError('the notifier needs kafka.brokers and schemaRegistry.url (KAFKA_BROKERS, SCHEMA_REGISTRY_URL)');
  const raw = o.notify ?? loadNotifyConfig(o.rulesPaths ?? config.rules.paths, config.notify.defaultReceiver);
  const compiled = compileNotifyConfig({ ...raw, ...(config.notify.defaultReceiver && !raw.defaultReceiver ? { defaultReceiver: config.notify.defaultReceiver } : {}) });
  const port = o.port ?? config.http.port;
  const externalUrl = config.notify.externalUrl ?? `${config.http.tls ? 'https' : 'http'}://localhost:${port}`;
  const receivers = createReceivers(compiled, {
    ...(config.notify.smtpUrl ? { smtpUrl: config.notify.smtpUrl } : {}),
    smtpFrom: config.notify.smtpFrom,
    outbox: config.notify.outbox,
    pagerdutyUrl: config.notify.pagerdutyUrl,
    externalUrl,
    env: o.env ?? process.env,
    missingRoutingKey: o.missingRoutingKey ?? 'error',
    logger: log,
  });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> = Promise.resolve();
  // What was started so far, undone in reverse when the start fails half-way.
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const t = config.topics;
    await ensureTopics(brokers, [streamTopicSpec(config, t.alerts), streamTopicSpec(config, t.alertsDlq), silencesTopic(config)], topicPolicy(config));
    const kafka = createKafka(brokers, `${config.kafka.clientId}-notify`);
    const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    undo.push(() => producer.disconnect());
    const serde = alertEventSerde({ registry });
    const storage = await LevelTaskStorage.open(join(config.state.dir, 'notify'));
    undo.push(() => storage.close());

    const deadLetter = async (n: Notification, reason: string) => {
      deadEvents.inc({ reason: 'delivery' });
      await producer.send({
        topic: t.alertsDlq,
        messages: [{ key: n.key, value: JSON.stringify(n), headers: { 'vigil.reason': reason, 'vigil.kind': `notification/${n.kind}`, 'vigil.receiver': n.receiver, 'vigil.idempotency-key': n.key } }],
      });
    };
    const core = new NotifierCore({
      config: compiled,
      receivers,
      storage,
      deadLetter,
      notifyResolvedWhileSilenced: config.notify.notifyResolvedWhileSilenced,
      retry: o.retry ?? { ...DEFAULT_RETRY, maxAttempts: config.notify.maxAttempts },
      logger: log,
      onDelivered: (n, ok) => {
        deliveries.inc({ receiver: n.receiver, outcome: ok ? 'sent' : 'dlq' });
        o.onDelivered?.(n, ok);
      },
    });
    await core.open();

    const kick = () => {
      if (stopped) return;
      clearTimeout(timer);
      const now = Date.now();
      const next = core.nextWakeup(now);
      if (next === undefined) return;
      timer = setTimeout(runTick, Math.min(60_000, Math.max(0, next - now)));
    };
    function runTick(): void {
      if (stopped) return;
      const done = core.tick(Date.now());
      kick();
      done.then(kick, (err: Error) => log.error({ err }, 'tick failed'));
    }

    const publish = async (key: string, value: unknown) => {
      await producer.send({ topic: t.silences, messages: [{ key, value: JSON.stringify(value) }] });
    };
    // Both consumer groups join at once (a join takes seconds on the embedded Kafka); alert batches
    // wait until the silences are read to the end and pending notifications are resent.
    const silencesStarting = followSilences(kafka, config, core, log, () => kick());
    undo.push(() => silencesStarting.then((c) => c.stop()));
    const ready = silencesStarting.then(async () => {
      const resent = await core.resendPending(Date.now());
      if (resent) log.warn({ resent }, 'resent notifications whose delivery was not recorded before a restart');
    });

    let current: Consumer | undefined;
    const alerts: ResilientConsumer = await startResilientConsumer(kafka, {
      config: { groupId: o.groupId ?? `${config.kafka.clientId}-notify`, ...embeddedConsumerDefaults, ...o.consumer },
      subscribe: { topics: [t.alerts], fromBeginning: true },
      onConsumer: (c) => (current = c),
      run: {
        autoCommit: false,
        eachBatch: async (p) => {
          await ready;
          await consumeBatch(p, { serde, core, producer, dlqTopic: t.alertsDlq });
          const last = p.batch.messages.at(-1);
          if (last && current) {
            await current.commitOffsets([{ topic: p.batch.topic, partition: p.batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          }
          kick();
        },
      },
    });
    undo.push(() => alerts.stop());
    const silences = await silencesStarting;
    await ready;
    kick();
    const retentionMs = parseDurationMs(config.notify.retention);
    const prune = () => {
      if (stopped) return;
      pruning = core.prune(Date.now(), retentionMs).then(
        (counts) => {
          if (counts.deliveries || counts.history || counts.alerts) log.info({ ...counts, retention: config.notify.retention }, 'pruned the notifier state');
        },
        (err: Error) => log.error({ err }, 'pruning the notifier state failed'),
      );
    };
    prune();
    const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
    pruneTimer.unref();

    const api: NotifyApiDeps = {
      core,
      now: Date.now,
      publishSilence: (s: Silence) => publish(`silence/${s.id}`, { kind: 'silence', silence: s }),
      publishAck: (a: Ack) => publish(`ack/${a.fingerprint}`, { kind: 'ack', ack: a }),
      changed: kick,
      alertmanager: { config: compiled, settings: config.notify, externalUrl, startedAt: Date.now() },
    };
    const own = o.http === undefined ? createHttpServer(httpServerOptions(config, port)) : undefined;
    const http = own ?? (o.http || undefined);
    if (http) {
      registerNotifyRoutes(http.app, api);
      http.addHealthCheck('notify', () => ({ ok: !stopped }));
    }
    if (own) {
      undo.push(() => own.close());
      await own.listen();
    }
    const url = own ? own.url() : externalUrl;
    log.info({ url, receivers: [...receivers.keys()], routes: compiled.routes.length }, 'notifier started');

    let stopping: Promise<void> | undefined;
    return {
      core,
      api,
      url,
      stop: () =>
        (stopping ??= (async () => {
          stopped = true;
          clearTimeout(timer);
          clearInterval(pruneTimer);
          await pruning;
          await alerts.stop();
          await silences.stop();
          if (own) await own.close();
          await core.close();
          for (const r of receivers.values()) await r.close?.();
          await producer.disconnect();
        })()),
    };
  } catch (err) {
    stopped = true;
    clearTimeout(timer);
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
}

interface BatchDeps {
  serde: ReturnType<typeof alertEventSerde>;
  core: NotifierCore;
  producer: Producer;
  dlqTopic: string;
}

/** Decodes a batch, dead-letters what does not decode, and writes the rest durably into the core. */
async function consumeBatch({ batch }: EachBatchPayload, d: BatchDeps): Promise<void> {
  const events: AlertEvent[] = [];
  const dead: { key: Buffer | null; value: Buffer | null; headers: IHeaders }[] = [];
  for (const m of batch.messages) {
    try {
      const v = d.serde.decode(m.value);
      events.push(v instanceof Promise ? await v : v);
    } catch (err) {
      const reason = err instanceof SerdeError ? `${err.code}: ${err.message}` : `undecodable: ${(err as Error).message}`;
      deadEvents.inc({ reason: err instanceof SerdeError ? err.code : 'undecodable' });
      dead.push({
        key: m.key,
        value: m.value,
        headers: { 'vigil.reason': reason, 'vigil.topic': batch.topic, 'vigil.partition': String(batch.partition), 'vigil.offset': m.offset },
      });
    }
  }
  if (dead.length) await d.producer.send({ topic: d.dlqTopic, messages: dead });
  if (events.length) await d.core.ingest(events, Date.now());
}
