/**
 * The notifier's own view of the `route`, `receiver` and `inhibit` declarations. The routing core
 * depends only on this shape; config-from-rules.ts builds it from the rules files' AST.
 */
import { NotifyConfigError } from './errors.js';
import { compileMatchers, type CompiledMatcher, type Matcher } from './matchers.js';

/** A value taken literally or from an environment variable (`env("X")` in the rules language). */
export type Secret = string | { readonly env: string };

export interface RouteConfig {
  readonly match: readonly Matcher[];
  /** Receiver names (`notify a, b`). */
  readonly receivers: readonly string[];
  /** Labels that form a group; empty = one group per route and receiver (Alertmanager's default). */
  readonly groupBy?: readonly string[];
  readonly groupWaitMs?: number;
  readonly groupIntervalMs?: number;
  readonly repeatIntervalMs?: number;
  /** Keep matching later routes after this one matched. */
  readonly continue?: boolean;
}

export interface EmailReceiverConfig {
  readonly name: string;
  readonly type: 'email';
  readonly to: readonly string[];
  /** Sender; default config.notify.smtpFrom. */
  readonly from?: string;
  /** Subject and text templates (see template.ts); defaults name the group and status. */
  readonly subject?: string;
  readonly text?: string;
  readonly sendResolved?: boolean;
}

export interface PagerdutyReceiverConfig {
  readonly name: string;
  readonly type: 'pagerduty';
  readonly routingKey: Secret;
  /** Events API endpoint; default config.notify.pagerdutyUrl (VIGIL_PAGERDUTY_URL). */
  readonly url?: Secret;
  readonly sendResolved?: boolean;
}

export interface WebhookReceiverConfig {
  readonly name: string;
  readonly type: 'webhook';
  readonly url: Secret;
  /** Max alerts per payload (0 = all); the rest are counted in `truncatedAlerts`. */
  readonly maxAlerts?: number;
  readonly sendResolved?: boolean;
}

export type ReceiverConfig = EmailReceiverConfig | PagerdutyReceiverConfig | WebhookReceiverConfig;
export const RECEIVER_TYPES = ['email', 'pagerduty', 'webhook'] as const;

export interface InhibitConfig {
  readonly source: readonly Matcher[];
  readonly target: readonly Matcher[];
  readonly equal: readonly string[];
}

export interface NotifyConfig {
  readonly routes: readonly RouteConfig[];
  /** Receivers; several entries with one name are the channels of one receiver (all get each notification). */
  readonly receivers: readonly ReceiverConfig[];
  readonly inhibits: readonly InhibitConfig[];
  /** Receiver for alerts matching no route (config.notify.defaultReceiver). */
  readonly defaultReceiver?: string;
}

/** Alertmanager's defaults. */
export const DEFAULT_TIMINGS = { groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 4 * 3_600_000 };

export interface Timings {
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
}

export interface CompiledRoute {
  readonly index: number;
  readonly matchers: readonly CompiledMatcher[];
  readonly receivers: readonly string[];
  readonly groupBy: readonly string[];
  readonly timings: Timings;
  readonly continue: boolean;
}

export interface CompiledInhibit {
  readonly source: readonly CompiledMatcher[];
  readonly target: readonly CompiledMatcher[];
  readonly equal: readonly string[];
}

export interface CompiledNotifyConfig {
  readonly routes: readonly CompiledRoute[];
  /** Channels by receiver name. */
  readonly receivers: ReadonlyMap<string, readonly ReceiverConfig[]>;
  readonly inhibits: readonly CompiledInhibit[];
  readonly defaultReceiver?: string;
}

/**
 * Checks and compiles a NotifyConfig. Throws NotifyConfigError for an unknown receiver type (naming
 * it), a route naming an unknown receiver, an unknown default receiver, or an invalid regex.
 */
export function compileNotifyConfig(config: NotifyConfig): CompiledNotifyConfig {
  const receivers = new Map<string, ReceiverConfig[]>();
  for (const r of config.receivers) {
    if (!(RECEIVER_TYPES as readonly string[]).includes(r.type)) {
      throw new NotifyConfigError(
        `receiver "${r.name}": unknown receiver type "${String(r.type)}" (expected one of ${RECEIVER_TYPES.join(', ')})`,
      );
    }
    const list = receivers.get(r.name);
    if (list) list.push(r);
    else receivers.set(r.name, [r]);
  }
  const routes = config.routes.map((r, index): CompiledRoute => {
    for (const name of r.receivers) {
      if (!receivers.has(name)) throw new NotifyConfigError(`route ${index + 1}: unknown receiver "${name}"`);
    }
    return {
      index,
      matchers: compileMatchers(r.match),
      receivers: [...r.receivers],
      groupBy: [...(r.groupBy ?? [])],
      timings: {
        groupWaitMs: r.groupWaitMs ?? DEFAULT_TIMINGS.groupWaitMs,
        groupIntervalMs: r.groupIntervalMs ?? DEFAULT_TIMINGS.groupIntervalMs,
        repeatIntervalMs: r.repeatIntervalMs ?? DEFAULT_TIMINGS.repeatIntervalMs,
      },
      continue: r.continue ?? false,
    };
  });
  if (config.defaultReceiver !== undefined && !receivers.has(config.defaultReceiver)) {
    throw new NotifyConfigError(`default receiver "${config.defaultReceiver}" is not declared by any receiver block`);
  }
  const inhibits = config.inhibits.map((i) => ({
    source: compileMatchers(i.source),
    target: compileMatchers(i.target),
    equal: [...i.equal],
  }));
  return { routes, receivers, inhibits, ...(config.defaultReceiver ? { defaultReceiver: config.defaultReceiver } : {}) };
}

/** Whether any channel of the receiver wants resolved notifications (each channel filters for itself). */
export function sendsResolved(config: CompiledNotifyConfig, receiver: string): boolean {
  const channels = config.receivers.get(receiver) ?? [];
  return channels.length === 0 || channels.some((c) => c.sendResolved !== false);
}
