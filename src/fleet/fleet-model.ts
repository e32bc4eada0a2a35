/**
 * The simulated fleet: pools x hosts x series. Pure and deterministic: given the options (seed
 * included) and the same sequence of tick times, it returns the same samples. Time is passed in.
 *
 * Gauges are bounded, mean-reverting random walks; counters grow and reset to 0 when a host
 * restarts (rare, seeded); scheduled faults (FaultSchedule) override the normal behaviour. Values
 * are reported at the precision real exporters use (gauges with 2 decimals, counters as integer
 * counts) unless `precision: 'full'` asks for the walks' full double precision.
 */
import { seriesCatalog, type SeriesDef } from './metric-catalog.js';
import { deriveSeed, Rng } from './rng.js';
import { FaultSchedule, type ActiveFault } from './fault-schedule.js';
import type { Sample } from '../model/types.js';
import { FleetOptionError } from './fleet-option-error.js';

export interface FleetShape {
  pools: number;
  hostsPerPool: number;
  metricsPerHost: number;
}

export interface FleetModelOptions extends FleetShape {
  seed: number;
  /** Event time of the fleet's start (fault offsets count from here), epoch ms. */
  startTime: number;
  /** Nominal spacing of ticks, ms (used for the first tick's counter increments). */
  intervalMs: number;
  /** Fault schedule, or a function making it from the host names (fault specs name hosts); default none. */
  faults?: FaultSchedule | ((hostNames: readonly string[]) => FaultSchedule);
  /** Mean time between restarts of one host (counter resets); default 6 h. 0 = never. */
  meanRestartIntervalMs?: number;
  /**
   * `exporter` (default): gauges rounded to 2 decimals, as node_exporter and most exporters report
   * them (load, percentages); `full`: the unrounded walks (the same walks: only the reported value
   * differs). Counters count events: integers either way.
   */
  precision?: FleetPrecision;
}

export type FleetPrecision = 'exporter' | 'full';

/** A simulated host: its source labels and the Kafka key of its batches. */
export interface FleetHost {
  readonly index: number;
  readonly pool: string;
  readonly host: string;
  /** Source labels of its SampleBatch: pool, host, env. */
  readonly source: Record<string, string>;
}

interface HostState {
  rng: Rng;
  lastTime: number | undefined;
  values: Float64Array;
  /** Per series: the level a gauge reverts to, or a counter's rate per second. */
  bases: Float64Array;
  heartbeatLabels: Record<string, string>;
  restarts: number;
}

/** Requests and failed requests of one service on one host during one tick. */
interface Traffic {
  requests: number;
  errors: number;
}

/** What one host does at one tick. */
export interface HostTick {
  readonly host: FleetHost;
  readonly samples: Sample[];
  /** True when the host restarted at this tick (its counters went back to 0). */
  readonly restarted: boolean;
}

const MAX_POOLS = 100_000;
const MAX_HOSTS_PER_POOL = 100_000;
const MAX_SERIES = 50_000_000;

function padded(prefix: string, i: number, n: number): string {
  return `${prefix}${String(i + 1).padStart(String(n).length, '0')}`;
}

export class FleetModel {
  readonly hosts: readonly FleetHost[];
  readonly series: readonly SeriesDef[];
  readonly faults: FaultSchedule;
  private readonly states: HostState[];
  private readonly restartPerMs: number;
  private readonly roundGauges: boolean;
  private faultCache: { time: number; faults: ActiveFault[] } | undefined;
  /** Service -> index of its requests_ok series, whose base is the service's request rate. */
  private readonly rateIndex: Map<string, number>;

  constructor(private readonly options: FleetModelOptions) {
    const { pools, hostsPerPool, metricsPerHost, intervalMs } = options;
    checkCount('pools', pools, MAX_POOLS);
    checkCount('hosts per pool', hostsPerPool, MAX_HOSTS_PER_POOL);
    if (pools * hostsPerPool * metricsPerHost > MAX_SERIES) {
      throw new FleetOptionError(`Fleet of ${pools * hostsPerPool * metricsPerHost} series is over the limit of ${MAX_SERIES}`);
    }
    if (!(intervalMs > 0)) throw new FleetOptionError(`Invalid interval "${intervalMs}ms": must be positive`);
    this.series = seriesCatalog(metricsPerHost);
    this.rateIndex = new Map();
    this.series.forEach((def, i) => {
      if (def.role === 'requests_ok') this.rateIndex.set(def.svc!, i);
    });
    const hosts: FleetHost[] = [];
    for (let p = 0; p < pools; p++) {
      const pool = padded('p', p, pools);
      for (let h = 0; h < hostsPerPool; h++) {
        const host = `${pool}-${padded('h', h, hostsPerPool)}`;
        hosts.push({ index: hosts.length, pool, host, source: { pool, host, env: 'prod' } });
      }
    }
    this.hosts = hosts;
    const faults = options.faults ?? FaultSchedule.none();
    this.faults = typeof faults === 'function' ? faults(hosts.map((h) => h.host)) : faults;
    const meanRestart = options.meanRestartIntervalMs ?? 6 * 3_600_000;
    this.restartPerMs = meanRestart > 0 ? 1 / meanRestart : 0;
    this.roundGauges = (options.precision ?? 'exporter') === 'exporter';
    this.states = hosts.map((h) => this.initialState(h));
  }

