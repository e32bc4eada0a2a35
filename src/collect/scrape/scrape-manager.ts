/**
 * Runs the scrape loops of a set of targets. Each target is scraped at the fixed slots
 * `k * interval + offset`, where `offset` is derived from the target's key: every collector
 * computes the same slots, so the `owns(key, slotTime)` check of sharding (which member list is
 * in force at a given instant) decides exactly one scraper per slot, even while targets move.
 *
 * A target that leaves the set gets stale markers for its series (when this instance scraped it
 * last); a target that only moves to another collector does not (its new owner continues it).
 */
import { hash64 } from '../../model/series.js';
import { componentLogger } from '../../obs/logger.js';
import { counter, gauge } from '../../obs/metrics.js';
import type { Sample } from '../../model/types.js';
import type { SamplePublisher } from '../sample-publisher.js';
import { scrapeUrl, type ScrapeOutcome } from './scrape-http.js';
import { scrapeSamples, staleSamples, type SeriesMemory } from './scrape-samples.js';
import type { ScrapeTarget } from './targets.js';

export interface ScrapeManagerOptions {
  publisher: SamplePublisher;
  /** Whether this instance scrapes `targetKey` in the slot starting at `slotTime`; default always. */
  owns?: (targetKey: string, slotTime: number) => boolean;
  /** Wall clock in ms (scrape timestamps and slots). */
  now?: () => number;
  /** The HTTP scrape (replaceable in tests); default `scrapeUrl`. */
  scrape?: (url: string, timeoutMs: number) => Promise<ScrapeOutcome>;
  /** User-Agent of the scrapes (default `vigil-collect/<version>`); useful to tell collectors apart. */
  userAgent?: string;
  /** Called for every slot skipped (timer too late, or the previous scrape still running). */
  onMissed?: (targetKey: string, slotTime: number, reason: 'late' | 'busy') => void;
  /** Publish stale markers for targets and series that disappear (default true). */
  staleMarkers?: boolean;
}

/** Counters for the status line. */
export interface ScrapeStats {
  targets: number;
  scrapes: number;
  failures: number;
  samples: number;
  publishErrors: number;
  /** Slots skipped: the timer fired more than half an interval late, or the previous scrape was still running. */
  missed: number;
  /** Targets whose last scrape by this instance was up / down. */
  up: number;
  down: number;
}

interface TargetState {
  target: ScrapeTarget;
  offset: number;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  previous: SeriesMemory;
  lastUp: boolean | undefined;
  lastError: string | undefined;
}

const log = componentLogger('scrape');
const scrapesTotal = counter('vigil_collect_scrapes_total', 'Scrapes by result', ['result']);
const publishErrorsTotal = counter('vigil_collect_publish_errors_total', 'Scrape results the publisher refused (samples counted)', ['reason']);
const missedTotal = counter('vigil_collect_missed_slots_total', 'Scrape slots skipped (timer too late, or the previous scrape still running)');
const targetsGauge = gauge('vigil_collect_targets', 'Targets known to this collector');

/** Slot offset of a target within its interval (same on every collector). */
export function slotOffset(key: string, intervalMs: number): number {
  const h = hash64(key);
  return ((h.hi >>> 0) * 4294967296 + (h.lo >>> 0)) % intervalMs;
}

/** The first slot time strictly after `after` for this offset and interval. */
export function nextSlot(after: number, offset: number, intervalMs: number): number {
  const k = Math.floor((after - offset) / intervalMs) + 1;
  return k * intervalMs + offset;
}

export class ScrapeManager {
  private readonly states = new Map<string, TargetState>();
  private readonly now: () => number;
  private readonly owns: (key: string, slot: number) => boolean;
  private readonly scrape: (url: string, timeoutMs: number) => Promise<ScrapeOutcome>;
  private closed = false;
  readonly stats: ScrapeStats = { targets: 0, scrapes: 0, failures: 0, samples: 0, publishErrors: 0, missed: 0, up: 0, down: 0 };

  constructor(private readonly options: ScrapeManagerOptions) {
    this.now = options.now ?? Date.now;
    this.owns = options.owns ?? (() => true);
    const headers: Record<string, string> = options.userAgent ? { 'User-Agent': options.userAgent } : {};
    this.scrape = options.scrape ?? ((url, timeoutMs) => scrapeUrl(url, timeoutMs, headers));
  }

