/** The notifier's view of one alert: the latest transition of a fingerprint. */
import type { AlertEvent, Transition } from '../../model/types.js';

export interface NotifyAlert {
  readonly fingerprint: string;
  /** Id of the event of the latest transition: part of every idempotency key. */
  readonly eventId: string;
  readonly sequence: number;
  readonly transition: Transition;
  readonly alertname: string;
  readonly level: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly value: number | null;
  /** When the alert became active (ms). */
  readonly startsAt: number;
  /** When it resolved (ms), null while firing. */
  readonly endsAt: number | null;
  readonly ruleFile: string;
}

export function alertFromEvent(e: AlertEvent): NotifyAlert {
  const resolved = e.transition === 'RESOLVED';
  return {
    fingerprint: e.fingerprint,
    eventId: e.event_id,
    sequence: Number(e.sequence),
    transition: e.transition,
    alertname: e.alertname,
    level: e.level,
    labels: e.labels,
    annotations: e.annotations,
    value: e.value,
    startsAt: Number(e.active_since),
    endsAt: resolved ? Number(e.window_end) : null,
    ruleFile: e.rule_file,
  };
}

export function isResolved(a: NotifyAlert): boolean {
  return a.transition === 'RESOLVED';
}

/** Identity of one transition of one alert, as kept in the notification log. */
export function transitionId(a: NotifyAlert): string {
  return `${a.fingerprint}@${a.eventId}`;
}