  /** Total number of series (hosts x series per host). */
  get seriesCount(): number {
    return this.hosts.length * this.series.length;
  }

  /** Faults in effect at event time `time`. */
  activeFaults(time: number): ActiveFault[] {
    if (this.faultCache?.time !== time) {
      this.faultCache = { time, faults: this.faults.activeAt(time - this.options.startTime) };
    }
    return this.faultCache.faults;
  }

  /** Restarts of a host so far (counter resets). */
  restartsOf(hostIndex: number): number {
    return this.states[hostIndex]!.restarts;
  }

  /**
   * Advances one host to event time `time` and returns its samples. Times of one host must
   * increase from call to call (a host's walk is a sequence); hosts are independent.
   */
  sampleHost(hostIndex: number, time: number): HostTick {
    const host = this.hosts[hostIndex];
    if (!host) throw new RangeError(`no host with index ${hostIndex}`);
    const st = this.states[hostIndex]!;
    if (st.lastTime !== undefined && time <= st.lastTime) {
      throw new RangeError(`host ${host.host}: time ${time} is not after the previous tick ${st.lastTime}`);
    }
    const dtMs = st.lastTime === undefined ? this.options.intervalMs : time - st.lastTime;
    st.lastTime = time;
    const restarted = st.rng.next() < dtMs * this.restartPerMs;
    if (restarted) st.restarts++;
    const effects = this.effectsFor(host, time);
    const traffic = this.trafficFor(st, dtMs, effects);
    const samples: Sample[] = [];
    const n = this.series.length;
    for (let i = 0; i < n; i++) {
      const def = this.series[i]!;
      const value = this.step(st, i, def, dtMs, restarted, effects, traffic);
      if (def.role === 'heartbeat' && effects.heartbeatStopped) continue;
      samples.push({
        name: def.name,
        labels: def.role === 'heartbeat' ? st.heartbeatLabels : def.labels,
        timestamp: time,
        // The walk keeps its full precision; only what is reported is rounded.
        value: this.roundGauges && def.kind === 'GAUGE' ? Math.round(value * 100) / 100 : value,
        kind: def.kind,
      });
    }
    return { host, samples, restarted };
  }

  /** Every host at event time `time`, in host order. */
  *tick(time: number): Generator<HostTick> {
    for (let i = 0; i < this.hosts.length; i++) yield this.sampleHost(i, time);
  }

