/**
 * The rules on the topology: a processor that feeds decoded sample batches into a RulesEngine
 * (one per task), evaluates closed windows after every record and forwards alert events and
 * recorded samples to its children (`alerts` and `recorded` sinks). Samples for windows already
 * evaluated are reported to the late topic (once per record) and counted.
 *
 * `RulesModule` owns the checked rules and every task's engine, so a hot reload reaches all tasks.
 */
import type { CheckedRules } from '../dsl/model.js';
import type { KeyValueStore, Processor, ProcessorContext, StreamRecord } from '../topology/api.js';
import type { ValueCodec } from '../state/codec.js';
import type { DecodedBatch } from '../model/decoded-batch.js';
import type { AlertEvent, SampleBatch } from '../model/types.js';
import { METRIC_KINDS } from '../model/types.js';
import { RulesEngine, type EngineOutput } from './engine.js';
import { counter } from '../obs/metrics.js';

/** Name of the changelogged store holding windows, absent() bookkeeping and alert states. */
export const RULES_STATE_STORE = 'rules-state';

/** JSON that keeps NaN and ±Infinity (accumulators start at ±Infinity). */
export const rulesStateCodec: ValueCodec<unknown> = {
  encode: (v) => Buffer.from(JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? { $num: String(x) } : x))),
  decode: (b) =>
    JSON.parse(b.toString('utf8'), (_k, x) => (x !== null && typeof x === 'object' && typeof x.$num === 'string' && Object.keys(x).length === 1 ? Number(x.$num) : x)),
};

/** Child names the processor forwards to. */
export const ALERTS_CHILD = 'rules-alerts-sink';
export const RECORDED_CHILD = 'rules-recorded-sink';

const lateCounter = counter('vigil_rules_late_samples_total', 'Samples that arrived after their rule window was evaluated', []);
const eventsCounter = counter('vigil_rules_alert_events_total', 'Alert events emitted', ['transition']);
const divByZeroCounter = counter('vigil_rules_division_by_zero_total', 'Groups without a value in a window because of a division by zero', []);
const evaluationsCounter = counter('vigil_rules_evaluations_total', 'Rule evaluations (one per rule per window close)', []);

/** Holds the current rules and the engine of every task (hot reload reaches them all). */
export class RulesModule {
  private readonly engines = new Set<RulesEngine>();
  /** The last alert event of each fingerprint (what the API shows as an alert's explanation). */
  readonly lastEvents = new Map<string, AlertEvent>();

  constructor(private model: Pick<CheckedRules, 'rules'>) {}

  /** Creates the engine of a new task. */
  createEngine(): RulesEngine {
    const e = new RulesEngine(this.model);
    this.engines.add(e);
    return e;
  }

  releaseEngine(e: RulesEngine): void {
    this.engines.delete(e);
  }

  /** Swaps in new checked rules; unchanged rules keep their state (see RulesEngine.reload). */
  reload(model: Pick<CheckedRules, 'rules'>): { changed: string[]; kept: string[]; removed: string[] } {
    this.model = model;
    let summary = { changed: [] as string[], kept: [] as string[], removed: [] as string[] };
    for (const e of this.engines) summary = e.reload(model);
    if (this.engines.size === 0) summary = new RulesEngine(model).reload(model);
    return summary;
  }

  /** Engines of the live tasks (the test runner and the HTTP API read alert states from them). */
  get liveEngines(): RulesEngine[] {
    return [...this.engines];
  }
}

export class RulesProcessor implements Processor<unknown, DecodedBatch> {
  private ctx!: ProcessorContext;
  private engine!: RulesEngine;
  private store!: KeyValueStore<unknown>;
  private lastRecordWall = 0;

  /**
   * `idleMs`: wall time without records after which stream time is advanced by the wall clock.
   * `byRecordKey`: the input is repartitioned (RouterProcessor): a record's key is the rule-level
   * group key its samples are for, and only the rules of that group are fed.
   */
  constructor(
    private readonly module: RulesModule,
    private readonly idleMs = 60_000,
    private readonly byRecordKey = false,
    /** Number of input partitions stage 1 runs on (repartitioned mode): windows wait for all of them. */
    private readonly inputPartitions = 0,
  ) {}

  init(ctx: ProcessorContext): void {
    this.ctx = ctx;
    this.engine = this.module.createEngine();
    this.store = ctx.getStateStore<KeyValueStore<unknown>>(RULES_STATE_STORE);
    for (const [k, v] of this.store.all()) this.engine.restore(k, v);
    this.lastRecordWall = ctx.wallClockTime;
    // An idle partition still closes windows (absent() must fire when a host goes silent).
    ctx.schedule(Math.max(1000, Math.floor(this.idleMs / 4)), 'wall-clock', (now) => this.onWallClock(now));
  }

  /**
   * Stream time of this processor's own input. With repartitioning the task also reads `metrics`
   * (stage 1), whose records run ahead of the repartitioned ones: the task's stream time would close
   * windows before their samples came back through the repartition topic.
   */
  private streamTime = -Infinity;

  /** Stream time of each stage-1 input partition, with the wall time it was last heard of. */
  private readonly sources = new Map<string, { wm: number; wall: number }>();
  private firstWall = NaN;

  private currentStreamTime(): number {
    if (!this.byRecordKey) return this.ctx.streamTime;
    if (this.sources.size === 0) return this.streamTime;
    // The slowest input partition heard of recently decides (Kafka Streams' max.task.idle.ms idea):
    // a partition silent for idleMs no longer holds windows open; until every expected partition has
    // spoken (or idleMs passed), nothing closes.
    const now = this.ctx.wallClockTime;
    if (this.sources.size < this.inputPartitions && now - this.firstWall < this.idleMs) return -Infinity;
    let min = Infinity;
    for (const s of this.sources.values()) if (now - s.wall < this.idleMs && s.wm < min) min = s.wm;
    return min === Infinity ? this.streamTime : min;
  }

