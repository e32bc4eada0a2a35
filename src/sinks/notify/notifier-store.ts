/**
 * The notifier's durable state over a TaskStorage (LevelDB in production, memory in tests):
 *   a/<fingerprint>              latest transition of each alert (replays with a lower sequence are dropped)
 *   g/<groupKey>                 aggregation groups with their timers and last notification
 *   i/<idempotencyKey>           notifications being sent (intent written before the send)
 *   d/<eventId>/<receiver>       the delivery log: which transition reached which receiver, with which key
 *   h/<fingerprint>/<ms>/<n>     alert history: transitions, notifications, acks
 * Writes are serialised so a later snapshot of a group never lands before an earlier one.
 * `prune` keeps it bounded (as Alertmanager's --data.retention does for its notification log).
 */
import type { NotifyAlert } from './alert.js';
import type { GroupState, LastNotification } from './group-table.js';
import type { Notification } from './notification.js';

/** A notification on its way; resent with the same key after a crash. */
export interface Intent {
  readonly notification: Notification;
  /** Applied to the group when the send is recorded. */
  readonly group?: { readonly key: string; readonly considered: readonly string[]; readonly last: LastNotification };
}

export interface DeliveryRecord {
  readonly key: string;
  readonly at: number;
  readonly outcome: 'sent' | 'dlq';
  readonly attempts: number;
}

export type HistoryEntry =
  | { readonly at: number; readonly type: 'transition'; readonly eventId: string; readonly transition: string; readonly level: string | null; readonly sequence: number }
  | { readonly at: number; readonly type: 'notification'; readonly receiver: string; readonly key: string; readonly outcome: 'sent' | 'dlq'; readonly attempts: number; readonly eventId: string; readonly reason?: string }
  | { readonly at: number; readonly type: 'muted'; readonly receiver: string; readonly eventId: string; readonly by: string }
  | { readonly at: number; readonly type: 'ack'; readonly eventId: string; readonly author: string; readonly comment: string };

/** What one `prune` deleted. */
export interface PruneCounts {
  deliveries: number;
  history: number;
  alerts: number;
}

export interface LoadedState {
  alerts: NotifyAlert[];
  groups: GroupState[];
  intents: Intent[];
  history: Map<string, HistoryEntry[]>;
}

/** One write of an atomic batch (same shape as src/state's StorageOp). */
export type StorageOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

/**
 * What the notifier needs from durable storage: the subset of src/state's TaskStorage it uses, so
 * LevelTaskStorage (LevelDB) or MemoryTaskStorage plug in unchanged.
 */
export interface NotifyStorage {
  entries(): AsyncIterable<[string, Buffer]>;
  get(key: string): Promise<Buffer | undefined>;
  /** Atomic: all or nothing, also across a crash. */
  write(ops: StorageOp[]): Promise<void>;
  close(): Promise<void>;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const pad = (n: number) => String(n).padStart(15, '0');

export class NotifierStore {
  private chain: Promise<void> = Promise.resolve();
  private historySeq = 0;
  /** Distinguishes history keys written at the same millisecond by different process lifetimes. */
  private readonly incarnation = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');

  constructor(private readonly storage: NotifyStorage) {}

  async load(): Promise<LoadedState> {
    const out: LoadedState = { alerts: [], groups: [], intents: [], history: new Map() };
    for await (const [key, value] of this.storage.entries()) {
      const kind = key.slice(0, 2);
      if (kind === 'a/') out.alerts.push(JSON.parse(value.toString()));
      else if (kind === 'g/') out.groups.push(JSON.parse(value.toString()));
      else if (kind === 'i/') out.intents.push(JSON.parse(value.toString()));
      else if (kind === 'h/') {
        const fp = key.split('/')[1]!;
        let list = out.history.get(fp);
        if (!list) out.history.set(fp, (list = []));
        list.push(JSON.parse(value.toString()));
      }
    }
    for (const list of out.history.values()) list.sort((x, y) => x.at - y.at);
    return out;
  }

  /** Writes ops in one atomic batch, after every earlier write. */
  write(ops: StorageOp[]): Promise<void> {
    const next = this.chain.then(() => this.storage.write(ops));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Deletes delivery records and history entries older than `cutoff`, history beyond the newest
   * `historyLimit` entries of each alert, and the alerts whose fingerprint `expired` selects. `expired`
   * is asked again right before each batch is queued, so an alert that fired again meanwhile stays.
   */
  async prune(cutoff: number, historyLimit: number, expired: (fingerprint: string) => boolean): Promise<PruneCounts> {
    const counts: PruneCounts = { deliveries: 0, history: 0, alerts: 0 };
    const historyKeys = new Map<string, { key: string; at: number }[]>();
    let keys: string[] = [];
    const flush = async () => {
      const ops: StorageOp[] = [];
      for (const key of keys) {
        if (key.startsWith('a/')) {
          if (!expired(key.slice(2))) continue;
          counts.alerts++;
        }
        ops.push({ type: 'del', key });
      }
      keys = [];
      if (ops.length) await this.write(ops);
    };
    const del = async (key: string) => {
      keys.push(key);
      if (keys.length >= 1000) await flush();
    };
    for await (const [key, value] of this.storage.entries()) {
      const kind = key.slice(0, 2);
      if (kind === 'd/') {
        if ((JSON.parse(value.toString()) as DeliveryRecord).at < cutoff) {
          counts.deliveries++;
          await del(key);
        }
      } else if (kind === 'h/') {
        const [, fp, at] = key.split('/');
        let list = historyKeys.get(fp!);
        if (!list) historyKeys.set(fp!, (list = []));
        list.push({ key, at: Number(at) });
      } else if (kind === 'a/' && expired(key.slice(2))) {
        await del(key);
      }
    }
    for (const list of historyKeys.values()) {
      list.sort((x, y) => x.at - y.at || (x.key < y.key ? -1 : 1));
      for (let i = 0; i < list.length; i++) {
        if (list[i]!.at < cutoff || i < list.length - historyLimit) {
          counts.history++;
          await del(list[i]!.key);
        }
      }
    }
    await flush();
    return counts;
  }

  async delivery(eventId: string, receiver: string): Promise<DeliveryRecord | undefined> {
    const v = await this.storage.get(`d/${eventId}/${receiver}`);
    return v ? JSON.parse(v.toString()) : undefined;
  }

  close(): Promise<void> {
    return this.chain.then(() => this.storage.close());
  }

  static alertOp(a: NotifyAlert): StorageOp {
    return { type: 'put', key: `a/${a.fingerprint}`, value: json(a) };
  }

  static groupOp(key: string, g: GroupState | undefined): StorageOp {
    return g ? { type: 'put', key: `g/${key}`, value: json(g) } : { type: 'del', key: `g/${key}` };
  }

  static intentOp(intent: Intent): StorageOp {
    return { type: 'put', key: `i/${intent.notification.key}`, value: json(intent) };
  }

  static intentDoneOp(key: string): StorageOp {
    return { type: 'del', key: `i/${key}` };
  }

  static deliveryOp(eventId: string, receiver: string, r: DeliveryRecord): StorageOp {
    return { type: 'put', key: `d/${eventId}/${receiver}`, value: json(r) };
  }

  historyOp(fingerprint: string, e: HistoryEntry): StorageOp {
    this.historySeq = (this.historySeq + 1) % 1_000_000;
    return { type: 'put', key: `h/${fingerprint}/${pad(e.at)}/${this.incarnation}${String(this.historySeq).padStart(6, '0')}`, value: json(e) };
  }
}
