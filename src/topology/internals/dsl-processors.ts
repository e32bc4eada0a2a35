/**
 * Processors behind the builder's stateless operators (filter, map, flatMap, peek) and the
 * stateful ones (windowed aggregate, suppress). Each is a small class; the builder wires them.
 */
import type { KeyValueStore, Processor, ProcessorContext, StreamRecord, WindowStore } from '../api.js';
import { closeTime, isWindowClosed, windowStartsFor, type WindowSpec } from '../windows.js';

/** Key of a windowed aggregation result. */
export interface Windowed<K> {
  key: K;
  start: number;
  end: number;
}

export class StatelessProcessor implements Processor {
  private ctx!: ProcessorContext;
  constructor(private readonly fn: (record: StreamRecord) => StreamRecord[] | StreamRecord | null) {}
  init(ctx: ProcessorContext): void {
    this.ctx = ctx;
  }
  process(record: StreamRecord): void {
    const out = this.fn(record);
    if (out === null) return;
    if (Array.isArray(out)) for (const r of out) this.ctx.forward(r);
    else this.ctx.forward(out);
  }
}

/** Mergeable aggregation: an initial value, adding one value, and (optional) merging two partials. */
export interface Aggregator<V, A> {
  init(): A;
  add(acc: A, key: string, value: V): A;
  merge?(a: A, b: A): A;
}

/**
 * Windowed aggregation into a window store. Records whose windows are all closed are reported late
 * (`metrics.late`), never folded in. Each update is forwarded downstream as (Windowed key, aggregate);
 * windows are removed from the store once they closed and retention passed.
 */
export class WindowedAggregateProcessor<V, A> implements Processor<string, V, Windowed<string>, A> {
  private ctx!: ProcessorContext<Windowed<string>, A>;
  private store!: WindowStore<A>;

  constructor(
    private readonly storeName: string,
    private readonly spec: WindowSpec,
    private readonly aggregator: Aggregator<V, A>,
    private readonly retentionMs: number,
  ) {}

  init(ctx: ProcessorContext<Windowed<string>, A>): void {
    this.ctx = ctx;
    this.store = ctx.getStateStore<WindowStore<A>>(this.storeName);
    ctx.schedule(this.spec.advanceMs, 'stream-time', (t) => this.store.deleteBefore(t - this.retentionMs - this.spec.sizeMs));
  }

  process(record: StreamRecord<string, V>): void {
    const st = this.ctx.streamTime;
    let late = false;
    for (const start of windowStartsFor(record.timestamp, this.spec)) {
      if (isWindowClosed(start, this.spec, st)) {
        late = true;
        continue;
      }
      const acc = this.store.fetch(record.key, start) ?? this.aggregator.init();
      const next = this.aggregator.add(acc, record.key, record.value);
      this.store.put(record.key, start, next);
      this.ctx.forward({ key: { key: record.key, start, end: start + this.spec.sizeMs }, value: next, timestamp: record.timestamp });
    }
    if (late) this.ctx.reportLate({ 'vigil.window_close': String(closeTime(windowStartsFor(record.timestamp, this.spec)[0]!, this.spec)) });
  }
}

/** Non-windowed aggregation into a key-value store (a KTable); forwards each update. */
export class AggregateProcessor<V, A> implements Processor<string, V, string, A> {
  private ctx!: ProcessorContext<string, A>;
  private store!: KeyValueStore<A>;
  constructor(
    private readonly storeName: string,
    private readonly aggregator: Aggregator<V, A>,
  ) {}
  init(ctx: ProcessorContext<string, A>): void {
    this.ctx = ctx;
    this.store = ctx.getStateStore<KeyValueStore<A>>(this.storeName);
  }
  process(record: StreamRecord<string, V>): void {
    const next = this.aggregator.add(this.store.get(record.key) ?? this.aggregator.init(), record.key, record.value);
    this.store.put(record.key, next);
    this.ctx.forward({ key: record.key, value: next, timestamp: record.timestamp });
  }
}

interface Buffered<A> {
  key: string;
  start: number;
  end: number;
  value: A;
  timestamp: number;
}

/**
 * suppress(untilWindowCloses): keeps the latest result per window in a (changelogged) buffer store and
 * forwards it exactly once, when stream time reaches the window's end + grace.
 */
export class SuppressProcessor<A> implements Processor<Windowed<string>, A, Windowed<string>, A> {
  private ctx!: ProcessorContext<Windowed<string>, A>;
  private buffer!: KeyValueStore<Buffered<A>>;
  private nextClose = Infinity;

  constructor(
    private readonly storeName: string,
    private readonly graceMs: number,
  ) {}

  init(ctx: ProcessorContext<Windowed<string>, A>): void {
    this.ctx = ctx;
    this.buffer = ctx.getStateStore<KeyValueStore<Buffered<A>>>(this.storeName);
    for (const [, b] of this.buffer.all()) this.nextClose = Math.min(this.nextClose, b.end + this.graceMs);
    ctx.schedule(1, 'stream-time', (t) => this.emitClosed(t));
  }

  process(record: StreamRecord<Windowed<string>, A>): void {
    const { key, start, end } = record.key;
    this.buffer.put(`${String(start).padStart(16, '0')}\u0000${key}`, { key, start, end, value: record.value, timestamp: record.timestamp });
    this.nextClose = Math.min(this.nextClose, end + this.graceMs);
  }

  private emitClosed(streamTime: number): void {
    if (streamTime < this.nextClose) return;
    let next = Infinity;
    const due: [string, Buffered<A>][] = [];
    for (const entry of this.buffer.all()) {
      if (entry[1].end + this.graceMs <= streamTime) due.push(entry);
      else next = Math.min(next, entry[1].end + this.graceMs);
    }
    for (const [k, b] of due) {
      this.buffer.delete(k);
      this.ctx.forward({ key: { key: b.key, start: b.start, end: b.end }, value: b.value, timestamp: b.end - 1 });
    }
    this.nextClose = next;
  }
}
