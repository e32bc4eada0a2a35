/**
 * The options of a simulated fleet as the CLI takes them (`vigil produce`, `vigil start`), checked
 * and turned into a FleetModel plus the runner's timing. Pure apart from reading nothing: the
 * caller passes `now`.
 */
import { FleetModel, type FleetPrecision } from './fleet-model.js';
import { FaultSchedule } from './fault-schedule.js';
import { seedFrom } from './rng.js';
import { parseDuration, parseInstant } from './time-parse.js';
import { FleetOptionError } from './fleet-option-error.js';

/** Raw option values (strings as typed on the command line). */
export interface FleetOptionValues {
  pools?: string;
  hosts?: string;
  metrics?: string;
  interval?: string;
  speed?: string;
  asFastAsPossible?: boolean;
  duration?: string;
  start?: string;
  seed?: string;
  faults?: string;
  /** `exporter` (default: gauges with 2 decimals) or `full`. */
  precision?: string;
}

export const FLEET_DEFAULTS = {
  pools: '2',
  hosts: '5',
  metrics: '12',
  interval: '10s',
  speed: '1',
  seed: '1',
  faults: 'default',
} as const;

/** A checked fleet: the model and how to run it in time. */
export interface FleetSetup {
  model: FleetModel;
  startTime: number;
  intervalMs: number;
  /** Event-time speed over wall clock; Infinity = as fast as possible. */
  speed: number;
  durationMs: number | undefined;
  seed: number;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new FleetOptionError(`Invalid ${what} "${text}": expected a positive integer`);
  }
  return n;
}

/** Checks the option values; throws FleetOptionError naming the bad option. */
export function fleetSetup(values: FleetOptionValues, now: number): FleetSetup {
  const v = { ...FLEET_DEFAULTS, ...stripUndefined(values) };
  const intervalMs = parseDuration(v.interval, '--interval');
  if (intervalMs <= 0) throw new FleetOptionError(`Invalid --interval "${v.interval}": must be positive`);
  const speed = values.asFastAsPossible ? Infinity : Number(v.speed);
  if (!(speed > 0)) throw new FleetOptionError(`Invalid --speed "${v.speed}": expected a number above 0 (1 = real time)`);
  if (values.asFastAsPossible && values.speed !== undefined) {
    throw new FleetOptionError('--speed and --as-fast-as-possible exclude each other: pick one');
  }
  const durationMs = v.duration === undefined ? undefined : parseDuration(v.duration, '--duration');
  const startTime = v.start === undefined ? now : parseInstant(v.start, '--start');
  const seed = seedFrom(v.seed);
  const pools = positiveInt(v.pools, '--pools');
  const hostsPerPool = positiveInt(v.hosts, '--hosts');
  const metricsPerHost = positiveInt(v.metrics, '--metrics');
  const faults = (hosts: readonly string[]) => FaultSchedule.parse(v.faults, hosts, seed);
  const precision = values.precision ?? 'exporter';
  if (precision !== 'exporter' && precision !== 'full') throw new FleetOptionError(`Invalid precision "${precision}": expected exporter or full`);
  const model = new FleetModel({ pools, hostsPerPool, metricsPerHost, seed, startTime, intervalMs, faults, precision: precision as FleetPrecision });
  return { model, startTime, intervalMs, speed, durationMs, seed };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}
