/**
 * Scheduled host faults, so that the example rules fire: CPU pegged, a disk filling, memory
 * leaking, an error burst of one service, a host whose heartbeat stops. Times are offsets from the fleet's start
 * (event time), so a schedule means the same thing in real time and in fast-forward.
 */
import { deriveSeed, Rng } from './rng.js';
import { parseDuration } from './time-parse.js';
import { FleetOptionError } from './fleet-option-error.js';
import { SERVICES } from './metric-catalog.js';

export type FaultKind = 'cpu' | 'disk' | 'mem' | 'errors' | 'heartbeat';

export const FAULT_KINDS: readonly FaultKind[] = ['cpu', 'disk', 'mem', 'errors', 'heartbeat'];

/**
 * One fault. `target` is a host name, except for `errors` where it is a service (`api`, `web`):
 * a bad deploy of that service on every host, because the error-rate rule sums over all hosts.
 */
export interface Fault {
  readonly kind: FaultKind;
  readonly target: string;
  /** Start, milliseconds after the fleet's start time. */
  readonly atMs: number;
  readonly durationMs: number;
}

/** A fault in effect at some instant, with how far through it is (0 at start, 1 at end). */
export interface ActiveFault extends Fault {
  readonly progress: number;
}

/** The default cycle: first fault 20 s after start, each long enough for its example rule to fire. */
const DEFAULT_CYCLE: readonly { kind: FaultKind; atMs: number; durationMs: number }[] = [
  { kind: 'cpu', atMs: 20_000, durationMs: 10 * 60_000 },
  { kind: 'heartbeat', atMs: 60_000, durationMs: 6 * 60_000 },
  { kind: 'errors', atMs: 2 * 60_000, durationMs: 18 * 60_000 },
  { kind: 'disk', atMs: 3 * 60_000, durationMs: 30 * 60_000 },
  { kind: 'mem', atMs: 4 * 60_000, durationMs: 15 * 60_000 },
];

/** The default cycle repeats with new target hosts every 45 minutes. */
export const DEFAULT_PERIOD_MS = 45 * 60_000;

export function formatFault(f: Fault): string {
  return `${f.kind}:${f.target}`;
}

/** Which faults are in effect when; pure. */
export class FaultSchedule {
  private constructor(
    private readonly fixed: readonly Fault[],
    private readonly cycle?: { readonly seed: number; readonly hosts: readonly string[]; readonly periodMs: number },
  ) {}

  /** No faults at all. */
  static none(): FaultSchedule {
    return new FaultSchedule([]);
  }

  /** Exactly these faults, once. */
  static of(faults: readonly Fault[]): FaultSchedule {
    return new FaultSchedule([...faults]);
  }

  /** The default cycle over these hosts, targets drawn from `seed`, repeating every DEFAULT_PERIOD_MS. */
  static defaultCycle(hosts: readonly string[], seed: number): FaultSchedule {
    if (hosts.length === 0) return FaultSchedule.none();
    return new FaultSchedule([], { seed, hosts, periodMs: DEFAULT_PERIOD_MS });
  }

  /**
   * `none`, `default`, or a comma-separated list of `KIND:TARGET@START+DURATION`, e.g.
   * `cpu:p1-h2@30s+10m,errors:api@1m+15m`. Throws FleetOptionError naming the bad entry.
   */
  static parse(spec: string, hosts: readonly string[], seed: number): FaultSchedule {
    const trimmed = spec.trim();
    if (trimmed === 'none') return FaultSchedule.none();
    if (trimmed === 'default') return FaultSchedule.defaultCycle(hosts, seed);
    const known = new Set(hosts);
    const faults = trimmed.split(',').map((entry) => parseEntry(entry.trim(), known));
    return FaultSchedule.of(faults);
  }

  /** Faults in effect at `offsetMs` after the start (start inclusive, end exclusive). */
  activeAt(offsetMs: number): ActiveFault[] {
    const out: ActiveFault[] = [];
    const consider = (f: Fault) => {
      if (offsetMs >= f.atMs && offsetMs < f.atMs + f.durationMs) {
        out.push({ ...f, progress: (offsetMs - f.atMs) / f.durationMs });
      }
    };
    for (const f of this.fixed) consider(f);
    if (this.cycle && offsetMs >= 0) {
      const k = Math.floor(offsetMs / this.cycle.periodMs);
      // A cycle's faults all end within its period, so only the current cycle can be active.
      for (const f of this.cycleFaults(k)) consider(f);
    }
    return out;
  }

  /** The faults of default cycle `k` (absolute offsets); empty for a fixed schedule. */
  cycleFaults(k: number): Fault[] {
    if (!this.cycle) return [];
    const { seed, hosts, periodMs } = this.cycle;
    const rng = new Rng(deriveSeed(seed, 0xfa17, k));
    const picked = pickDistinct(hosts, 4, rng);
    const targets: Record<FaultKind, string> = {
      cpu: picked[0]!,
      heartbeat: picked[1 % picked.length]!,
      disk: picked[2 % picked.length]!,
      mem: picked[3 % picked.length]!,
      errors: SERVICES[k % SERVICES.length]!,
    };
    return DEFAULT_CYCLE.map((c) => ({ kind: c.kind, target: targets[c.kind], atMs: k * periodMs + c.atMs, durationMs: c.durationMs }));
  }

  /** A one-line description for logs and status lines. */
  describe(): string {
    if (this.cycle) return `default cycle every ${this.cycle.periodMs / 60_000}m`;
    if (this.fixed.length === 0) return 'none';
    return this.fixed.map((f) => `${formatFault(f)}@${f.atMs}ms+${f.durationMs}ms`).join(',');
  }
}

function pickDistinct(hosts: readonly string[], n: number, rng: Rng): string[] {
  const picked: string[] = [];
  const used = new Set<number>();
  while (picked.length < Math.min(n, hosts.length)) {
    const i = rng.int(hosts.length);
    if (used.has(i)) continue;
    used.add(i);
    picked.push(hosts[i]!);
  }
  return picked;
}

function parseEntry(entry: string, hosts: ReadonlySet<string>): Fault {
  const m = /^([a-z]+):([^@\s]+)@([^+\s]+)\+(\S+)$/.exec(entry);
  if (!m) {
    throw new FleetOptionError(
      `Invalid fault "${entry}": expected KIND:TARGET@START+DURATION, e.g. cpu:p1-h1@30s+10m (or "none", "default")`,
    );
  }
  const [, kind, target, at, duration] = m as unknown as [string, string, string, string, string];
  if (!FAULT_KINDS.includes(kind as FaultKind)) {
    throw new FleetOptionError(`Invalid fault "${entry}": unknown kind "${kind}", expected one of ${FAULT_KINDS.join(', ')}`);
  }
  if (kind === 'errors') {
    if (!(SERVICES as readonly string[]).includes(target)) {
      throw new FleetOptionError(`Invalid fault "${entry}": errors target must be a service (${SERVICES.join(', ')}), got "${target}"`);
    }
  } else if (!hosts.has(target)) {
    throw new FleetOptionError(`Invalid fault "${entry}": no host named "${target}" in this fleet`);
  }
  const durationMs = parseDuration(duration, `fault duration in "${entry}"`);
  if (durationMs <= 0) throw new FleetOptionError(`Invalid fault "${entry}": duration must be positive`);
  return { kind: kind as FaultKind, target, atMs: parseDuration(at, `fault start in "${entry}"`), durationMs };
}