  private initialState(host: FleetHost): HostState {
    const rng = new Rng(deriveSeed(this.options.seed, host.index));
    const n = this.series.length;
    const values = new Float64Array(n);
    const bases = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const role = this.series[i]!.role;
      const base = initialBase(role, rng);
      bases[i] = base;
      values[i] = isCounterRole(role) ? Math.floor(rng.uniform(0, 1e6)) : base;
    }
    return {
      rng,
      lastTime: undefined,
      values,
      bases,
      heartbeatLabels: { job: 'api', instance: host.host },
      restarts: 0,
    };
  }

  /** Per service: requests in this tick (rate x dt with noise) and how many failed. */
  private trafficFor(st: HostState, dtMs: number, effects: HostEffects): Map<string, Traffic> {
    const traffic = new Map<string, Traffic>();
    for (const [svc, i] of this.rateIndex) {
      const requests = Math.max(0, Math.round((st.bases[i]! * dtMs * st.rng.uniform(0.8, 1.2)) / 1000));
      const fraction = effects.errorBurst.has(svc) ? st.rng.uniform(0.08, 0.15) : st.rng.uniform(0.002, 0.008);
      traffic.set(svc, { requests, errors: Math.round(requests * fraction) });
    }
    return traffic;
  }

  private effectsFor(host: FleetHost, time: number): HostEffects {
    const effects: HostEffects = {
      cpuPegged: false,
      diskFill: undefined,
      memLeak: undefined,
      heartbeatStopped: false,
      errorBurst: new Set(),
    };
    for (const f of this.activeFaults(time)) {
      if (f.kind === 'errors') effects.errorBurst.add(f.target);
      else if (f.target !== host.host) continue;
      else if (f.kind === 'cpu') effects.cpuPegged = true;
      else if (f.kind === 'heartbeat') effects.heartbeatStopped = true;
      else if (f.kind === 'disk') effects.diskFill = f.progress;
      else if (f.kind === 'mem') effects.memLeak = f.progress;
    }
    return effects;
  }

  private step(
    st: HostState,
    i: number,
    def: SeriesDef,
    dtMs: number,
    restarted: boolean,
    effects: HostEffects,
    traffic: Map<string, Traffic>,
  ): number {
    const { rng, values, bases } = st;
    const noise = rng.uniform(-1, 1);
    const dt = dtMs / 1000;
    switch (def.role) {
      case 'cpu': {
        values[i] = walk(values[i]!, bases[i]!, 0.3, 0.08 * noise, 0, 1);
        return effects.cpuPegged ? clamp(0.97 + 0.02 * noise, 0, 1) : values[i]!;
      }
      case 'mem':
        values[i] = walk(values[i]!, bases[i]!, 0.1, 3 * noise, 0, 100);
        return effects.memLeak === undefined ? values[i]! : memLeakLevel(values[i]!, effects.memLeak, noise);
      case 'disk': {
        values[i] = walk(values[i]!, bases[i]!, 0.02, 0.3 * noise, 0, 100);
        if (effects.diskFill !== undefined && def.labels.mount === '/data') return diskFillLevel(values[i]!, effects.diskFill, noise);
        return values[i]!;
      }
      case 'requests_ok': {
        const t = traffic.get(def.svc!)!;
        return counterAdd(values, i, restarted, t.requests - t.errors);
      }
      case 'requests_err':
      case 'errors':
        return counterAdd(values, i, restarted, traffic.get(def.svc!)!.errors);
      case 'heartbeat':
        return 1;
      case 'filler_gauge':
        return (values[i] = walk(values[i]!, bases[i]!, 0.1, 5 * noise, 0, 100));
      case 'filler_counter':
        return counterAdd(values, i, restarted, Math.round(bases[i]! * dt * (1 + 0.3 * noise)));
    }
  }
}

interface HostEffects {
  cpuPegged: boolean;
  /** Progress (0..1) through a disk-filling fault of this host's /data mount. */
  diskFill: number | undefined;
  /** Progress (0..1) through a memory leak of this host. */
  memLeak: number | undefined;
  heartbeatStopped: boolean;
  /** Services with an error burst. */
  errorBurst: Set<string>;
}

function checkCount(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new FleetOptionError(`Invalid number of ${what} "${n}": expected an integer from 1 to ${max}`);
  }
}

function isCounterRole(role: SeriesDef['role']): boolean {
  return role === 'requests_ok' || role === 'requests_err' || role === 'errors' || role === 'filler_counter';
}

function initialBase(role: SeriesDef['role'], rng: Rng): number {
  switch (role) {
    case 'cpu':
      return rng.uniform(0.1, 0.5);
    case 'mem':
      return rng.uniform(30, 70);
    case 'disk':
      return rng.uniform(20, 60);
    case 'requests_ok':
      return rng.uniform(20, 200); // requests per second of the service on this host
    case 'filler_counter':
      return rng.uniform(1, 1000);
    case 'filler_gauge':
      return rng.uniform(0, 100);
    default:
      return 0;
  }
}

/** One step of a mean-reverting walk, kept inside [min, max]. */
function walk(x: number, base: number, reversion: number, shock: number, min: number, max: number): number {
  return clamp(x + reversion * (base - x) + shock, min, max);
}

function clamp(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}

function counterAdd(values: Float64Array, i: number, restarted: boolean, increment: number): number {
  const inc = increment > 0 ? increment : 0;
  values[i] = restarted ? inc : values[i]! + inc;
  return values[i]!;
}

/**
 * A filling disk: climbs from at most its normal level to 99 % over the first half of the fault
 * (passing 80 then 95), stays near full, and drops back (cleanup) when the fault ends.
 */
function diskFillLevel(normal: number, progress: number, noise: number): number {
  const start = Math.min(normal, 60);
  const ramp = progress < 0.5 ? start + (99 - start) * (progress / 0.5) : 98 + noise;
  return clamp(Math.max(normal, ramp), 0, 100);
}

/**
 * A memory leak: climbs from the normal level to 99 % over the first 40 % of the fault, stays
 * near full (above 97), and drops back when the fault ends (the process is restarted).
 */
function memLeakLevel(normal: number, progress: number, noise: number): number {
  const ramp = progress < 0.4 ? normal + (99 - normal) * (progress / 0.4) : 98.5 + noise;
  return clamp(Math.max(normal, ramp), 0, 100);
}
