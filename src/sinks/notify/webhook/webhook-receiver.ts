/**
 * Generic webhook with Alertmanager's v4 payload, so existing webhook consumers work unchanged.
 * The notification's idempotency key goes in the `Idempotency-Key` header.
 */
import type { NotifyAlert } from '../alert.js';
import { isResolved } from '../alert.js';
import type { WebhookReceiverConfig } from '../notify-config.js';
import { commonOf, forChannel, notificationStatus, type AlertNotification, type Notification } from '../notification.js';
import { postJson, SENT, type Receiver, type SendResult } from '../receiver.js';

/** Go's zero time: what Alertmanager puts in `endsAt` of a firing alert. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager webhook payload, version 4. */
export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** Alertmanager's group key form: `{}/<route>:{label="value", ...}`. */
export function webhookGroupKey(n: AlertNotification): string {
  const labels = Object.keys(n.groupLabels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(n.groupLabels[k])}`)
    .join(', ');
  const route = n.routeIndex < 0 ? 'default' : `route${n.routeIndex + 1}`;
  return `{}/${route}:{${labels}}`;
}

function toWebhookAlert(a: NotifyAlert, externalUrl: string): WebhookAlert {
  return {
    status: isResolved(a) ? 'resolved' : 'firing',
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: a.endsAt === null ? ZERO_TIME : new Date(a.endsAt).toISOString(),
    generatorURL: `${externalUrl}/api/v1/alerts/${a.fingerprint}/history`,
    fingerprint: a.fingerprint,
  };
}

export function webhookPayload(n: AlertNotification, externalUrl: string, maxAlerts = 0): WebhookPayload {
  const alerts = maxAlerts > 0 ? n.alerts.slice(0, maxAlerts) : n.alerts;
  return {
    version: '4',
    groupKey: webhookGroupKey(n),
    truncatedAlerts: n.alerts.length - alerts.length,
    status: notificationStatus(n),
    receiver: n.receiver,
    groupLabels: { ...n.groupLabels },
    commonLabels: commonOf(n.alerts.map((a) => a.labels)),
    commonAnnotations: commonOf(n.alerts.map((a) => a.annotations)),
    externalURL: externalUrl,
    alerts: alerts.map((a) => toWebhookAlert(a, externalUrl)),
  };
}

export class WebhookReceiver implements Receiver {
  readonly type = 'webhook';
  readonly name: string;

  /** `url` is already resolved (env("X") read at start-up). */
  constructor(
    private readonly config: WebhookReceiverConfig,
    private readonly url: string,
    private readonly externalUrl: string,
  ) {
    this.name = config.name;
  }

  /** Silence and ack notices are not part of the v4 format: existing consumers would misread them. */
  accepts(n: Notification): boolean {
    return n.kind === 'alerts';
  }

  async send(notification: Notification, signal?: AbortSignal): Promise<SendResult> {
    const n = forChannel(notification, this.config.sendResolved);
    if (n?.kind !== 'alerts') return SENT;
    const payload = webhookPayload(n, this.externalUrl, this.config.maxAlerts ?? 0);
    return postJson(this.url, payload, { 'idempotency-key': n.key }, `webhook "${this.name}"`, signal);
  }
}
