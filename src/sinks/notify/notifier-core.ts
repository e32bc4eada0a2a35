/**
 * The notifier without Kafka or HTTP: alert events in, notifications out, state in a TaskStorage.
 * Time is passed in. Order of durability (the at-most-one-resend guarantee):
 *   ingest: alert + group state written  -> the caller may commit the input offsets;
 *   flush:  intent (notification + key) written -> send with retries -> delivery log, group state
 *           and intent removal written in one batch.
 * A crash between send and record leaves the intent, which `open` resends with the same key.
 */
import type { Logger } from '../../obs/logger.js';
import type { AlertEvent } from '../../model/types.js';
import { AckStore, type Ack } from './acks.js';
import { alertFromEvent, isResolved, transitionId, type NotifyAlert } from './alert.js';
import { RequestValidationError } from './errors.js';
import { buildNotification, dedupStage, muteStage } from './flush-stages.js';
import { GroupTable, type GroupState } from './group-table.js';
import { Inhibitor } from './inhibitor.js';
import { sendsResolved, type CompiledNotifyConfig } from './notify-config.js';
import { stableKey, type Notification } from './notification.js';
import { NotifierStore, type DeliveryRecord, type HistoryEntry, type Intent, type NotifyStorage, type PruneCounts, type StorageOp } from './notifier-store.js';
import { failed, type Receiver } from './receiver.js';
import { DEFAULT_RETRY, sendWithRetry, type RetryDeps, type RetryOptions } from './retry-stage.js';
import { matchRoutes } from './route-match.js';
import { SilenceStore, type Silence } from './silences.js';

export interface NotifierCoreOptions {
  readonly config: CompiledNotifyConfig;
  readonly receivers: ReadonlyMap<string, Receiver & { accepts?(n: Notification): boolean }>;
  readonly storage: NotifyStorage;
  /** Publishes a notification that could not be delivered (alerts.dlq). */
  readonly deadLetter: (n: Notification, reason: string) => Promise<void>;
  readonly notifyResolvedWhileSilenced: boolean;
  readonly retry?: RetryOptions;
  readonly retryDeps?: RetryDeps;
  readonly logger?: Logger;
  /** History entries kept in memory per alert (older ones stay on disk). */
  readonly historyLimit?: number;
  /** Observes every finished delivery (metrics, benchmarks). */
  readonly onDelivered?: (n: Notification, ok: boolean) => void;
}

const realRetryDeps: RetryDeps = { sleep: (ms) => new Promise((r) => setTimeout(r, ms)), random: Math.random };

export class NotifierCore {
  readonly groups = new GroupTable();
  readonly silences = new SilenceStore();
  readonly acks = new AckStore();
  private readonly inhibitor: Inhibitor;
  private readonly alerts = new Map<string, NotifyAlert>();
  private readonly history = new Map<string, HistoryEntry[]>();
  private readonly store: NotifierStore;
  private readonly inflight = new Set<Promise<void>>();
  private pendingIntents: Intent[] = [];
  private readonly flushing = new Set<string>();
  private readonly sendLock = new Mutex();

  constructor(private readonly o: NotifierCoreOptions) {
    this.inhibitor = new Inhibitor(o.config.inhibits);
    this.store = new NotifierStore(o.storage);
  }

  /** Loads the durable state. Call `resendPending` next, before consuming. */
  async open(): Promise<void> {
    const s = await this.store.load();
    for (const a of s.alerts) {
      this.alerts.set(a.fingerprint, a);
      this.inhibitor.observe(a);
    }
    for (const g of s.groups) this.groups.restore(g);
    for (const [fp, list] of s.history) this.history.set(fp, list.slice(-this.historyLimit));
    this.pendingIntents = s.intents;
  }

  /** Resends notifications whose send was not recorded before a crash (same idempotency key). */
  async resendPending(now: number): Promise<number> {
    const intents = this.pendingIntents;
    this.pendingIntents = [];
    for (const intent of intents) await this.deliver(intent, now);
    return intents.length;
  }

  private get historyLimit(): number {
    return this.o.historyLimit ?? 200;
  }

