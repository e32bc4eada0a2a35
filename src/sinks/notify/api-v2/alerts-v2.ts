/**
 * Alerts and alert groups in Alertmanager's API v2 shapes (`gettableAlert`, `alertGroup`), as the
 * notifier knows them: the latest transition of each alert that is still firing (Alertmanager leaves
 * resolved alerts out too), its receivers from the routes, and its status now: `suppressed` when an
 * active silence or a firing inhibiting alert mutes it, else `active`. Vigil processes an alert when it
 * arrives, so none is ever `unprocessed`; it has no time intervals, so `mutedBy` is always empty and
 * `muted=false` removes no group. Filters as in api/v2/api.go: `filter` matchers on the labels, the
 * `active`/`silenced`/`inhibited` flags, `receiver` (an anchored regex on the receiver names).
 */
import { isResolved, type NotifyAlert } from '../alert.js';
import type { CompiledMatcher, Labels } from '../matchers.js';
import type { CompiledNotifyConfig } from '../notify-config.js';
import type { NotifyApiDeps } from '../notify-http.js';
import { matchRoutes } from '../route-match.js';
import { matchesFilter } from './filter-matchers.js';

export interface AlertStatusV2 {
  state: 'active' | 'suppressed' | 'unprocessed';
  silencedBy: string[];
  inhibitedBy: string[];
  mutedBy: string[];
}

export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  receivers: { name: string }[];
  fingerprint: string;
  startsAt: string;
  updatedAt: string;
  endsAt: string;
  generatorURL: string;
  status: AlertStatusV2;
}

export interface AlertGroupV2 {
  labels: Record<string, string>;
  routeLabels: Record<string, string>;
  receiver: { name: string };
  alerts: GettableAlert[];
}

export interface AlertQuery {
  readonly filters: readonly CompiledMatcher[];
  readonly active: boolean;
  readonly silenced: boolean;
  readonly inhibited: boolean;
  readonly unprocessed: boolean;
  /** Anchored regex on receiver names (the `receiver` parameter). */
  readonly receiver?: (name: string) => boolean;
  /** Matchers on receiver labels (`receiver_matchers`); Vigil's receivers have none. */
  readonly receiverMatchers: readonly CompiledMatcher[];
}

/** What the views read besides the core: the routes, and the base URL for links. */
export interface AlertViewContext {
  readonly config: CompiledNotifyConfig;
  readonly externalUrl: string;
}

/** Go's zero time, which Alertmanager shows as the end of an alert that has none. */
const ZERO_TIME = '0001-01-01T00:00:00.000Z';

function status(silencedBy: readonly string[], inhibitedBy: string | undefined): AlertStatusV2 {
  const inhibited = inhibitedBy ? [inhibitedBy] : [];
  return { state: silencedBy.length || inhibited.length ? 'suppressed' : 'active', silencedBy: [...silencedBy], inhibitedBy: inhibited, mutedBy: [] };
}

/** When the notifier last took a transition of this alert (its history), else when it started. */
function updatedAt(d: NotifyApiDeps, a: NotifyAlert): number {
  const history = d.core.historyOf(a.fingerprint);
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.type === 'transition') return history[i]!.at;
  return a.startsAt;
}

function gettableAlert(d: NotifyApiDeps, ctx: AlertViewContext, a: NotifyAlert, s: AlertStatusV2, receivers: readonly string[]): GettableAlert {
  return {
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    receivers: [...receivers].sort().map((name) => ({ name })),
    fingerprint: a.fingerprint,
    startsAt: new Date(a.startsAt).toISOString(),
    updatedAt: new Date(updatedAt(d, a)).toISOString(),
    endsAt: a.endsAt === null ? ZERO_TIME : new Date(a.endsAt).toISOString(),
    generatorURL: `${ctx.externalUrl}/api/v1/alerts/${a.fingerprint}/history`,
    status: s,
  };
}

/** Alertmanager's alertFilter on the labels and the status flags. */
function passes(q: AlertQuery, a: NotifyAlert, s: AlertStatusV2): boolean {
  if (isResolved(a) || !matchesFilter(q.filters, a.labels)) return false;
  if (!q.active && s.state === 'active') return false;
  if (!q.unprocessed && s.state === 'unprocessed') return false;
  if (!q.silenced && s.silencedBy.length) return false;
  return q.inhibited || s.inhibitedBy.length === 0;
}

