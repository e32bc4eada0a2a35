/**
 * GET /api/v2/status and /api/v2/receivers in Alertmanager's shapes (`alertmanagerStatus`,
 * `receiver`). Vigil's notifier instances share silences through the `silences` topic, not through
 * Alertmanager's gossip cluster, so the cluster status is `disabled` with no peers (what a single
 * Alertmanager answers). `versionInfo` names Vigil's version; `goVersion` carries Node's.
 */
import { createRequire } from 'node:module';
import type { CompiledMatcher } from '../matchers.js';
import type { CompiledNotifyConfig } from '../notify-config.js';
import { alertmanagerConfigYaml, type AlertmanagerConfigSettings } from './alertmanager-config.js';
import { matchesFilter } from './filter-matchers.js';

/** What the Alertmanager API needs to know about the running notifier. */
export interface AlertmanagerInfo {
  readonly config: CompiledNotifyConfig;
  readonly settings: AlertmanagerConfigSettings;
  /** Base URL of this Vigil's HTTP API (links in alerts). */
  readonly externalUrl: string;
  /** When the notifier started (ms). */
  readonly startedAt: number;
}

const pkg = createRequire(import.meta.url)('../../../../package.json') as { version: string };

export function alertmanagerStatus(info: AlertmanagerInfo) {
  return {
    cluster: { status: 'disabled', peers: [] },
    versionInfo: { version: pkg.version, revision: '', branch: '', buildUser: 'vigil', buildDate: '', goVersion: process.version },
    config: { original: alertmanagerConfigYaml(info.config, info.settings) },
    uptime: new Date(info.startedAt).toISOString(),
  };
}

/** The receivers declared in the rules files, by name. Vigil's receivers carry no labels. */
export function listReceivers(info: AlertmanagerInfo, receiverMatchers: readonly CompiledMatcher[]): { name: string; labels: Record<string, string> }[] {
  return [...info.config.receivers.keys()]
    .sort()
    .filter(() => matchesFilter(receiverMatchers, {}))
    .map((name) => ({ name, labels: {} }));
}