  /**
   * Takes alert events into the groups and writes them durably; once this resolves the caller may
   * commit their offsets. Replays (sequence not newer than the stored one) are ignored.
   */
  async ingest(events: readonly AlertEvent[], now: number): Promise<{ accepted: number; unrouted: number }> {
    const ops: StorageOp[] = [];
    const changed = new Map<string, GroupState>();
    let accepted = 0;
    let unrouted = 0;
    for (const e of events) {
      const a = alertFromEvent(e);
      const prev = this.alerts.get(a.fingerprint);
      if (prev && prev.sequence >= a.sequence) continue;
      accepted++;
      this.alerts.set(a.fingerprint, a);
      this.inhibitor.observe(a);
      ops.push(NotifierStore.alertOp(a));
      ops.push(this.addHistory(a.fingerprint, { at: now, type: 'transition', eventId: a.eventId, transition: a.transition, level: a.level, sequence: a.sequence }));
      const matches = matchRoutes(this.o.config, a.labels);
      if (matches.length === 0) unrouted++;
      for (const g of this.groups.insert(a, matches, now)) changed.set(g.key, g);
    }
    for (const [key, g] of changed) ops.push(NotifierStore.groupOp(key, g));
    if (ops.length) await this.store.write(ops);
    if (unrouted) this.o.logger?.warn({ unrouted }, 'alerts matched no route and there is no default receiver');
    return { accepted, unrouted };
  }

  /** Runs what is due at `now`: silence notices and group flushes. Resolves when they finish. */
  async tick(now: number): Promise<void> {
    const work: Promise<void>[] = [];
    const { started, ended } = this.silences.poll(now);
    for (const s of started) work.push(this.silenceNotices(s, 'created', now));
    for (const s of ended) {
      work.push(this.silenceNotices(s, 'expired', now));
      work.push(this.renotifyAfterSilence(s, now));
    }
    for (const g of this.groups.due(now)) {
      // One flush per group at a time: a slow delivery must not be overtaken by the next interval.
      if (this.flushing.has(g.key)) continue;
      this.flushing.add(g.key);
      work.push(this.track(this.flushGroup(g, now).finally(() => this.flushing.delete(g.key))));
    }
    await Promise.all(work);
  }

