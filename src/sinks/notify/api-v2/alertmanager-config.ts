/**
 * The notifier's routes, receivers and inhibitions written as an Alertmanager configuration file:
 * the `config.original` of GET /api/v2/status, which `amtool config show|routes` prints and Grafana
 * reads to show contact points and notification policies. It is a description (nothing loads it) that
 * Alertmanager's own loader accepts:
 *   - a Vigil route with several receivers becomes one route per receiver, all but the last with
 *     `continue: true` (the same alerts reach the same receivers);
 *   - the root route's receiver is `notify.defaultReceiver`, or a receiver without integrations when
 *     there is none (Vigil then sends unrouted alerts nowhere);
 *   - secrets are `<secret>` as in Alertmanager; a URL from env("X") is shown as https://secret.invalid/
 *     (the reserved .invalid domain) so the file still loads; without an SMTP server (emails written to
 *     the outbox) the smarthost is outbox.invalid:25.
 */
import { stringify } from 'yaml';
import type { CompiledNotifyConfig, ReceiverConfig, Secret } from '../notify-config.js';
import type { Matcher } from '../matchers.js';
import { formatAlertmanagerMatcher } from './filter-matchers.js';

export interface AlertmanagerConfigSettings {
  readonly smtpUrl?: string;
  readonly smtpFrom: string;
  readonly outbox: string;
  readonly pagerdutyUrl: string;
}

const SECRET = '<secret>';
const HIDDEN_URL = 'https://secret.invalid/';
const NO_RECEIVER = 'vigil-unrouted';

/** Milliseconds as a Prometheus/Go duration (1h30m, 45s, 500ms). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

const url = (s: Secret | undefined): string | undefined => (s === undefined ? undefined : typeof s === 'string' ? s : HIDDEN_URL);
const matchers = (ms: readonly Matcher[]) => ms.map(formatAlertmanagerMatcher);

function integration(c: ReceiverConfig): [string, Record<string, unknown>] {
  const send_resolved = c.sendResolved !== false;
  if (c.type === 'email') return ['email_configs', { to: c.to.join(', '), ...(c.from ? { from: c.from } : {}), send_resolved }];
  if (c.type === 'pagerduty') {
    const u = url(c.url);
    return ['pagerduty_configs', { routing_key: SECRET, ...(u ? { url: u } : {}), send_resolved }];
  }
  return ['webhook_configs', { url: url(c.url), max_alerts: c.maxAlerts ?? 0, send_resolved }];
}

function receiver(name: string, channels: readonly ReceiverConfig[]): Record<string, unknown> {
  const integrations: Record<string, unknown[]> = {};
  for (const c of channels) {
    const [key, value] = integration(c);
    (integrations[key] ??= []).push(value);
  }
  return { name, ...integrations };
}

function smtpGlobal(settings: AlertmanagerConfigSettings): Record<string, unknown> {
  if (!settings.smtpUrl) return { smtp_smarthost: 'outbox.invalid:25', smtp_require_tls: false };
  const u = new URL(settings.smtpUrl);
  const port = u.port || (u.protocol === 'smtps:' ? '465' : '25');
  return {
    smtp_smarthost: `${u.hostname}:${port}`,
    ...(u.username ? { smtp_auth_username: decodeURIComponent(u.username), smtp_auth_password: SECRET } : {}),
    smtp_require_tls: u.protocol === 'smtps:',
  };
}

/** The YAML text (with a comment saying where it comes from). */
export function alertmanagerConfigYaml(config: CompiledNotifyConfig, settings: AlertmanagerConfigSettings): string {
  const names = [...config.receivers.keys()];
  let root = config.defaultReceiver;
  if (!root) {
    root = NO_RECEIVER;
    for (let i = 2; names.includes(root); i++) root = `${NO_RECEIVER}-${i}`;
  }
  const routes = config.routes.flatMap((r) =>
    r.receivers.map((name, i) => ({
      receiver: name,
      ...(r.matchers.length ? { matchers: matchers(r.matchers) } : {}),
      ...(r.groupBy.length ? { group_by: [...r.groupBy] } : {}),
      group_wait: goDuration(r.timings.groupWaitMs),
      group_interval: goDuration(r.timings.groupIntervalMs),
      repeat_interval: goDuration(r.timings.repeatIntervalMs),
      continue: i < r.receivers.length - 1 || r.continue,
    })),
  );
  const doc = {
    global: { resolve_timeout: '5m', smtp_from: settings.smtpFrom, ...smtpGlobal(settings), pagerduty_url: settings.pagerdutyUrl },
    route: { receiver: root, group_wait: '30s', group_interval: '5m', repeat_interval: '4h', ...(routes.length ? { routes } : {}) },
    ...(config.inhibits.length
      ? { inhibit_rules: config.inhibits.map((i) => ({ source_matchers: matchers(i.source), target_matchers: matchers(i.target), ...(i.equal.length ? { equal: [...i.equal] } : {}) })) }
      : {}),
    receivers: [...(config.defaultReceiver ? [] : [{ name: root }]), ...names.map((n) => receiver(n, config.receivers.get(n)!))],
  };
  const header = [
    '# The notifier\'s route, receiver and inhibit blocks (rules files), written as an Alertmanager configuration.',
    ...(settings.smtpUrl ? [] : [`# No SMTP server is set: emails are written to ${settings.outbox} (smtp_smarthost outbox.invalid).`]),
    ...(config.defaultReceiver ? [] : [`# No notify.defaultReceiver: alerts that match no route are sent nowhere (receiver ${root}).`]),
  ];
  return `${header.join('\n')}\n${stringify(doc)}`;
}
