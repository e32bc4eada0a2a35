/**
 * Adapter from the rules language's checked model (src/dsl) to the notifier's NotifyConfig, and the
 * loader `vigil notify --rules PATH...` uses: rules files with errors are a start-up error listing them.
 */
import { checkRulesFiles, formatRuleError, type CheckedMatcher, type CheckedRules, type ValueSource } from '../../dsl/index.js';
import { NotifyConfigError } from './errors.js';
import type { Matcher } from './matchers.js';
import type { NotifyConfig, ReceiverConfig, Secret } from './notify-config.js';

const matcher = (m: CheckedMatcher): Matcher => ({ name: m.label, op: m.op, value: m.value });

function secret(v: ValueSource): Secret {
  if (v.env !== undefined) return { env: v.env };
  return v.literal ?? '';
}

/** Routes, receivers and inhibits of checked rules; `defaultReceiver` comes from config.notify. */
export function notifyConfigFromRules(model: Pick<CheckedRules, 'routes' | 'receivers' | 'inhibits'>, defaultReceiver?: string): NotifyConfig {
  const receivers: ReceiverConfig[] = [];
  for (const r of model.receivers) {
    for (const ch of r.channels) {
      if (ch.type === 'email') {
        receivers.push({ name: r.name, type: 'email', to: ch.to, ...(ch.from ? { from: ch.from } : {}), ...(ch.subject ? { subject: ch.subject } : {}), sendResolved: ch.sendResolved });
      } else if (ch.type === 'pagerduty') {
        receivers.push({ name: r.name, type: 'pagerduty', routingKey: secret(ch.routingKey), ...(ch.url ? { url: secret(ch.url) } : {}), sendResolved: ch.sendResolved });
      } else if (ch.type === 'webhook') {
        receivers.push({ name: r.name, type: 'webhook', url: secret(ch.url), sendResolved: ch.sendResolved });
      } else {
        receivers.push({ name: r.name, type: (ch as { type: string }).type } as never);
      }
    }
  }
  return {
    receivers,
    routes: model.routes.map((r) => ({
      match: r.matchers.map(matcher),
      receivers: r.receivers,
      // The language's default: group by alertname (see src/dsl/model.ts).
      groupBy: r.groupBy ?? ['alertname'],
      groupWaitMs: r.groupWaitMs,
      groupIntervalMs: r.groupIntervalMs,
      repeatIntervalMs: r.repeatIntervalMs,
      continue: r.continue,
    })),
    inhibits: model.inhibits.map((i) => ({ source: i.source.map(matcher), target: i.target.map(matcher), equal: i.equal })),
    ...(defaultReceiver ? { defaultReceiver } : {}),
  };
}

/** Reads and checks rules files; every error is listed (file:line:col) in one NotifyConfigError. */
export function loadNotifyConfig(paths: string[], defaultReceiver?: string): NotifyConfig {
  const result = checkRulesFiles(paths);
  if (!result.model || result.errors.length) {
    const text = result.errors.map((e) => formatRuleError(e, result.sources.get(e.file))).join('\n');
    throw new NotifyConfigError(`rules files have errors:\n${text}`);
  }
  return notifyConfigFromRules(result.model, defaultReceiver);
}
