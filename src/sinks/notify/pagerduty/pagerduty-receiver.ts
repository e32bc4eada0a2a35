/**
 * PagerDuty Events API v2: one event per alert; `trigger` while firing, `resolve` when resolved,
 * `acknowledge` for an ack. dedup_key = the alert fingerprint, so a resend or an escalation updates
 * the same incident.
 */
import type { NotifyAlert } from '../alert.js';
import { isResolved } from '../alert.js';
import type { PagerdutyReceiverConfig } from '../notify-config.js';
import { forChannel, type Notification } from '../notification.js';
import { postJson, SENT, type Receiver, type SendResult } from '../receiver.js';

export type PagerdutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerdutySeverity = 'critical' | 'error' | 'warning' | 'info';

export interface PagerdutyEvent {
  routing_key: string;
  event_action: PagerdutyAction;
  dedup_key: string;
  client?: string;
  client_url?: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerdutySeverity;
    timestamp: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
}

const SEVERITIES: readonly string[] = ['critical', 'error', 'warning', 'info'];

/** Maps the alert's severity label to PagerDuty's four levels (`page` is critical; unknown is error). */
export function pagerdutySeverity(a: NotifyAlert): PagerdutySeverity {
  const s = (a.labels.severity ?? a.level ?? '').toLowerCase();
  if (SEVERITIES.includes(s)) return s as PagerdutySeverity;
  if (s === 'page') return 'critical';
  return 'error';
}

function summaryOf(a: NotifyAlert): string {
  const labels = Object.entries(a.labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const text = a.annotations.summary ?? `${a.alertname}${labels ? ` (${labels})` : ''}`;
  return text.length > 1024 ? `${text.slice(0, 1021)}...` : text;
}

export function pagerdutyEvent(a: NotifyAlert, action: PagerdutyAction, routingKey: string, externalUrl: string): PagerdutyEvent {
  const ev: PagerdutyEvent = {
    routing_key: routingKey,
    event_action: action,
    dedup_key: a.fingerprint,
    client: 'Vigil',
    client_url: `${externalUrl}/api/v1/alerts/${a.fingerprint}/history`,
  };
  if (action === 'trigger') {
    const component = a.labels.component;
    const group = a.labels.pool ?? a.labels.group;
    ev.payload = {
      summary: summaryOf(a),
      source: a.labels.host ?? a.labels.instance ?? 'vigil',
      severity: pagerdutySeverity(a),
      timestamp: new Date(a.startsAt).toISOString(),
      ...(component ? { component } : {}),
      ...(group ? { group } : {}),
      class: a.alertname,
      custom_details: {
        labels: a.labels,
        annotations: a.annotations,
        value: a.value,
        transition: a.transition,
        level: a.level,
        rule_file: a.ruleFile,
      },
    };
  }
  return ev;
}

export class PagerdutyReceiver implements Receiver {
  readonly type = 'pagerduty';
  readonly name: string;
  private readonly sendResolved: boolean | undefined;

  /** `routingKey` and `url` are already resolved (env("X") read at start-up). */
  /**
   * `post` delivers one event; default: POST to `url`. The dev default (routing key not set) passes
   * a function that writes the event to the log instead.
   */
  constructor(
    config: PagerdutyReceiverConfig,
    private readonly routingKey: string,
    url: string,
    private readonly externalUrl: string,
    private readonly post: (ev: PagerdutyEvent, key: string, signal?: AbortSignal) => Promise<SendResult> = (ev, key, signal) =>
      postJson(url, ev, { 'idempotency-key': key }, `pagerduty "${config.name}"`, signal),
  ) {
    this.name = config.name;
    this.sendResolved = config.sendResolved;
  }

  accepts(n: Notification): boolean {
    return n.kind !== 'silence';
  }

  async send(notification: Notification, signal?: AbortSignal): Promise<SendResult> {
    const n = forChannel(notification, this.sendResolved);
    if (!n) return SENT;
    const events: PagerdutyEvent[] = [];
    if (n.kind === 'alerts') {
      for (const a of n.alerts) events.push(pagerdutyEvent(a, isResolved(a) ? 'resolve' : 'trigger', this.routingKey, this.externalUrl));
    } else if (n.kind === 'ack') {
      events.push(pagerdutyEvent(n.alert, 'acknowledge', this.routingKey, this.externalUrl));
    }
    for (const ev of events) {
      const r = await this.post(ev, n.key, signal);
      if (r.error) return r;
    }
    return SENT;
  }
}
