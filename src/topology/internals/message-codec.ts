/**
 * Binary encoding of queued output messages (topic + OutputMessage) for the task's outbox in LevelDB:
 * outputs are stored in the same batch as the state and offsets, so a crash between the LevelDB write
 * and the send only delays them (they are re-sent at restart with the same ids).
 */
import type { OutputMessage } from '../api.js';

export interface QueuedMessage {
  topic: string;
  message: OutputMessage;
}

function sizeOf(b: Buffer | null): number {
  return 4 + (b ? b.length : 0);
}

/** Encodes a list of messages into one buffer. */
export function encodeMessages(list: QueuedMessage[]): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(list.length, 0);
  parts.push(header);
  for (const { topic, message } of list) {
    const topicBytes = Buffer.from(topic);
    const headers = Object.entries(message.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const);
    let size = 4 + topicBytes.length + 4 + 8 + sizeOf(message.key) + sizeOf(message.value) + 4;
    for (const [k, v] of headers) size += 8 + k.length + v.length;
    const b = Buffer.allocUnsafe(size);
    let o = 0;
    const bytes = (x: Buffer | null) => {
      if (x === null) {
        b.writeInt32BE(-1, o);
        o += 4;
      } else {
        b.writeInt32BE(x.length, o);
        o += 4;
        x.copy(b, o);
        o += x.length;
      }
    };
    bytes(topicBytes);
    b.writeInt32BE(message.partition ?? -1, o);
    o += 4;
    b.writeDoubleBE(message.timestamp ?? -1, o);
    o += 8;
    bytes(message.key);
    bytes(message.value);
    b.writeUInt32BE(headers.length, o);
    o += 4;
    for (const [k, v] of headers) {
      bytes(k);
      bytes(v);
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Inverse of encodeMessages. */
export function decodeMessages(b: Buffer): QueuedMessage[] {
  let o = 0;
  const n = b.readUInt32BE(o);
  o += 4;
  const bytes = (): Buffer | null => {
    const len = b.readInt32BE(o);
    o += 4;
    if (len < 0) return null;
    const x = Buffer.from(b.subarray(o, o + len));
    o += len;
    return x;
  };
  const out: QueuedMessage[] = [];
  for (let i = 0; i < n; i++) {
    const topic = bytes()!.toString();
    const partition = b.readInt32BE(o);
    o += 4;
    const timestamp = b.readDoubleBE(o);
    o += 8;
    const key = bytes();
    const value = bytes();
    const hn = b.readUInt32BE(o);
    o += 4;
    const message: OutputMessage = { key, value };
    if (partition >= 0) message.partition = partition;
    if (timestamp >= 0) message.timestamp = timestamp;
    if (hn > 0) {
      message.headers = {};
      for (let j = 0; j < hn; j++) {
        const k = bytes()!.toString();
        message.headers[k] = bytes()!.toString();
      }
    }
    out.push({ topic, message });
  }
  return out;
}

/** An outbox entry: the keys of the store entries a commit changed, and its queued messages. */
export interface PendingOutbox {
  changed: string[];
  messages: QueuedMessage[];
}

export function encodeOutbox(changed: string[], messages: QueuedMessage[]): Buffer {
  const keys = Buffer.from(JSON.stringify(changed));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(keys.length, 0);
  return Buffer.concat([head, keys, encodeMessages(messages)]);
}

export function decodeOutbox(b: Buffer): PendingOutbox {
  const n = b.readUInt32BE(0);
  return { changed: JSON.parse(b.subarray(4, 4 + n).toString()) as string[], messages: decodeMessages(b.subarray(4 + n)) };
}
