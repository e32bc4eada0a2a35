/** Test helpers: alert events, a recording receiver, a core on memory storage with a simulated clock. */
import type { AlertEvent, Transition } from '../../../src/model/types.js';
import type { NotifyStorage, StorageOp } from '../../../src/sinks/notify/notifier-store.js';
import { NotifierCore } from '../../../src/sinks/notify/notifier-core.js';
import { compileNotifyConfig, type NotifyConfig } from '../../../src/sinks/notify/notify-config.js';
import type { Notification } from '../../../src/sinks/notify/notification.js';
import type { Receiver, SendResult } from '../../../src/sinks/notify/receiver.js';

/** Storage in a Map that survives "restarts" (a new core over the same map). */
export class MemoryTaskStorage implements NotifyStorage {
  constructor(readonly data: Map<string, Buffer> = new Map()) {}
  async *entries(): AsyncIterable<[string, Buffer]> {
    for (const k of [...this.data.keys()].sort()) yield [k, this.data.get(k)!];
  }
  async get(key: string): Promise<Buffer | undefined> {
    return this.data.get(key);
  }
  async write(ops: StorageOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.data.set(op.key, op.value);
      else this.data.delete(op.key);
    }
  }
  async close(): Promise<void> {}
}

let counter = 0;

export function event(
  labels: Record<string, string>,
  transition: Transition = 'FIRING',
  opts: { sequence?: number; fingerprint?: string; at?: number; annotations?: Record<string, string> } = {},
): AlertEvent {
  const fingerprint = opts.fingerprint ?? Object.entries(labels).filter(([k]) => k !== 'severity').map(([k, v]) => `${k}=${v}`).sort().join(',');
  const sequence = opts.sequence ?? 1;
  return {
    event_id: `${fingerprint}#${sequence}#${++counter}`,
    fingerprint,
    sequence,
    transition,
    alertname: labels.alertname ?? 'Test',
    level: labels.severity ?? null,
    labels,
    annotations: opts.annotations ?? {},
    value: 1,
    rule_file: 'test.rules',
    rule_hash: 'h',
    window_start: (opts.at ?? 0) - 60_000,
    window_end: opts.at ?? 0,
    watermark: opts.at ?? 0,
    active_since: opts.at ?? 0,
    inputs: {},
  };
}

export class RecordingReceiver implements Receiver {
  readonly type = 'webhook';
  readonly sent: Notification[] = [];
  /** Results to return before succeeding (e.g. [{retryable:true,error}]). */
  failures: SendResult[] = [];
  constructor(readonly name: string) {}
  async send(n: Notification): Promise<SendResult> {
    const f = this.failures.shift();
    if (f) return f;
    this.sent.push(n);
    return { retryable: false };
  }
}

export function makeCore(config: NotifyConfig, opts: { storage?: MemoryTaskStorage; notifyResolvedWhileSilenced?: boolean; maxAttempts?: number } = {}) {
  const compiled = compileNotifyConfig(config);
  const receivers = new Map<string, RecordingReceiver>();
  for (const r of config.receivers) receivers.set(r.name, new RecordingReceiver(r.name));
  const dead: { n: Notification; reason: string }[] = [];
  const storage = opts.storage ?? new MemoryTaskStorage();
  const core = new NotifierCore({
    config: compiled,
    receivers,
    storage,
    deadLetter: async (n, reason) => {
      dead.push({ n, reason });
    },
    notifyResolvedWhileSilenced: opts.notifyResolvedWhileSilenced ?? true,
    retry: { maxAttempts: opts.maxAttempts ?? 3, baseMs: 10, maxMs: 100 },
    retryDeps: { sleep: async () => undefined, random: () => 0.5 },
  });
  return { core, receivers, dead, storage };
}

export const webhook = (name: string) => ({ name, type: 'webhook' as const, url: 'http://unused.invalid' });
