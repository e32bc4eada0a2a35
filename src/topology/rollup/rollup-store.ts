/**
 * State of a rollup task: the open windows (WindowColumns per window start), per-series columns that
 * outlive a window (source, kind, last counter value), the series and source directories. Persisted
 * in blocks of BLOCK_SLOTS slots so a commit writes a few hundred LevelDB entries, not one per series.
 *
 * Store keys: `ser/<block>` series names+labels (JSON), `src/<block>` source keys (JSON),
 * `p/<block>` per-series columns, `w/<start>/<block>` window accumulators.
 */
import type { CommitBatch, StateStore } from '../api.js';
import { TopologyError } from '../api.js';
import { BLOCK_SLOTS, WindowColumns } from './window-columns.js';

/** Where series identities live (the decoder's SeriesTable for raw samples). */
export interface SeriesDirectory {
  readonly size: number;
  get(ref: number): { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  /** Re-creates a persisted series; must yield `ref === expectedRef` (restored in slot order). */
  restore(expectedRef: number, name: string, labels: Record<string, string>): void;
}

const SOURCE_BLOCK = 1024;
const pad = (n: number) => String(n).padStart(8, '0');

/** One closed window of one series, ready to be packed into RollupBatch records. */
export interface ClosedSeries {
  slot: number;
  source: number;
}

export class RollupStore implements StateStore {
  readonly windows = new Map<number, WindowColumns>();
  /** Per-series columns kept across windows. */
  sourceOf = new Int32Array(1024).fill(-1);
  kindOf = new Uint8Array(1024);
  counterLast = new Float64Array(1024).fill(NaN);
  private dirtySeriesBlocks = new Uint8Array(1);
  readonly sources: Array<string | null> = [];
  private readonly sourceIndex = new Map<string | null, number>();
  private persistedSeries = 0;
  private persistedSources = 0;
  /** Windows closed since the last commit, with the blocks storage holds of each. */
  private readonly deletedWindows: Array<[number, Uint8Array]> = [];
  private pendingSeries = new Map<number, Array<[string, Record<string, string>]>>();

  constructor(
    readonly name: string,
    readonly resolutionMs: number,
    readonly graceMs: number,
    readonly series: SeriesDirectory,
  ) {}

  // ---- hot path ----------------------------------------------------------------------------

  /** Index of a source key (interned). */
  sourceId(key: string | null): number {
    let id = this.sourceIndex.get(key);
    if (id === undefined) {
      id = this.sources.length;
      this.sources.push(key);
      this.sourceIndex.set(key, id);
    }
    return id;
  }

  /** Grows the per-series columns to hold `slot`. */
  ensureSeries(slot: number): void {
    if (slot < this.sourceOf.length) return;
    let n = this.sourceOf.length;
    while (n <= slot) n *= 2;
    const s = new Int32Array(n).fill(-1);
    s.set(this.sourceOf);
    this.sourceOf = s;
    const k = new Uint8Array(n);
    k.set(this.kindOf);
    this.kindOf = k;
    const c = new Float64Array(n).fill(NaN);
    c.set(this.counterLast);
    this.counterLast = c;
    const d = new Uint8Array(Math.ceil(n / BLOCK_SLOTS));
    d.set(this.dirtySeriesBlocks);
    this.dirtySeriesBlocks = d;
  }

  /** Records the source and kind of a series (marks its block dirty only when they change). */
  noteSeries(slot: number, source: number, kind: number): void {
    if (this.sourceOf[slot] !== source || this.kindOf[slot] !== kind) {
      this.sourceOf[slot] = source;
      this.kindOf[slot] = kind;
      this.dirtySeriesBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    }
  }

  /** The columns of the window starting at `start`, created on first use. */
  window(start: number): WindowColumns {
    let w = this.windows.get(start);
    if (!w) {
      w = new WindowColumns(start, Math.max(this.series.size, 16));
      this.windows.set(start, w);
    }
    return w;
  }

  /** Earliest stream time at which some open window closes (Infinity when none). */
  nextCloseTime(): number {
    let t = Infinity;
    for (const start of this.windows.keys()) t = Math.min(t, start + this.resolutionMs + this.graceMs);
    return t;
  }

