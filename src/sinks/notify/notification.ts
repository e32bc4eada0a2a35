/**
 * What the pipeline hands to a receiver: one notification per group flush (or one notice), with a
 * deterministic idempotency key. The key travels as PagerDuty dedup context, email Message-ID and
 * webhook `Idempotency-Key`, so a resend after a crash carries the same key as the original.
 */
import { createHash } from 'node:crypto';
import type { NotifyAlert } from './alert.js';
import { isResolved } from './alert.js';
import type { NotifyReason } from './dedup.js';
import type { Silence } from './silences.js';

export interface AlertNotification {
  readonly kind: 'alerts';
  readonly key: string;
  readonly receiver: string;
  readonly groupKey: string;
  readonly routeIndex: number;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly alerts: readonly NotifyAlert[];
  /** Alerts left out by a receiver limit are counted by the receiver itself. */
  readonly reason: NotifyReason;
  readonly createdAt: number;
}

/** A notice about a silence (created / expired), sent to the receivers of the alerts it matches. */
export interface SilenceNotice {
  readonly kind: 'silence';
  readonly key: string;
  readonly receiver: string;
  readonly action: 'created' | 'expired';
  readonly silence: Silence;
  readonly alerts: readonly NotifyAlert[];
  readonly createdAt: number;
}

/** An acknowledgement forwarded to receivers that understand it (PagerDuty `acknowledge`). */
export interface AckNotice {
  readonly kind: 'ack';
  readonly key: string;
  readonly receiver: string;
  readonly alert: NotifyAlert;
  readonly author: string;
  readonly comment: string;
  readonly createdAt: number;
}

export type Notification = AlertNotification | SilenceNotice | AckNotice;

export function notificationStatus(n: AlertNotification): 'firing' | 'resolved' {
  return n.alerts.some((a) => !isResolved(a)) ? 'firing' : 'resolved';
}

/** sha256 of the parts, hex: stable across processes. */
export function stableKey(...parts: readonly (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Labels with the same value in every alert (Alertmanager's commonLabels / commonAnnotations). */
export function commonOf(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = { ...maps[0] };
  for (const m of maps.slice(1)) {
    for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  }
  return out;
}

/**
 * The notification as a channel with `send_resolved false` sees it: without resolved alerts, or
 * null when nothing is left to send.
 */
export function forChannel(n: Notification, sendResolved: boolean | undefined): Notification | null {
  if (n.kind !== 'alerts' || sendResolved !== false) return n;
  const alerts = n.alerts.filter((a) => !isResolved(a));
  return alerts.length ? { ...n, alerts } : null;
}
