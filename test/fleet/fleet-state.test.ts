import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetStart, loadFleetState, saveFleetState } from '../../src/fleet/fleet-state.js';

const shape = { pools: '2', hosts: '5', metrics: '12', interval: '10s', seed: '1', faults: 'default' };
const NOW = Date.UTC(2026, 0, 1, 12);
const MIN = 60_000;

describe('fleetStart', () => {
  it('starts a new fleet the backfill ago', () => {
    expect(fleetStart(undefined, shape, NOW, 5 * MIN)).toEqual({ startTime: NOW - 5 * MIN, resumed: false });
  });

  it('continues the same fleet after its last published tick, keeping its start time', () => {
    const previous = { shape, startTime: NOW - 60 * MIN, lastEventTime: NOW - 2 * MIN };
    expect(fleetStart(previous, shape, NOW, 5 * MIN)).toEqual({ startTime: NOW - 60 * MIN, skipThrough: NOW - 2 * MIN, resumed: true });
  });

  it('sends at most the backfill after a long stop, and starts over for another fleet shape', () => {
    const previous = { shape, startTime: NOW - 600 * MIN, lastEventTime: NOW - 300 * MIN };
    expect(fleetStart(previous, shape, NOW, 5 * MIN)).toMatchObject({ startTime: NOW - 600 * MIN, skipThrough: NOW - 5 * MIN, resumed: true });
    expect(fleetStart(previous, { ...shape, hosts: '6' }, NOW, 5 * MIN)).toEqual({ startTime: NOW - 5 * MIN, resumed: false });
  });
});

describe('fleet state file', () => {
  it('round-trips, and reads a missing or broken file as no state', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-fleet-state-')), 'data', 'fleet.json');
    expect(loadFleetState(file)).toBeUndefined();
    const state = { shape, startTime: 1, lastEventTime: 2 };
    await saveFleetState(file, state);
    expect(loadFleetState(file)).toEqual(state);
  });
});