  private onWallClock(now: number): void {
    const idle = now - this.lastRecordWall;
    const st = this.currentStreamTime();
    if (idle < this.idleMs || !Number.isFinite(st)) return;
    this.emit(this.engine.advance(st + idle));
  }

  flush(): void {
    for (const [k, v] of this.engine.drainChanges()) {
      if (v === null) this.store.delete(k);
      else this.store.put(k, v);
    }
  }

  process(record: StreamRecord<unknown, DecodedBatch>): void {
    this.lastRecordWall = this.ctx.wallClockTime;
    const b = record.value;
    const onlyKey = this.byRecordKey ? String(record.key ?? '') : undefined;
    if (record.timestamp > this.streamTime) this.streamTime = record.timestamp;
    const src = record.headers?.[SRC_HEADER];
    if (this.byRecordKey && src !== undefined) {
      const wm = Number(record.headers![WM_HEADER]);
      const now = this.ctx.wallClockTime;
      if (Number.isNaN(this.firstWall)) this.firstWall = now;
      const prev = this.sources.get(src);
      this.sources.set(src, { wm: prev && prev.wm > wm ? prev.wm : wm, wall: now });
    }
    const late = this.engine.ingestBatch(b, onlyKey);
    if (late > 0) {
      lateCounter.inc(late);
      this.ctx.reportLate({ 'vigil.late_samples': String(late) });
    }
    this.emit(this.engine.advance(this.currentStreamTime()));
  }

  private seen = { divByZero: 0, evaluations: 0 };

  private emit(out: EngineOutput): void {
    const c = this.engine.counters;
    if (c.divByZero > this.seen.divByZero) divByZeroCounter.inc(c.divByZero - this.seen.divByZero);
    if (c.evaluations > this.seen.evaluations) evaluationsCounter.inc(c.evaluations - this.seen.evaluations);
    this.seen = { divByZero: c.divByZero, evaluations: c.evaluations };
    for (const ev of out.events) {
      eventsCounter.inc({ transition: ev.transition });
      this.module.lastEvents.set(ev.fingerprint, ev);
      this.ctx.forward<string, AlertEvent>({ key: ev.fingerprint, value: ev, timestamp: ev.window_end }, ALERTS_CHILD);
    }
    if (out.recorded.length) {
      // One batch per window end keeps event time exact per record.
      const byTime = new Map<number, SampleBatch>();
      for (const s of out.recorded) {
        let batch = byTime.get(s.timestamp);
        if (!batch) byTime.set(s.timestamp, (batch = { source: {}, samples: [] }));
        batch.samples.push(s);
      }
      for (const [t, batch] of byTime) this.ctx.forward<string, SampleBatch>({ key: 'vigil-recording-rules', value: batch, timestamp: t }, RECORDED_CHILD);
    }
  }

  close(): void {
    this.module.releaseEngine(this.engine);
  }
}

/**
 * Stage 1 of the repartitioned rules topology: sends each selected sample, once per rule-level group
 * key it feeds, to the repartition topic keyed by that group key, so every group is evaluated whole
 * by one task whatever the partitions its sources live on. A record without samples is passed on
 * (key "") so that stream time still moves downstream.
 */
export class RulesRouterProcessor implements Processor<unknown, DecodedBatch> {
  private ctx!: ProcessorContext;
  private engine!: RulesEngine;

  constructor(private readonly module: RulesModule) {}

  init(ctx: ProcessorContext): void {
    this.ctx = ctx;
    // Only its routes are used (selection and group keys follow hot reloads); it never evaluates.
    this.engine = this.module.createEngine();
  }

  process(record: StreamRecord<unknown, DecodedBatch>): void {
    const b = record.value;
    const out = new Map<string, SampleBatch>();
    for (let i = 0; i < b.length; i++) {
      const series = b.series.get(b.seriesRefs[i]!);
      const keys = this.engine.partitionKeys(series);
      if (keys.length === 0) continue;
      const sample = { name: series.name, labels: series.labels as Record<string, string>, timestamp: b.timestamps[i]!, value: b.values[i]!, kind: METRIC_KINDS[b.kinds[i]!] ?? 'UNKNOWN' };
      for (const k of keys) {
        let batch = out.get(k);
        if (!batch) out.set(k, (batch = { source: {}, samples: [] }));
        batch.samples.push(sample);
      }
    }
    // Where the samples come from and how far that input partition is: stage 2 aligns on the slowest.
    const headers = { [SRC_HEADER]: String(this.ctx.partition), [WM_HEADER]: String(this.ctx.streamTime) };
    if (out.size === 0) {
      this.ctx.forward<string, SampleBatch>({ key: '', value: { source: {}, samples: [] }, timestamp: record.timestamp, headers }, REPARTITION_CHILD);
      return;
    }
    for (const [k, batch] of out) {
      let t = -Infinity;
      for (const s of batch.samples) if (s.timestamp > t) t = s.timestamp;
      this.ctx.forward<string, SampleBatch>({ key: k, value: batch, timestamp: t, headers }, REPARTITION_CHILD);
    }
  }

  close(): void {
    this.module.releaseEngine(this.engine);
  }
}

export const REPARTITION_CHILD = 'rules-repartition-sink';
/** Headers of repartitioned records: source partition and its stream time. */
export const SRC_HEADER = 'vigil.rules-src';
export const WM_HEADER = 'vigil.rules-wm';
