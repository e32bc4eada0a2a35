/**
 * Sends a task's queued messages (changelog records, outputs, side records) to Kafka with acks=-1, in
 * requests bounded by bytes as well as by count, and reports the offset of the last record written to
 * each explicitly chosen partition (the runtime needs the changelog offset of each commit marker).
 *
 * Bounds: a broker refuses a record batch (one per partition per request) larger than its
 * `message.max.bytes` (default ~1 MiB); kafkajs puts everything of one `sendBatch` into one request per
 * broker. So the uncompressed size of a request is kept under `maxRequestBytes` (config
 * `kafka.maxMessageBytes`), which bounds every batch in it whatever the compression; a single record
 * larger than that is refused here with RECORD_TOO_LARGE (the task splits its changelog values so that
 * this never happens to them; see changelog-parts.ts). Per-partition order is kept: messages of one
 * topic go out in order, request after request.
 */
import { CompressionTypes, type Message, type Producer } from 'kafkajs';
import { TopologyError } from '../api.js';
import type { QueuedMessage } from './message-codec.js';

/** The part of a kafkajs producer the sender uses. */
export type ProducerLike = Pick<Producer, 'sendBatch'>;

/** Bytes a record costs in a batch beyond its key, value and headers (varints, attributes; generous). */
const RECORD_OVERHEAD = 32;
/** Room for the record batch header and the request's framing. */
const REQUEST_OVERHEAD = 1024;

export interface RecordSenderOptions {
  /** Messages per request (default 500). */
  maxMessagesPerRequest?: number;
  /** Uncompressed bytes per request (default 1 MiB, the broker's default message.max.bytes). */
  maxRequestBytes?: number;
  /** Topics whose requests are compressed (GZIP, which kafkajs supports without a codec). */
  compressed?: (topic: string) => boolean;
}

/** What the sender did (for measurements and tests). */
export interface SendStats {
  requests: number;
  bytes: number;
  largestRequestBytes: number;
  largestRecordBytes: number;
}

/** Approximate bytes of one message in a record batch (uncompressed). */
export function messageBytes(m: { key: Buffer | null; value: Buffer | null; headers?: Record<string, string> }): number {
  let n = RECORD_OVERHEAD + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  if (m.headers) for (const k in m.headers) n += 8 + Buffer.byteLength(k) + Buffer.byteLength(m.headers[k]!);
  return n;
}

export class RecordSender {
  /** Totals since the sender was made. */
  readonly stats: SendStats = { requests: 0, bytes: 0, largestRequestBytes: 0, largestRecordBytes: 0 };

  constructor(
    private readonly producer: () => ProducerLike | null,
    private readonly options: RecordSenderOptions = {},
  ) {}

  /** Sends `messages` in order per topic; returns the last offset written per `topic/partition`. */
  async send(messages: QueuedMessage[]): Promise<Map<string, bigint>> {
    const last = new Map<string, bigint>();
    if (messages.length === 0) return last;
    const producer = this.producer();
    if (!producer) throw new TopologyError('Runtime is not started', 'NOT_STARTED');
    const maxCount = this.options.maxMessagesPerRequest ?? 500;
    const maxBytes = (this.options.maxRequestBytes ?? 1024 * 1024) - REQUEST_OVERHEAD;
    const compressed = this.options.compressed ?? (() => false);
    // One queue of requests per compression kind; topics keep their order within their kind.
    for (const compress of [true, false]) {
      // One entry per topic: kafkajs keeps only the last entry of a topic that appears twice in a request.
      let request = new Map<string, Message[]>();
      let count = 0;
      let bytes = 0;
      const flush = async () => {
        if (count === 0) return;
        await this.sendRequest(producer, [...request].map(([topic, list]) => ({ topic, messages: list })), compress, bytes, last);
        request = new Map();
        count = 0;
        bytes = 0;
      };
      for (const { topic, message } of messages) {
        if (compressed(topic) !== compress) continue;
        const size = messageBytes(message);
        if (size > maxBytes) throw new TopologyError(`A record for "${topic}" is ${size} bytes, over the limit of ${maxBytes} (kafka.maxMessageBytes)`, 'RECORD_TOO_LARGE');
        if (count + 1 > maxCount || bytes + size > maxBytes) await flush();
        let list = request.get(topic);
        if (!list) request.set(topic, (list = []));
        list.push(toKafka(message));
        count++;
        bytes += size;
        if (size > this.stats.largestRecordBytes) this.stats.largestRecordBytes = size;
      }
      await flush();
    }
    return last;
  }

  private async sendRequest(producer: ProducerLike, chunk: Array<{ topic: string; messages: Message[] }>, compress: boolean, bytes: number, last: Map<string, bigint>): Promise<void> {
    const results = await producer.sendBatch({ topicMessages: chunk, acks: -1, ...(compress ? { compression: CompressionTypes.GZIP } : {}) });
    this.stats.requests++;
    this.stats.bytes += bytes;
    if (bytes > this.stats.largestRequestBytes) this.stats.largestRequestBytes = bytes;
    // Only explicitly partitioned messages can be attributed (changelog records always are).
    const counts = new Map<string, number>();
    for (const tm of chunk) for (const m of tm.messages) if (m.partition !== undefined) counts.set(`${tm.topic}/${m.partition}`, (counts.get(`${tm.topic}/${m.partition}`) ?? 0) + 1);
    for (const r of results) {
      const n = counts.get(`${r.topicName}/${r.partition}`);
      if (n && r.baseOffset !== undefined) last.set(`${r.topicName}/${r.partition}`, BigInt(r.baseOffset) + BigInt(n) - 1n);
    }
  }
}

function toKafka(message: QueuedMessage['message']): Message {
  return {
    key: message.key,
    value: message.value,
    ...(message.partition !== undefined ? { partition: message.partition } : {}),
    ...(message.headers ? { headers: message.headers } : {}),
    ...(message.timestamp !== undefined && message.timestamp >= 0 ? { timestamp: String(Math.trunc(message.timestamp)) } : {}),
  };
}
