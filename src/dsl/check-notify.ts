/** Checks receivers, routes and inhibitions (the notifier's declarations). Private to src/dsl. */
import type * as A from './ast.js';
import { errorAt, type RuleError } from './errors.js';
import { checkMatchers, LABEL_RE } from './check-expr.js';
import { ROUTE_DEFAULTS, type CheckedChannel, type CheckedInhibit, type CheckedReceiver, type CheckedRoute, type ValueSource } from './model.js';

const RECEIVER_NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const OPTIONS: Record<string, Record<string, 'strings' | 'text' | 'secret' | 'bool'>> = {
  email: { to: 'strings', from: 'text', subject: 'text', send_resolved: 'bool' },
  pagerduty: { routing_key: 'secret', url: 'secret', send_resolved: 'bool' },
  webhook: { url: 'secret', send_resolved: 'bool' },
};
const REQUIRED: Record<string, string> = { email: 'to', pagerduty: 'routing_key', webhook: 'url' };

type OptVal = string[] | string | ValueSource | boolean;

function optionValue(o: A.ReceiverOption, want: 'strings' | 'text' | 'secret' | 'bool', errors: RuleError[]): OptVal | null {
  const bad = (msg: string) => {
    errors.push(errorAt('BAD_SETTING', `${o.key.name}: ${msg}`, o.values[0]!.span));
    return null;
  };
  if (want === 'strings') {
    if (o.values.some((v) => v.kind !== 'string')) return bad('expected quoted strings, e.g. "ops@example.com"');
    return o.values.map((v) => (v as A.StringLit).value);
  }
  if (o.values.length !== 1) return bad('expected one value');
  const v = o.values[0]!;
  if (want === 'bool') {
    if (v.kind === 'ident' && (v.name === 'true' || v.name === 'false')) return v.name === 'true';
    return bad('expected true or false');
  }
  if (v.kind === 'string') return want === 'text' ? v.value : { literal: v.value };
  if (v.kind === 'env' && want === 'secret') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name.value)) return bad(`invalid environment variable name "${v.name.value}"`);
    return { env: v.name.value };
  }
  return bad(want === 'secret' ? 'expected a quoted string or env("NAME")' : 'expected a quoted string');
}

function checkChannel(ch: A.ChannelNode, errors: RuleError[]): CheckedChannel | null {
  const type = ch.type.name;
  const allowed = OPTIONS[type]!;
  const vals: Record<string, OptVal> = {};
  let ok = true;
  for (const o of ch.options) {
    const want = allowed[o.key.name];
    if (!want) {
      errors.push(errorAt('BAD_SETTING', `unknown ${type} option "${o.key.name}" (use ${Object.keys(allowed).join(', ')})`, o.key.span));
      ok = false;
      continue;
    }
    if (o.key.name in vals) {
      errors.push(errorAt('DUPLICATE_SETTING', `"${o.key.name}" is set twice`, o.key.span));
      ok = false;
      continue;
    }
    const v = optionValue(o, want, errors);
    if (v === null) ok = false;
    else vals[o.key.name] = v;
  }
  const req = REQUIRED[type]!;
  if (!(req in vals) && ok) {
    errors.push(errorAt('MISSING_SETTING', `${type} needs "${req}"`, ch.type.span));
    return null;
  }
  if (!ok) return null;
  const sendResolved = (vals.send_resolved as boolean | undefined) ?? true;
  if (type === 'email') {
    return { type, to: vals.to as string[], from: (vals.from as string) ?? null, subject: (vals.subject as string) ?? null, sendResolved };
  }
  if (type === 'pagerduty') {
    return { type, routingKey: vals.routing_key as ValueSource, url: (vals.url as ValueSource) ?? null, sendResolved };
  }
  return { type: 'webhook', url: vals.url as ValueSource, sendResolved };
}

export function checkReceiver(d: A.ReceiverDecl, file: string, errors: RuleError[]): CheckedReceiver | null {
  const before = errors.length;
  if (!RECEIVER_NAME_RE.test(d.name.name)) errors.push(errorAt('BAD_NAME', `invalid receiver name "${d.name.name}"`, d.name.span));
  if (d.channels.length === 0) errors.push(errorAt('MISSING_SETTING', `receiver "${d.name.name}" needs email, pagerduty or webhook`, d.name.span));
  const channels = d.channels.map((c) => checkChannel(c, errors));
  if (errors.length > before) return null;
  return { name: d.name.name, file, span: d.span, channels: channels as CheckedChannel[] };
}

function labelNames(ids: A.Ident[], errors: RuleError[]): string[] {
  for (const l of ids) if (!LABEL_RE.test(l.name)) errors.push(errorAt('BAD_NAME', `invalid label name "${l.name}"`, l.span));
  return ids.map((l) => l.name);
}

function once<T extends { kind: string; span: A.Span }>(items: T[], errors: RuleError[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) {
    if (m.has(it.kind)) errors.push(errorAt('DUPLICATE_SETTING', `"${it.kind.replace('_by', ' by')}" is set twice in this block`, it.span));
    else m.set(it.kind, it);
  }
  return m;
}

export function checkRoute(d: A.RouteDecl, file: string, errors: RuleError[]): CheckedRoute | null {
  const before = errors.length;
  const items = once(d.items, errors);
  const get = <K extends A.RouteItem['kind']>(k: K) => items.get(k) as Extract<A.RouteItem, { kind: K }> | undefined;
  const match = get('match');
  const matchers = match ? checkMatchers(match.matchers, errors) : [];
  const notify = get('notify');
  if (!notify) errors.push(errorAt('MISSING_SETTING', 'a route needs "notify RECEIVER"', d.span));
  const groupBy = get('group_by') ? labelNames(get('group_by')!.labels, errors) : null;
  const dur = (k: 'group_wait' | 'group_interval' | 'repeat_interval') => get(k)?.value.ms;
  if (errors.length > before || !matchers || !notify) return null;
  return {
    file,
    span: d.span,
    matchers,
    receivers: notify.receivers.map((r) => r.name),
    groupBy,
    groupWaitMs: dur('group_wait') ?? ROUTE_DEFAULTS.groupWaitMs,
    groupIntervalMs: dur('group_interval') ?? ROUTE_DEFAULTS.groupIntervalMs,
    repeatIntervalMs: dur('repeat_interval') ?? ROUTE_DEFAULTS.repeatIntervalMs,
    continue: items.has('continue'),
  };
}

export function checkInhibit(d: A.InhibitDecl, file: string, errors: RuleError[]): CheckedInhibit | null {
  const before = errors.length;
  const items = once(d.items, errors);
  type Side = { matchers: A.MatcherNode[]; span: A.Span };
  const source = items.get('source') as Side | undefined;
  const target = items.get('target') as Side | undefined;
  const equal = items.get('equal') as Extract<A.InhibitItem, { kind: 'equal' }> | undefined;
  if (!source) errors.push(errorAt('MISSING_SETTING', 'an inhibit needs "source { ... }"', d.span));
  if (!target) errors.push(errorAt('MISSING_SETTING', 'an inhibit needs "target { ... }"', d.span));
  const s = source ? checkMatchers(source.matchers, errors) : null;
  const t = target ? checkMatchers(target.matchers, errors) : null;
  const eq = equal ? labelNames(equal.labels, errors) : [];
  if (errors.length > before || !s || !t) return null;
  return { file, span: d.span, source: s, target: t, equal: eq };
}
