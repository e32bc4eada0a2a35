/**
 * The alert state machine of one (rule, group): inactive -> pending -> firing(level) -> resolved.
 * Pure: `stepAlert` takes the previous state and what the evaluation at window end `now` found,
 * and returns the next state plus the transition to announce (pending is internal, never announced).
 */
import type { Transition } from '../model/types.js';

export type AlertPhase = 'inactive' | 'pending' | 'firing' | 'resolved';

/** Persisted per (rule, group); plain JSON. */
export interface AlertState {
  phase: AlertPhase;
  level: string | null;
  /** When the condition started to hold (pending start; Prometheus' ActiveAt). */
  activeSince: number;
  /** First evaluation end at which a firing alert's condition no longer held (keep_firing). */
  falseSince: number | null;
  /** Transitions announced so far for this fingerprint. */
  sequence: number;
  /** Last known group labels. */
  group: Record<string, string>;
  value: number | null;
  lastEval: number;
}

export interface Observation {
  /** Window end being evaluated (the evaluation's "now"). */
  now: number;
  /** The condition (or some level) holds. */
  holds: boolean;
  /** The highest level that holds (null for single-level rules or none). */
  top: string | null;
  /** Lowest level of the rule (multi-level rules), where a firing alert settles when none holds. */
  lowest: string | null;
  /** Level order (multi-level rules): index = rank. */
  levels: string[];
  /** The rule has `clear when`; then only `clearHolds` resolves a firing alert. */
  hasClear: boolean;
  clearHolds: boolean;
  /** Overrides the pending start (absent(): the last time the group was seen). */
  since: number | null;
  forMs: number;
  keepFiringMs: number;
}

export function initialState(group: Record<string, string>): AlertState {
  return { phase: 'inactive', level: null, activeSince: 0, falseSince: null, sequence: 0, group, value: null, lastEval: -Infinity };
}

function rank(levels: string[], level: string | null): number {
  return level === null ? -1 : levels.indexOf(level);
}

/** Applies one evaluation; mutates and returns `st` with the transition to announce, if any. */
export function stepAlert(st: AlertState, o: Observation): Transition | null {
  st.lastEval = o.now;
  if (st.phase === 'firing') {
    if (o.hasClear) {
      if (o.clearHolds) return resolve(st);
      return relevel(st, o, o.holds ? o.top : o.lowest);
    }
    if (o.holds) {
      st.falseSince = null;
      return relevel(st, o, o.top);
    }
    st.falseSince ??= o.now;
    if (o.keepFiringMs > 0 && o.now - st.falseSince < o.keepFiringMs) return null;
    return resolve(st);
  }
  if (!o.holds) {
    if (st.phase === 'pending') st.phase = 'inactive';
    return null;
  }
  if (st.phase !== 'pending') {
    st.phase = 'pending';
    st.activeSince = o.since ?? o.now;
  } else if (o.since !== null) st.activeSince = o.since;
  if (o.now - st.activeSince >= o.forMs) {
    st.phase = 'firing';
    st.level = o.top;
    st.falseSince = null;
    st.sequence++;
    return 'FIRING';
  }
  return null;
}

function relevel(st: AlertState, o: Observation, level: string | null): Transition | null {
  if (level === null || level === st.level) return null;
  const up = rank(o.levels, level) > rank(o.levels, st.level);
  st.level = level;
  st.sequence++;
  return up ? 'ESCALATED' : 'DEESCALATED';
}

function resolve(st: AlertState): Transition {
  st.phase = 'resolved';
  st.falseSince = null;
  st.sequence++;
  return 'RESOLVED';
}
