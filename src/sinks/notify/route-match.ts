/** Route matching: routes are tried in order; the first match wins unless it says `continue`. */
import { matchesAll, type Labels } from './matchers.js';
import { DEFAULT_TIMINGS, type CompiledNotifyConfig, type Timings } from './notify-config.js';

/** Where one alert goes: one entry per (route, receiver). */
export interface RouteMatch {
  /** Route index, or -1 for the default receiver. */
  readonly routeIndex: number;
  readonly receiver: string;
  readonly groupBy: readonly string[];
  readonly timings: Timings;
}

/**
 * The receivers an alert with these labels goes to. An alert matching no route goes to the default
 * receiver (one group per default receiver, Alertmanager's default timings); without one, to none.
 */
export function matchRoutes(config: CompiledNotifyConfig, labels: Labels): RouteMatch[] {
  const out: RouteMatch[] = [];
  for (const route of config.routes) {
    if (!matchesAll(route.matchers, labels)) continue;
    for (const receiver of route.receivers) {
      out.push({ routeIndex: route.index, receiver, groupBy: route.groupBy, timings: route.timings });
    }
    if (!route.continue) return out;
  }
  if (out.length === 0 && config.defaultReceiver) {
    out.push({ routeIndex: -1, receiver: config.defaultReceiver, groupBy: [], timings: DEFAULT_TIMINGS });
  }
  return out;
}