  /** The next time `tick` has something to do. */
  nextWakeup(now: number): number | undefined {
    let a: number | undefined;
    for (const g of this.groups.all()) {
      if (!this.flushing.has(g.key) && (a === undefined || g.nextFlushAt < a)) a = g.nextFlushAt;
    }
    const b = this.silences.nextChange(now);
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  /** Resolves when every flush in flight has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  private track(p: Promise<void>): Promise<void> {
    const t = p.catch((err) => this.o.logger?.error({ err }, 'flush failed')).finally(() => this.inflight.delete(t));
    this.inflight.add(t);
    return t;
  }

  private async flushGroup(g: GroupState, now: number): Promise<void> {
    this.groups.beginFlush(g, now);
    const snapshot = Object.values(g.alerts);
    const considered = snapshot.map(transitionId);
    const sendResolved = sendsResolved(this.o.config, g.receiver);
    const { send, muted } = muteStage(g, snapshot, now, {
      inhibitor: this.inhibitor,
      silences: this.silences,
      notifyResolvedWhileSilenced: this.o.notifyResolvedWhileSilenced,
    });
    const ops: StorageOp[] = [];
    for (const m of muted) {
      ops.push(this.addHistory(m.alert.fingerprint, { at: now, type: 'muted', receiver: g.receiver, eventId: m.alert.eventId, by: m.by }));
    }
    const { reason, last } = dedupStage(g, send, this.acks, sendResolved, now);
    if (!reason) {
      this.groups.completeFlush(g, null, considered);
      ops.push(NotifierStore.groupOp(g.key, this.groups.get(g.key)));
      await this.store.write(ops);
      return;
    }
    if (ops.length) await this.store.write(ops);
    const n = buildNotification(g, send, reason, now);
    await this.deliver({ notification: n, group: { key: g.key, considered, last } }, now);
  }

  /**
   * Intent -> retry -> send -> record (or dead letter). A send and the record of its success run
   * under one lock, so a crash can leave at most one sent-but-unrecorded notification, which
   * `resendPending` sends again with the same key. Backoff sleeps happen outside the lock.
   */
  private async deliver(intent: Intent, now: number): Promise<void> {
    const n = intent.notification;
    const receiver = this.o.receivers.get(n.receiver);
    await this.store.write([NotifierStore.intentOp(intent)]);
    let attempts = 0;
    const attemptOnce = () =>
      this.sendLock.run(async () => {
        attempts++;
        if (!receiver) return failed(`receiver "${n.receiver}" does not exist`, false);
        const r = await receiver.send(n);
        if (!r.error) await this.record(intent, { key: n.key, at: now, outcome: 'sent', attempts });
        return r;
      });
    const outcome = await sendWithRetry(attemptOnce, this.o.retry ?? DEFAULT_RETRY, {
      ...(this.o.retryDeps ?? realRetryDeps),
      onRetry: (attempt, error, delayMs) => this.o.logger?.warn({ receiver: n.receiver, attempt, delayMs, err: error.message }, 'notification failed; retrying'),
    });
    if (!outcome.ok) {
      this.o.logger?.error({ receiver: n.receiver, key: n.key, reason: outcome.reason }, 'notification dead-lettered');
      await this.o.deadLetter(n, outcome.reason);
      await this.record(intent, { key: n.key, at: now, outcome: 'dlq', attempts: outcome.attempts }, outcome.reason);
    }
    this.o.onDelivered?.(n, outcome.ok);
  }

  /** Delivery log, history, group state and intent removal in one batch. */
  private async record(intent: Intent, record: DeliveryRecord, reason?: string): Promise<void> {
    const n = intent.notification;
    const ops: StorageOp[] = [NotifierStore.intentDoneOp(n.key)];
    for (const a of alertsOf(n)) {
      if (n.kind === 'alerts') ops.push(NotifierStore.deliveryOp(a.eventId, n.receiver, record));
      ops.push(this.addHistory(a.fingerprint, { at: record.at, type: 'notification', receiver: n.receiver, key: n.key, outcome: record.outcome, attempts: record.attempts, eventId: a.eventId, ...(reason ? { reason } : {}) }));
    }
    if (intent.group) {
      const g = this.groups.get(intent.group.key);
      if (g) {
        this.groups.completeFlush(g, intent.group.last, intent.group.considered);
        ops.push(NotifierStore.groupOp(g.key, this.groups.get(g.key)));
      }
    }
    await this.store.write(ops);
  }

  private receiversOf(fingerprint: string): Set<string> {
    const out = new Set<string>();
    for (const g of this.groups.all()) if (g.alerts[fingerprint]) out.add(g.receiver);
    return out;
  }

  private async silenceNotices(s: Silence, action: 'created' | 'expired', now: number): Promise<void> {
    const byReceiver = new Map<string, NotifyAlert[]>();
    for (const g of this.groups.all()) {
      for (const a of Object.values(g.alerts)) {
        if (isResolved(a) || !this.silences.matches(s.id, a.labels)) continue;
        let list = byReceiver.get(g.receiver);
        if (!list) byReceiver.set(g.receiver, (list = []));
        if (!list.some((x) => x.fingerprint === a.fingerprint)) list.push(a);
      }
    }
    if (byReceiver.size === 0 && this.o.config.defaultReceiver) byReceiver.set(this.o.config.defaultReceiver, []);
    this.o.logger?.info({ silence: s.id, action, receivers: [...byReceiver.keys()] }, `silence ${action}`);
    for (const [receiver, alerts] of byReceiver) {
      const n: Notification = { kind: 'silence', key: stableKey('silence', s.id, action, receiver, s.updatedAt), receiver, action, silence: s, alerts, createdAt: now };
      if (this.o.receivers.get(receiver)?.accepts?.(n) === false) continue;
      await this.track(this.deliver({ notification: n }, now));
    }
  }

  /** When a silence ends, still-firing alerts it matched are notified again at once. */
  private async renotifyAfterSilence(s: Silence, now: number): Promise<void> {
    const ops: StorageOp[] = [];
    for (const g of this.groups.all()) {
      const hit = Object.values(g.alerts).filter((a) => !isResolved(a) && this.silences.matches(s.id, a.labels));
      if (hit.length === 0) continue;
      if (g.last) {
        const ids = new Set(hit.map(transitionId));
        g.last = { ...g.last, firing: g.last.firing.filter((id) => !ids.has(id)) };
      }
      this.groups.flushSoon(g, now);
      ops.push(NotifierStore.groupOp(g.key, g));
    }
    if (ops.length) await this.store.write(ops);
  }

  /** Applies a silence (from the silences topic or the API). `announced`: replayed history, no notice. */
  applySilence(s: Silence, now: number, announced = false): void {
    this.silences.upsert(s, now, announced);
  }

  /** Validates and builds an ack of the alert's current transition. */
  makeAck(fingerprint: string, author: string, comment: string, now: number): Ack {
    const a = this.alerts.get(fingerprint);
    if (!a) throw new RequestValidationError('fingerprint', `no alert with fingerprint "${fingerprint}"`);
    if (isResolved(a)) throw new RequestValidationError('fingerprint', `alert "${fingerprint}" is resolved; only firing alerts can be acknowledged`);
    return { fingerprint, eventId: a.eventId, author, comment, at: now };
  }

  /** Applies an ack; `forward` sends it to the alert's receivers (PagerDuty acknowledge, email notice). */
  async applyAck(ack: Ack, now: number, forward: boolean): Promise<void> {
    const known = this.acks.get(ack.fingerprint);
    if (known && known.at > ack.at) return;
    this.acks.put(ack);
    // The silences topic is replayed at every start: an ack already in the history is not new.
    if (this.historyOf(ack.fingerprint).some((h) => h.type === 'ack' && h.at === ack.at && h.eventId === ack.eventId)) return;
    await this.store.write([this.addHistory(ack.fingerprint, { at: ack.at, type: 'ack', eventId: ack.eventId, author: ack.author, comment: ack.comment })]);
    const alert = this.alerts.get(ack.fingerprint);
    if (!forward || !alert || alert.eventId !== ack.eventId) return;
    for (const receiver of this.receiversOf(ack.fingerprint)) {
      const n: Notification = { kind: 'ack', key: stableKey('ack', ack.fingerprint, ack.eventId, receiver, ack.at), receiver, alert, author: ack.author, comment: ack.comment, createdAt: now };
      if (this.o.receivers.get(receiver)?.accepts?.(n) === false) continue;
      await this.track(this.deliver({ notification: n }, now));
    }
  }

  private addHistory(fingerprint: string, e: HistoryEntry): StorageOp {
    let list = this.history.get(fingerprint);
    if (!list) this.history.set(fingerprint, (list = []));
    list.push(e);
    if (list.length > this.historyLimit) list.splice(0, list.length - this.historyLimit);
    return this.store.historyOp(fingerprint, e);
  }

  /**
   * Forgets what is older than `retentionMs` at `now`: delivery records, history entries, and alerts
   * that resolved before then and are in no aggregation group any more. The retention must exceed how
   * far back the alerts topic can be replayed: a forgotten alert's old transitions would be new again.
   */
  async prune(now: number, retentionMs: number): Promise<PruneCounts> {
    const cutoff = now - retentionMs;
    // Asked at the moment of deleting: an alert that fired again or joined a group meanwhile stays.
    const expired = (fp: string) => {
      const a = this.alerts.get(fp);
      if (!a || !isResolved(a) || a.endsAt === null || a.endsAt >= cutoff) return false;
      for (const g of this.groups.all()) if (g.alerts[fp]) return false;
      return true;
    };
    const counts = await this.store.prune(cutoff, this.historyLimit, expired);
    for (const fp of [...this.alerts.keys()]) {
      if (!expired(fp)) continue;
      this.alerts.delete(fp);
      this.history.delete(fp);
    }
    for (const [fp, list] of this.history) {
      const kept = list.filter((e) => e.at >= cutoff);
      if (kept.length === 0) this.history.delete(fp);
      else if (kept.length < list.length) this.history.set(fp, kept);
    }
    return counts;
  }

  /** Current alerts (latest transition per fingerprint), with ack and silence state. */
  currentAlerts(now: number): { alert: NotifyAlert; acked: boolean; silencedBy: string[]; inhibitedBy?: string }[] {
    return [...this.alerts.values()].map((alert) => {
      const inhibitedBy = isResolved(alert) ? undefined : this.inhibitor.inhibitedBy(alert.fingerprint, alert.labels);
      return {
        alert,
        acked: this.acks.isAcked(alert.fingerprint, alert.eventId),
        silencedBy: this.silences.mutedBy(alert.labels, now),
        ...(inhibitedBy ? { inhibitedBy } : {}),
      };
    });
  }

  alert(fingerprint: string): NotifyAlert | undefined {
    return this.alerts.get(fingerprint);
  }

  historyOf(fingerprint: string): readonly HistoryEntry[] {
    return this.history.get(fingerprint) ?? [];
  }

  async close(): Promise<void> {
    await this.idle();
    await this.store.close();
  }
}

function alertsOf(n: Notification): readonly NotifyAlert[] {
  if (n.kind === 'ack') return [n.alert];
  return n.alerts;
}

/** A promise-chain mutex: `run` executes one function at a time, in call order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
