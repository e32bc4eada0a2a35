/**
 * Aggregation groups with Alertmanager's timers, on a clock passed in:
 * - a new group first flushes `group_wait` after its first alert (at once when that alert is
 *   already older than group_wait and the group never flushed);
 * - after each flush the next one is `group_interval` later; the dedup stage decides whether a
 *   flush sends anything (changes, or `repeat_interval` elapsed);
 * - after a successful notification, resolved alerts that were in it leave the group; an empty
 *   group is deleted.
 * The table is plain data (JSON-serialisable groups) so it can be stored durably.
 */
import { createHash } from 'node:crypto';
import type { NotifyAlert } from './alert.js';
import type { RouteMatch } from './route-match.js';
import type { Timings } from './notify-config.js';
import { isResolved, transitionId } from './alert.js';

/** What the last notification of a group contained (Alertmanager's nflog entry). */
export interface LastNotification {
  readonly firing: readonly string[];
  readonly resolved: readonly string[];
  readonly at: number;
}

export interface GroupState {
  readonly key: string;
  readonly routeIndex: number;
  readonly receiver: string;
  readonly groupLabels: Record<string, string>;
  readonly timings: Timings;
  alerts: Record<string, NotifyAlert>;
  nextFlushAt: number;
  hasFlushed: boolean;
  last: LastNotification | null;
}

/** Deterministic group key: route, receiver and the values of the group-by labels. */
export function groupKeyOf(routeIndex: number, receiver: string, groupLabels: Record<string, string>): string {
  const labels = Object.keys(groupLabels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(groupLabels[k])}`)
    .join(',');
  const h = createHash('sha256').update(`${routeIndex}\0${receiver}\0${labels}`).digest('hex').slice(0, 16);
  return `${receiver}:${h}`;
}

export function groupLabelsOf(groupBy: readonly string[], labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of groupBy) if (labels[name] !== undefined) out[name] = labels[name]!;
  return out;
}

export class GroupTable {
  private readonly groups = new Map<string, GroupState>();

  /** Adds the alert to each matched route's group; returns the keys of the groups it changed. */
  insert(alert: NotifyAlert, matches: readonly RouteMatch[], now: number): GroupState[] {
    const changed: GroupState[] = [];
    for (const m of matches) {
      const groupLabels = groupLabelsOf(m.groupBy, alert.labels);
      const key = groupKeyOf(m.routeIndex, m.receiver, groupLabels);
      let g = this.groups.get(key);
      if (!g) {
        g = {
          key,
          routeIndex: m.routeIndex,
          receiver: m.receiver,
          groupLabels,
          timings: m.timings,
          alerts: {},
          nextFlushAt: now + m.timings.groupWaitMs,
          hasFlushed: false,
          last: null,
        };
        this.groups.set(key, g);
      }
      g.alerts[alert.fingerprint] = alert;
      if (!g.hasFlushed && alert.startsAt + g.timings.groupWaitMs < now) g.nextFlushAt = Math.min(g.nextFlushAt, now);
      changed.push(g);
    }
    return changed;
  }

  /** Groups whose timer has expired at `now`, earliest first. */
  due(now: number): GroupState[] {
    const out: GroupState[] = [];
    for (const g of this.groups.values()) if (g.nextFlushAt <= now) out.push(g);
    return out.sort((a, b) => a.nextFlushAt - b.nextFlushAt);
  }

  /** The earliest timer, or undefined when there is no group. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const g of this.groups.values()) if (min === undefined || g.nextFlushAt < min) min = g.nextFlushAt;
    return min;
  }

  /** Starts a flush: the next one is group_interval later (as Alertmanager resets before flushing). */
  beginFlush(g: GroupState, now: number): void {
    g.nextFlushAt = now + g.timings.groupIntervalMs;
    g.hasFlushed = true;
  }

  /**
   * Records a finished flush. `last` is what was sent (null: nothing needed sending). Resolved alerts
   * whose transition was in the notification, or that the dedup stage chose not to send, leave the group.
   */
  completeFlush(g: GroupState, last: LastNotification | null, considered: readonly string[]): void {
    if (last) g.last = last;
    const done = new Set(considered);
    for (const [fp, a] of Object.entries(g.alerts)) {
      if (isResolved(a) && done.has(transitionId(a))) delete g.alerts[fp];
    }
    if (Object.keys(g.alerts).length === 0) this.groups.delete(g.key);
  }

  /** Asks for a flush at `at` (e.g. when a silence ends), unless one is due earlier. */
  flushSoon(g: GroupState, at: number): void {
    if (g.nextFlushAt > at) g.nextFlushAt = at;
  }

  get(key: string): GroupState | undefined {
    return this.groups.get(key);
  }

  all(): IterableIterator<GroupState> {
    return this.groups.values();
  }

  get size(): number {
    return this.groups.size;
  }

  /** Puts back a group read from durable storage. */
  restore(g: GroupState): void {
    this.groups.set(g.key, g);
  }

  delete(key: string): void {
    this.groups.delete(key);
  }
}
