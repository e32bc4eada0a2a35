/**
 * The pure stages of a group flush, in order: mute (inhibition + silences) -> dedup -> build the
 * notification. Sending, retrying and recording are in notifier-core.ts.
 */
import type { NotifyAlert } from './alert.js';
import { isResolved, transitionId } from './alert.js';
import type { AckStore } from './acks.js';
import { needsUpdate, type NotifyReason } from './dedup.js';
import type { GroupState, LastNotification } from './group-table.js';
import type { Inhibitor } from './inhibitor.js';
import { stableKey, type AlertNotification } from './notification.js';
import type { SilenceStore } from './silences.js';

export interface MuteResult {
  readonly send: NotifyAlert[];
  /** Alerts left out, with the silence id or the inhibiting fingerprint. */
  readonly muted: { alert: NotifyAlert; by: string }[];
}

export interface MuteDeps {
  readonly inhibitor: Inhibitor;
  readonly silences: SilenceStore;
  readonly notifyResolvedWhileSilenced: boolean;
}

function wasNotifiedFiring(last: LastNotification | null, fingerprint: string): boolean {
  return last !== null && last.firing.some((id) => id.startsWith(`${fingerprint}@`));
}

/**
 * Mute stage. A firing alert is muted by an active silence or an inhibiting alert. A resolved alert
 * is sent only to a receiver that was told it was firing; a silence mutes it only when
 * notifyResolvedWhileSilenced is off (inhibition never hides a resolution the receiver needs).
 */
export function muteStage(g: GroupState, alerts: readonly NotifyAlert[], now: number, d: MuteDeps): MuteResult {
  const send: NotifyAlert[] = [];
  const muted: MuteResult['muted'] = [];
  for (const a of alerts) {
    const silencedBy = d.silences.mutedBy(a.labels, now)[0];
    if (isResolved(a)) {
      if (!wasNotifiedFiring(g.last, a.fingerprint)) continue;
      if (silencedBy && !d.notifyResolvedWhileSilenced) muted.push({ alert: a, by: `silence ${silencedBy}` });
      else send.push(a);
      continue;
    }
    const inhibitedBy = silencedBy ? undefined : d.inhibitor.inhibitedBy(a.fingerprint, a.labels);
    if (silencedBy) muted.push({ alert: a, by: `silence ${silencedBy}` });
    else if (inhibitedBy) muted.push({ alert: a, by: `inhibited by ${inhibitedBy}` });
    else send.push(a);
  }
  return { send, muted };
}

export interface DedupResult {
  readonly reason: NotifyReason | null;
  readonly last: LastNotification;
}

/** Dedup stage: what the group's last notification says about sending `send` now. */
export function dedupStage(g: GroupState, send: readonly NotifyAlert[], acks: AckStore, sendResolved: boolean, now: number): DedupResult {
  const firingAlerts = send.filter((a) => !isResolved(a));
  const firing = firingAlerts.map(transitionId).sort();
  const resolved = send.filter(isResolved).map(transitionId).sort();
  const reason = needsUpdate({
    last: g.last,
    firing,
    resolved,
    sendResolved,
    repeatIntervalMs: g.timings.repeatIntervalMs,
    allFiringAcked: firingAlerts.length > 0 && firingAlerts.every((a) => acks.isAcked(a.fingerprint, a.eventId)),
    now,
  });
  return { reason, last: { firing, resolved, at: now } };
}

/** The notification of a flush; its key depends only on what it says (and the time, for repeats). */
export function buildNotification(g: GroupState, send: readonly NotifyAlert[], reason: NotifyReason, now: number): AlertNotification {
  const ids = send.map(transitionId).sort();
  const key = stableKey(g.receiver, g.key, ...ids, reason === 'repeat interval elapsed' ? `repeat@${now}` : '');
  const alerts = [...send].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
  return {
    kind: 'alerts',
    key,
    receiver: g.receiver,
    groupKey: g.key,
    routeIndex: g.routeIndex,
    groupLabels: g.groupLabels,
    alerts,
    reason,
    createdAt: now,
  };
}
