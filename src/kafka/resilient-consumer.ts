/**
 * `startResilientConsumer`: a kafkajs consumer that comes back after a crash kafkajs will not restart.
 * Import from ./client.js.
 *
 * kafkajs restarts a crashed consumer only for retriable errors. The embedded Kafka (librdkafka 2.0.2's
 * mock) often answers a follower's SyncGroup with INVALID_REQUEST when a group has 2+ members; kafkajs
 * treats that as fatal, emits CRASH with `restart: false` and leaves the consumer disconnected, so the
 * member silently stops consuming. This helper then builds a NEW consumer with the same settings, after a
 * short backoff, subscribes it and runs it again (committed offsets carry over; delivery is at least once).
 * A real cluster gets the same protection against any non-retriable crash.
 */
import type { Consumer, ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopics, Kafka } from 'kafkajs';
import { componentLogger } from '../obs/logger.js';

export interface ResilientConsumerOptions {
  /** kafkajs consumer settings (groupId, sessionTimeout, ...); the same for every recreated consumer. */
  config: ConsumerConfig;
  subscribe: ConsumerSubscribeTopics;
  run: ConsumerRunConfig;
  /**
   * Called with each new kafkajs consumer before it connects (the first one, and each replacement), e.g. to
   * attach instrumentation listeners such as GROUP_JOIN. `generation` counts from 0.
   */
  onConsumer?: (consumer: Consumer, generation: number) => void;
  /** Crashes in a row (without a successful group join between them) before giving up; default 10. */
  maxRestarts?: number;
  /** Backoff before the first replacement, doubled each time up to 5 s; default 250 ms. */
  restartDelayMs?: number;
  /** Called once when the consumer gives up (after maxRestarts); it is then stopped. Default: logs the error. */
  onFatal?: (error: Error) => void;
  /**
   * How long `stop()` waits for kafkajs to leave the group, default 10 s. kafkajs waits for an in-flight fetch
   * before it disconnects; a fetch sent to a broker that went down just before (the embedded Kafka's fault
   * injection does this) may only end at the 30 s request timeout, and a stopping process must not hang on it.
   */
  stopTimeoutMs?: number;
}

/** A running resilient consumer. */
export interface ResilientConsumer {
  /** The current kafkajs consumer (changes after a crash): use it for pause/resume/seek/commitOffsets. */
  readonly consumer: Consumer;
  /** How many times the consumer was replaced after a fatal crash. */
  readonly restarts: number;
  /** Stops the current consumer (it leaves the group) and prevents further restarts. Idempotent. */
  stop(): Promise<void>;
}

/** Creates, connects, subscribes and runs a consumer that is replaced whenever kafkajs gives up on it. */
export async function startResilientConsumer(kafka: Kafka, options: ResilientConsumerOptions): Promise<ResilientConsumer> {
  const handle = new ResilientHandle(kafka, options);
  await handle.launch();
  return handle;
}

class ResilientHandle implements ResilientConsumer {
  consumer!: Consumer;
  restarts = 0;
  private generation = 0;
  private crashesInARow = 0;
  private stopped = false;
  private pending: NodeJS.Timeout | undefined;
  private readonly log;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ResilientConsumerOptions,
  ) {
    this.log = componentLogger('kafka-consumer', { groupId: options.config.groupId });
  }

  async launch(): Promise<void> {
    const consumer = this.kafka.consumer(this.options.config);
    this.consumer = consumer;
    this.options.onConsumer?.(consumer, this.generation++);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.crashesInARow = 0;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped || consumer !== this.consumer) return;
      this.onFatalCrash(payload.error);
    });
    // stop() may run while this consumer is still starting: never let it run after that.
    const steps = [() => consumer.connect(), () => consumer.subscribe(this.options.subscribe), () => consumer.run(this.options.run)];
    for (const step of steps) {
      if (this.stopped) return consumer.disconnect();
      await step();
    }
    if (this.stopped) await consumer.disconnect();
  }

  private onFatalCrash(error: Error): void {
    this.crashesInARow++;
    const max = this.options.maxRestarts ?? 10;
    if (this.crashesInARow > max) {
      this.log.error({ err: error, crashes: this.crashesInARow }, 'consumer keeps crashing; giving up');
      void this.stop();
      (this.options.onFatal ?? (() => undefined))(error);
      return;
    }
    const delay = Math.min(5000, (this.options.restartDelayMs ?? 250) * 2 ** (this.crashesInARow - 1));
    this.log.warn({ err: error.message, delayMs: delay, restarts: this.restarts + 1 }, 'consumer crashed for good in kafkajs; replacing it');
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (this.stopped) return;
      this.restarts++;
      this.launch().catch((err: Error) => {
        if (!this.stopped) this.onFatalCrash(err);
      });
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pending);
    const limitMs = this.options.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limitMs);
    });
    try {
      const outcome = await Promise.race([this.consumer.disconnect().then(() => 'stopped' as const), timedOut]);
      if (outcome === 'timeout') this.log.warn({ limitMs }, 'consumer did not leave the group in time; stopping without waiting for it');
    } finally {
      clearTimeout(timer);
    }
  }
}
