/**
 * Sends a task's queued messages (changelog records, outputs, side records) to Kafka in bounded
 * requests with acks=-1, and reports the offset of the last record written to each explicitly
 * chosen partition (the runtime needs the changelog offset of each commit marker).
 */
import type { Message, Producer } from 'kafkajs';
import { TopologyError } from '../api.js';
import type { QueuedMessage } from './message-codec.js';

/** The part of a kafkajs producer the sender uses. */
export type ProducerLike = Pick<Producer, 'sendBatch'>;

export interface RecordSenderOptions {
  /** Messages per request (default 500). */
  maxMessagesPerRequest?: number;
}

export class RecordSender {
  constructor(
    private readonly producer: () => ProducerLike | null,
    private readonly options: RecordSenderOptions = {},
  ) {}

  /** Sends `messages` in order; returns the last offset written per `topic/partition`. */
  async send(messages: QueuedMessage[]): Promise<Map<string, bigint>> {
    const last = new Map<string, bigint>();
    if (messages.length === 0) return last;
    const producer = this.producer();
    if (!producer) throw new TopologyError('Runtime is not started', 'NOT_STARTED');
    const max = this.options.maxMessagesPerRequest ?? 500;
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of messages) {
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push({
        key: message.key,
        value: message.value,
        ...(message.partition !== undefined ? { partition: message.partition } : {}),
        ...(message.headers ? { headers: message.headers } : {}),
        ...(message.timestamp !== undefined && message.timestamp >= 0 ? { timestamp: String(Math.trunc(message.timestamp)) } : {}),
      });
    }
    let chunk: Array<{ topic: string; messages: Message[] }> = [];
    let size = 0;
    for (const [topic, list] of byTopic) {
      for (let i = 0; i < list.length; i += max) {
        const part = list.slice(i, i + max);
        chunk.push({ topic, messages: part });
        size += part.length;
        if (size >= max) {
          await this.sendChunk(producer, chunk, last);
          chunk = [];
          size = 0;
        }
      }
    }
    if (chunk.length) await this.sendChunk(producer, chunk, last);
    return last;
  }

  private async sendChunk(producer: ProducerLike, chunk: Array<{ topic: string; messages: Message[] }>, last: Map<string, bigint>): Promise<void> {
    const results = await producer.sendBatch({ topicMessages: chunk, acks: -1 });
    // Only explicitly partitioned messages can be attributed (changelog records always are).
    const counts = new Map<string, number>();
    for (const tm of chunk) for (const m of tm.messages) if (m.partition !== undefined) counts.set(`${tm.topic}/${m.partition}`, (counts.get(`${tm.topic}/${m.partition}`) ?? 0) + 1);
    for (const r of results) {
      const n = counts.get(`${r.topicName}/${r.partition}`);
      if (n && r.baseOffset !== undefined) last.set(`${r.topicName}/${r.partition}`, BigInt(r.baseOffset) + BigInt(n) - 1n);
    }
  }
}