  /**
   * Removes the windows closed at `streamTime` (ascending) and hands each one to `emit`. Counter
   * increases get the delta from the series' last value before the window (resets handled).
   */
  closeWindows(streamTime: number, emit: (w: WindowColumns, slots: Int32Array) => void, boundaryDelta: boolean): number {
    const due = [...this.windows.keys()].filter((s) => s + this.resolutionMs + this.graceMs <= streamTime).sort((a, b) => a - b);
    for (const start of due) {
      const w = this.windows.get(start)!;
      const slots = w.sortedTouched();
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i]!;
        this.ensureSeries(s);
        if (this.kindOf[s] !== 2) continue;
        if (boundaryDelta) {
          const prev = this.counterLast[s]!;
          if (!Number.isNaN(prev)) {
            const d = w.first[s]! - prev;
            w.increase[s] += d >= 0 ? d : w.first[s]!;
          }
        }
        this.counterLast[s] = w.last[s]!;
        this.dirtySeriesBlocks[(s / BLOCK_SLOTS) | 0] = 1;
      }
      emit(w, slots);
      this.windows.delete(start);
      this.deletedWindows.push([start, w.storedBlocks]);
    }
    return due.length;
  }

  // ---- persistence -------------------------------------------------------------------------

  commit(batch: CommitBatch): void {
    for (const [start, stored] of this.deletedWindows) {
      // Only the blocks storage holds (a window closed before any commit leaves nothing to delete).
      for (let b = 0; b < stored.length; b++) if (stored[b]) batch.del(`w/${start}/${pad(b)}`);
    }
    this.deletedWindows.length = 0;
    const size = this.series.size;
    if (size > this.persistedSeries) {
      for (let b = Math.floor(this.persistedSeries / BLOCK_SLOTS); b * BLOCK_SLOTS < size; b++) {
        const list: Array<[string, Readonly<Record<string, string>>]> = [];
        for (let s = b * BLOCK_SLOTS; s < Math.min(size, (b + 1) * BLOCK_SLOTS); s++) {
          const info = this.series.get(s);
          list.push([info.name, info.labels]);
        }
        batch.put(`ser/${pad(b)}`, Buffer.from(JSON.stringify(list)));
      }
      this.persistedSeries = size;
    }
    if (this.sources.length > this.persistedSources) {
      for (let b = Math.floor(this.persistedSources / SOURCE_BLOCK); b * SOURCE_BLOCK < this.sources.length; b++) {
        batch.put(`src/${pad(b)}`, Buffer.from(JSON.stringify(this.sources.slice(b * SOURCE_BLOCK, (b + 1) * SOURCE_BLOCK))));
      }
      this.persistedSources = this.sources.length;
    }
    for (let b = 0; b < this.dirtySeriesBlocks.length; b++) {
      if (!this.dirtySeriesBlocks[b]) continue;
      this.dirtySeriesBlocks[b] = 0;
      batch.put(`p/${pad(b)}`, this.encodePerSeries(b));
    }
    for (const [start, w] of this.windows) {
      const dirty = w.dirtyBlocks;
      for (let b = 0; b < dirty.length; b++) {
        if (!dirty[b]) continue;
        dirty[b] = 0;
        w.storedBlocks[b] = 1;
        batch.put(`w/${start}/${pad(b)}`, w.encodeBlock(b));
      }
    }
  }

  private encodePerSeries(block: number): Buffer {
    const from = block * BLOCK_SLOTS;
    const to = Math.min(from + BLOCK_SLOTS, this.sourceOf.length);
    const n = Math.max(0, to - from);
    const b = Buffer.allocUnsafe(4 + n * 13);
    b.writeUInt32LE(n, 0);
    for (let i = 0; i < n; i++) {
      const o = 4 + i * 13;
      b.writeInt32LE(this.sourceOf[from + i]!, o);
      b.writeUInt8(this.kindOf[from + i]!, o + 4);
      b.writeDoubleLE(this.counterLast[from + i]!, o + 5);
    }
    return b;
  }

  private decodePerSeries(block: number, b: Buffer): void {
    const n = b.readUInt32LE(0);
    const from = block * BLOCK_SLOTS;
    if (n > 0) this.ensureSeries(from + n - 1);
    for (let i = 0; i < n; i++) {
      const o = 4 + i * 13;
      this.sourceOf[from + i] = b.readInt32LE(o);
      this.kindOf[from + i] = b.readUInt8(o + 4);
      this.counterLast[from + i] = b.readDoubleLE(o + 5);
    }
  }

  /** Entries arrive in key order: `p/` < `ser/` < `src/` < `w/`; series must exist before use. */
  restore(key: string, value: Buffer | null): void {
    const [kind, a, b] = key.split('/');
    if (value === null) {
      return;
    }
    if (kind === 'ser') {
      const block = Number(a);
      const list = JSON.parse(value.toString()) as Array<[string, Record<string, string>]>;
      this.pendingSeries.set(block, list);
      this.flushPendingSeries();
    } else if (kind === 'src') {
      const block = Number(a);
      const list = JSON.parse(value.toString()) as Array<string | null>;
      list.forEach((k, i) => {
        const idx = block * SOURCE_BLOCK + i;
        this.sources[idx] = k;
        this.sourceIndex.set(k, idx);
      });
      this.persistedSources = this.sources.length;
    } else if (kind === 'p') {
      this.decodePerSeries(Number(a), value);
    } else if (kind === 'w') {
      this.window(Number(a)).decodeBlock(Number(b), value);
    } else {
      throw new TopologyError(`Unknown rollup store key "${key}"`, 'CORRUPT_STATE');
    }
  }

  private flushPendingSeries(): void {
    // Blocks arrive in order (zero-padded keys); restore strictly in slot order.
    for (;;) {
      const block = Math.floor(this.series.size / BLOCK_SLOTS);
      const list = this.pendingSeries.get(block);
      if (!list) return;
      const from = block * BLOCK_SLOTS;
      for (let i = this.series.size - from; i < list.length; i++) this.series.restore(from + i, list[i]![0], list[i]![1]);
      this.pendingSeries.delete(block);
      this.persistedSeries = this.series.size;
      if (list.length < BLOCK_SLOTS) return;
    }
  }

  approximateEntries(): number {
    return this.series.size;
  }

  /** Bytes held in typed arrays (for the memory benchmark and /metrics). */
  residentBytes(): number {
    let n = this.sourceOf.byteLength + this.kindOf.byteLength + this.counterLast.byteLength;
    for (const w of this.windows.values()) {
      n += w.count.byteLength + w.sum.byteLength * 6 + w.firstTs.byteLength * 2 + w.touched.byteLength;
    }
    return n;
  }

  close(): void {
    this.windows.clear();
  }
}
