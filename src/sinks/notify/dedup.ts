/**
 * The dedup decision of Alertmanager's DedupStage, on transition identities (fingerprint@event id),
 * so an escalation or deescalation (a new event for the same fingerprint) counts as a change.
 * Acknowledged alerts do not cause repeats.
 */
import type { LastNotification } from './group-table.js';

export type NotifyReason =
  | 'first notification'
  | 'new alerts in group'
  | 'all alerts resolved'
  | 'new resolved alerts'
  | 'repeat interval elapsed';

export interface DedupInput {
  readonly last: LastNotification | null;
  /** Transition ids of the firing alerts about to be sent (after muting). */
  readonly firing: readonly string[];
  /** Transition ids of the resolved alerts about to be sent. */
  readonly resolved: readonly string[];
  readonly sendResolved: boolean;
  readonly repeatIntervalMs: number;
  /** True when every firing alert is acknowledged in its current transition. */
  readonly allFiringAcked: boolean;
  readonly now: number;
}

/** Why the group must be notified now, or null when nothing needs sending. */
export function needsUpdate(i: DedupInput): NotifyReason | null {
  // Everything muted: nothing to say (not a resolution).
  if (i.firing.length === 0 && i.resolved.length === 0) return null;
  if (!i.last) return i.firing.length > 0 ? 'first notification' : null;
  const lastFiring = new Set(i.last.firing);
  if (!i.firing.every((id) => lastFiring.has(id))) {
    return i.last.firing.length === 0 ? 'first notification' : 'new alerts in group';
  }
  if (i.firing.length === 0) return i.last.firing.length > 0 && i.sendResolved ? 'all alerts resolved' : null;
  const lastResolved = new Set(i.last.resolved);
  if (i.sendResolved && !i.resolved.every((id) => lastResolved.has(id))) return 'new resolved alerts';
  if (i.allFiringAcked) return null;
  return i.last.at + i.repeatIntervalMs <= i.now ? 'repeat interval elapsed' : null;
}