  /** Replaces the target set: new targets start at their next slot, removed ones stop (and go stale). */
  setTargets(targets: readonly ScrapeTarget[]): void {
    if (this.closed) return;
    const next = new Map(targets.map((t) => [t.key, t]));
    for (const [key, state] of this.states) {
      if (next.has(key)) continue;
      this.stop(state);
      this.states.delete(key);
      if (state.lastUp === true) this.stats.up--;
      if (state.lastUp === false) this.stats.down--;
      if (state.previous.size > 0 && this.options.staleMarkers !== false) void this.publish(state.target, staleSamples(state.previous, this.now()));
    }
    for (const [key, target] of next) {
      const existing = this.states.get(key);
      if (existing) {
        const retimed = existing.target.intervalMs !== target.intervalMs;
        existing.target = target;
        if (retimed) {
          // A new interval means new slots (the same on every collector): reschedule from now.
          this.stop(existing);
          existing.offset = slotOffset(key, target.intervalMs);
          this.schedule(existing, this.now());
        }
        continue;
      }
      const state: TargetState = {
        target,
        offset: slotOffset(key, target.intervalMs),
        timer: undefined,
        running: undefined,
        previous: new Map(),
        lastUp: undefined,
        lastError: undefined,
      };
      this.states.set(key, state);
      this.schedule(state, this.now());
    }
    this.stats.targets = this.states.size;
    targetsGauge.set(this.states.size);
  }

  /** Health of every target as last seen by this instance (undefined = not scraped here yet). */
  health(): Array<{ key: string; url: string; up: boolean | undefined; error: string | undefined }> {
    return [...this.states.values()].map((s) => ({ key: s.target.key, url: s.target.url, up: s.lastUp, error: s.lastError }));
  }

  /** Stops every loop and waits for scrapes in flight (no stale markers: the targets did not go away). */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.states.values()) this.stop(state);
    await Promise.all([...this.states.values()].map((s) => s.running));
  }

  private stop(state: TargetState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
  }

  private schedule(state: TargetState, after: number): void {
    if (this.closed) return;
    const slot = nextSlot(after, state.offset, state.target.intervalMs);
    state.timer = setTimeout(() => this.fire(state, slot), Math.max(0, slot - this.now()));
  }

  private fire(state: TargetState, slot: number): void {
    if (this.closed || this.states.get(state.target.key) !== state) return;
    this.schedule(state, slot);
    if (!this.owns(state.target.key, slot)) {
      // Moved away: forget its series without stale markers (the new owner continues them).
      state.previous = new Map();
      if (state.lastUp === true) this.stats.up--;
      if (state.lastUp === false) this.stats.down--;
      state.lastUp = undefined;
      return;
    }
    // A timer more than half an interval late (event loop stalled) skips its slot rather than
    // scraping right before the next one: at most one scrape per interval, also in wall time.
    if (this.now() - slot > state.target.intervalMs / 2) {
      this.missed(state, slot, 'late');
      return;
    }
    if (state.running) {
      this.missed(state, slot, 'busy');
      log.warn({ target: state.target.url }, 'previous scrape still running: slot skipped');
      return;
    }
    state.running = this.run(state).finally(() => {
      state.running = undefined;
    });
  }

  private missed(state: TargetState, slot: number, reason: 'late' | 'busy'): void {
    this.stats.missed++;
    missedTotal.inc();
    this.options.onMissed?.(state.target.key, slot, reason);
  }

  private async run(state: TargetState): Promise<void> {
    const { target } = state;
    const start = this.now();
    const outcome = await this.scrape(target.url, target.timeoutMs);
    const duration = this.now() - start;
    const previous = this.options.staleMarkers === false ? new Map() : state.previous;
    const result = scrapeSamples(target, outcome, previous, start, duration);
    state.previous = result.seen;
    this.count(state, result.up, result.error);
    this.stats.scrapes++;
    await this.publish(target, result.samples);
  }

  private count(state: TargetState, up: boolean, error: string | undefined): void {
    if (state.lastUp === true) this.stats.up--;
    if (state.lastUp === false) this.stats.down--;
    // Log transitions (and a changed error), not every failed scrape of a target that stays down.
    if (!up && error !== state.lastError) log.warn({ target: state.target.url, error }, 'scrape failed: target down');
    if (up && state.lastUp === false) log.info({ target: state.target.url }, 'target up again');
    state.lastUp = up;
    state.lastError = error;
    if (up) this.stats.up++;
    else {
      this.stats.down++;
      this.stats.failures++;
    }
    scrapesTotal.inc({ result: up ? 'up' : 'down' });
  }

  private async publish(target: ScrapeTarget, samples: Sample[]): Promise<void> {
    try {
      await this.options.publisher.publish(target.labels, samples);
      this.stats.samples += samples.length;
    } catch (err) {
      this.stats.publishErrors++;
      publishErrorsTotal.inc({ reason: (err as { code?: string }).code ?? 'error' }, samples.length);
      log.error({ target: target.url, err }, 'publisher refused scrape samples');
    }
  }
}
