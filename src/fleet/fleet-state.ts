/**
 * Where a simulated fleet left off, so that `vigil start` run again continues the same fleet instead of
 * publishing a second history: the original start time (its fault schedule and random walks), the shape
 * that makes it the same fleet, and the event time of the last tick published and flushed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FleetState {
  /** Options that make the fleet what it is (pools, hosts, metrics, interval, seed, faults). */
  shape: Record<string, string>;
  /** Event time of the fleet's tick 0. */
  startTime: number;
  /** Event time of the last tick known to be published. */
  lastEventTime: number;
}

/** The state in `file`, or undefined when there is none or it is unreadable. */
export function loadFleetState(file: string): FleetState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as FleetState;
    return typeof s.startTime === 'number' && typeof s.lastEventTime === 'number' && s.shape ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `state` to `file` atomically (temp file + rename). */
export async function saveFleetState(file: string, state: FleetState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(state) + '\n');
  await rename(`${file}.tmp`, file);
}

/**
 * How to start a fleet of `shape` at wall time `now` with `backfillMs` of history, given the previous run's
 * state: the same fleet continues after its last published tick (at most `backfillMs` back); a new or
 * different fleet starts `backfillMs` ago.
 */
export function fleetStart(previous: FleetState | undefined, shape: Record<string, string>, now: number, backfillMs: number): { startTime: number; skipThrough?: number; resumed: boolean } {
  const same = previous && JSON.stringify(previous.shape) === JSON.stringify(shape) && previous.startTime <= now;
  if (!same) return { startTime: now - backfillMs, resumed: false };
  return { startTime: previous.startTime, skipThrough: Math.max(previous.lastEventTime, now - backfillMs), resumed: true };
}