function receiversOf(config: CompiledNotifyConfig, labels: Labels): string[] {
  return [...new Set(matchRoutes(config, labels).map((m) => m.receiver))];
}

/** Alertmanager's receiversMatchLabels: some receiver's labels (here: none) pass `receiver_matchers`. */
function receiverLabelsPass(q: AlertQuery, receivers: readonly string[]): boolean {
  return q.receiverMatchers.length === 0 || (receivers.length > 0 && matchesFilter(q.receiverMatchers, {}));
}

/** GET /api/v2/alerts, sorted by fingerprint. */
export function listAlerts(d: NotifyApiDeps, ctx: AlertViewContext, q: AlertQuery, now: number): GettableAlert[] {
  const out: GettableAlert[] = [];
  for (const c of d.core.currentAlerts(now)) {
    const receivers = receiversOf(ctx.config, c.alert.labels);
    if (q.receiver && !receivers.some(q.receiver)) continue;
    if (!receiverLabelsPass(q, receivers)) continue;
    const s = status(c.silencedBy, c.inhibitedBy);
    if (passes(q, c.alert, s)) out.push(gettableAlert(d, ctx, c.alert, s, receivers));
  }
  return out.sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0));
}

/** Prometheus's LabelSet.Before: fewer labels first, then by sorted names and values. */
function labelsBefore(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length) return ka.length - kb.length;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    const va = a[ka[i]!]!;
    const vb = b[kb[i]!]!;
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return 0;
}

/** Alertmanager's AlertSlice order: by `job`, then `instance`, then all labels. */
function alertOrder(a: GettableAlert, b: GettableAlert): number {
  for (const key of ['job', 'instance']) {
    const va = a.labels[key];
    const vb = b.labels[key];
    if (va === undefined && vb === undefined) continue;
    if (va === undefined) return 1;
    if (vb === undefined) return -1;
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return labelsBefore(a.labels, b.labels);
}

/** GET /api/v2/alerts/groups: the notifier's aggregation groups with their alerts that pass the filters. */
export function listAlertGroups(d: NotifyApiDeps, ctx: AlertViewContext, q: AlertQuery, now: number): AlertGroupV2[] {
  const current = new Map(d.core.currentAlerts(now).map((c) => [c.alert.fingerprint, c]));
  const kept: { labels: Record<string, string>; receiver: string; alerts: { a: NotifyAlert; s: AlertStatusV2 }[] }[] = [];
  // Alertmanager lists, for each alert, the receivers of the groups that show it.
  const receivers = new Map<string, string[]>();
  for (const g of d.core.groups.all()) {
    if ((q.receiver && !q.receiver(g.receiver)) || !receiverLabelsPass(q, [g.receiver])) continue;
    const alerts: { a: NotifyAlert; s: AlertStatusV2 }[] = [];
    for (const fp of Object.keys(g.alerts)) {
      // The latest transition (a group keeps a resolved alert until its next flush).
      const c = current.get(fp);
      if (!c) continue;
      const a = c.alert;
      const s = status(c.silencedBy, c.inhibitedBy);
      if (!passes(q, a, s)) continue;
      alerts.push({ a, s });
      receivers.set(a.fingerprint, [...(receivers.get(a.fingerprint) ?? []), g.receiver]);
    }
    if (alerts.length) kept.push({ labels: { ...g.groupLabels }, receiver: g.receiver, alerts });
  }
  return kept
    .map((g) => ({
      labels: g.labels,
      routeLabels: {},
      receiver: { name: g.receiver },
      alerts: g.alerts.map(({ a, s }) => gettableAlert(d, ctx, a, s, receivers.get(a.fingerprint) ?? [])).sort(alertOrder),
    }))
    .sort((x, y) => labelsBefore(x.labels, y.labels) || (x.receiver.name < y.receiver.name ? -1 : x.receiver.name > y.receiver.name ? 1 : 0));
}
