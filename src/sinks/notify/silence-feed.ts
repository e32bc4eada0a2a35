/**
 * The `silences` topic feed: silences and acks as JSON events (keys `silence/<id>`, `ack/<fp>`).
 * Read to its end at start (applied as already announced: no notices for history), then followed by
 * a consumer group unique to this instance, so every notifier instance sees every change. The
 * embedded Kafka never compacts, so the whole topic is replayed; long-expired silences are skipped.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { VigilConfig } from '../../config/config.js';
import { embeddedConsumerDefaults, startResilientConsumer } from '../../kafka/client.js';
import type { Logger } from '../../obs/logger.js';
import type { Ack } from './acks.js';
import type { NotifierCore } from './notifier-core.js';
import type { Silence } from './silences.js';

/** Expired silences older than this are not loaded (Alertmanager's default retention). */
const SILENCE_RETENTION_MS = 120 * 3_600_000;

/** Reads the silences topic to its end (applied as already announced), then keeps following it. */
export async function followSilences(
  kafka: Kafka,
  config: VigilConfig,
  core: NotifierCore,
  log: Logger,
  changed: () => void,
): Promise<{ stop(): Promise<void> }> {
  const topic = config.topics.silences;
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  } finally {
    await admin.disconnect();
  }
  let caughtUp!: () => void;
  const ready = new Promise<void>((r) => (caughtUp = r));
  const check = () => {
    if (ends.size === 0) caughtUp();
  };
  check();
  const consumer = await startResilientConsumer(kafka, {
    config: { groupId: `${config.kafka.clientId}-notify-silences-${randomUUID()}`, ...embeddedConsumerDefaults },
    subscribe: { topics: [topic], fromBeginning: true },
    run: {
      eachMessage: async ({ partition, message }) => {
        const end = ends.get(partition);
        const replay = end !== undefined && BigInt(message.offset) < end;
        applySilenceEvent(core, message.value, replay, log);
        changed();
        if (end !== undefined && BigInt(message.offset) + 1n >= end) {
          ends.delete(partition);
          check();
        }
      },
    },
  });
  await ready;
  return consumer;
}

function applySilenceEvent(core: NotifierCore, value: Buffer | null, replay: boolean, log: Logger): void {
  if (!value) return;
  const now = Date.now();
  try {
    const ev = JSON.parse(value.toString()) as { kind: 'silence'; silence: Silence } | { kind: 'ack'; ack: Ack };
    if (ev.kind === 'silence') {
      if (replay && ev.silence.endsAt < now - SILENCE_RETENTION_MS) return;
      const known = core.silences.get(ev.silence.id);
      if (known && known.updatedAt >= ev.silence.updatedAt) return;
      core.applySilence(ev.silence, now, replay);
    } else if (ev.kind === 'ack') {
      void core.applyAck(ev.ack, now, false);
    }
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'ignored an unreadable record on the silences topic');
  }
}
