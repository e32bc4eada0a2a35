/** Builds the receivers of a config; an unknown type or a missing `env("X")` is a start-up error. */
import { NotifyConfigError } from './errors.js';
import { EmailReceiver } from './email/email-receiver.js';
import type { CompiledNotifyConfig, ReceiverConfig, Secret } from './notify-config.js';
import { PagerdutyReceiver } from './pagerduty/pagerduty-receiver.js';
import type { Receiver } from './receiver.js';
import { WebhookReceiver } from './webhook/webhook-receiver.js';

export interface ReceiverEnvironment {
  readonly smtpUrl?: string;
  readonly smtpFrom: string;
  readonly outbox: string;
  readonly pagerdutyUrl: string;
  readonly externalUrl: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function resolveSecret(s: Secret, env: ReceiverEnvironment['env'], where: string): string {
  if (typeof s === 'string') return s;
  const v = env[s.env];
  if (v === undefined || v === '') throw new NotifyConfigError(`${where}: environment variable "${s.env}" is not set`);
  return v;
}

export function createReceiver(r: ReceiverConfig, e: ReceiverEnvironment): Receiver {
  switch (r.type) {
    case 'email':
      return new EmailReceiver(r, { ...(e.smtpUrl ? { smtpUrl: e.smtpUrl } : {}), outbox: e.outbox, from: e.smtpFrom });
    case 'pagerduty':
      return new PagerdutyReceiver(r, resolveSecret(r.routingKey, e.env, `receiver "${r.name}" routing_key`), e.pagerdutyUrl, e.externalUrl);
    case 'webhook':
      return new WebhookReceiver(r, e.externalUrl);
    default:
      throw new NotifyConfigError(`receiver "${(r as ReceiverConfig).name}": unknown receiver type "${(r as { type: string }).type}"`);
  }
}

export function createReceivers(config: CompiledNotifyConfig, e: ReceiverEnvironment): Map<string, Receiver> {
  const out = new Map<string, Receiver>();
  for (const r of config.receivers.values()) out.set(r.name, createReceiver(r, e));
  return out;
}
