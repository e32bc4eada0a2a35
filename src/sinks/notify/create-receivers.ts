/**
 * Builds the receivers of a config; an unknown type or a missing `env("X")` is a start-up error.
 * A receiver with several channels (e.g. email and webhook) sends each notification to all of them.
 */
import { componentLogger, type Logger } from '../../obs/logger.js';
import { NotifyConfigError } from './errors.js';
import { EmailReceiver } from './email/email-receiver.js';
import type { CompiledNotifyConfig, ReceiverConfig, Secret } from './notify-config.js';
import type { Notification } from './notification.js';
import { PagerdutyReceiver } from './pagerduty/pagerduty-receiver.js';
import { SENT, type Receiver, type SendResult } from './receiver.js';
import { WebhookReceiver } from './webhook/webhook-receiver.js';

export interface ReceiverEnvironment {
  readonly smtpUrl?: string;
  readonly smtpFrom: string;
  readonly outbox: string;
  readonly pagerdutyUrl: string;
  readonly externalUrl: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * A PagerDuty `env("X")` routing key whose variable is not set: 'error' (default) stops the start;
   * 'log' writes that receiver's pages to the log (the embedded dev default: "pages to the log").
   */
  readonly missingRoutingKey?: 'error' | 'log';
  readonly logger?: Logger;
}

/** A receiver that may decline notices it has no format for (e.g. webhook and silence notices). */
export type NotifyReceiver = Receiver & { accepts?(n: Notification): boolean };

export function resolveSecret(s: Secret, env: ReceiverEnvironment['env'], where: string): string {
  if (typeof s === 'string') return s;
  const v = env[s.env];
  if (v === undefined || v === '') throw new NotifyConfigError(`${where}: environment variable "${s.env}" is not set`);
  return v;
}

export function createReceiver(r: ReceiverConfig, e: ReceiverEnvironment): NotifyReceiver {
  switch (r.type) {
    case 'email':
      return new EmailReceiver(r, { ...(e.smtpUrl ? { smtpUrl: e.smtpUrl } : {}), outbox: e.outbox, from: e.smtpFrom });
    case 'pagerduty': {
      const url = r.url === undefined ? e.pagerdutyUrl : resolveSecret(r.url, e.env, `receiver "${r.name}" url`);
      const unset = typeof r.routingKey !== 'string' && !e.env[r.routingKey.env];
      if (unset && e.missingRoutingKey === 'log') {
        const variable = (r.routingKey as { env: string }).env;
        const log = e.logger ?? componentLogger('notify');
        log.warn({ receiver: r.name, variable }, `${variable} is not set: pages of receiver "${r.name}" are written to the log`);
        return new PagerdutyReceiver(r, `<${variable} not set>`, url, e.externalUrl, async (event) => {
          log.info({ receiver: r.name, page: event }, 'page (PagerDuty routing key not set)');
          return SENT;
        });
      }
      const key = resolveSecret(r.routingKey, e.env, `receiver "${r.name}" routing_key`);
      return new PagerdutyReceiver(r, key, url, e.externalUrl);
    }
    case 'webhook':
      return new WebhookReceiver(r, resolveSecret(r.url, e.env, `receiver "${r.name}" url`), e.externalUrl);
    default:
      throw new NotifyConfigError(`receiver "${(r as ReceiverConfig).name}": unknown receiver type "${(r as { type: string }).type}"`);
  }
}

/** All channels of one receiver; fails at the first failing channel (receivers are idempotent by key). */
class FanoutReceiver implements NotifyReceiver {
  readonly type = 'fanout';
  constructor(
    readonly name: string,
    private readonly channels: readonly NotifyReceiver[],
  ) {}

  accepts(n: Notification): boolean {
    return this.channels.some((c) => c.accepts?.(n) !== false);
  }

  async send(n: Notification, signal?: AbortSignal): Promise<SendResult> {
    for (const c of this.channels) {
      if (c.accepts?.(n) === false) continue;
      const r = await c.send(n, signal);
      if (r.error) return r;
    }
    return SENT;
  }

  async close(): Promise<void> {
    for (const c of this.channels) await c.close?.();
  }
}

export function createReceivers(config: CompiledNotifyConfig, e: ReceiverEnvironment): Map<string, NotifyReceiver> {
  const out = new Map<string, NotifyReceiver>();
  for (const [name, channels] of config.receivers) {
    const built = channels.map((c) => createReceiver(c, e));
    out.set(name, built.length === 1 ? built[0]! : new FanoutReceiver(name, built));
  }
  return out;
}
