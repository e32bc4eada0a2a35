/**
 * State of a rollup task: the open windows (WindowColumns per window start) and per-series columns that
 * outlive a window (source, kind, last counter value, when it was last seen, whether it ended), indexed
 * by a dense **slot**. A series gets a slot on its first sample (`slotByRef`, from the directory's ref)
 * and gives it back when it is evicted, so the columns are sized by the series alive, not by every series
 * ever seen: a series is evicted once no open window holds it and it ended (a stale marker) or has not
 * reported for `evictAfterMs` of stream time (like Prometheus' head garbage collection). The lowest free
 * slot is taken first, so a restored task assigns slots exactly as an uninterrupted one.
 *
 * Persisted in blocks of BLOCK_SLOTS slots so a commit writes a few hundred entries, not one per series.
 * Store keys: `ser/<block>` series name + labels per slot (JSON, null = free slot), `src/<block>` source
 * keys (JSON), `p/<block>` per-series columns, `w/<start>/<block>` window accumulators.
 */
import type { CommitBatch, StateStore } from '../api.js';
import { TopologyError } from '../api.js';
import { BLOCK_SLOTS, WindowColumns } from './window-columns.js';

/** Where series identities live (the decoder's SeriesTable for raw samples), by ref. */
export interface SeriesDirectory {
  readonly size: number;
  get(ref: number): { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  /** The ref of a series, interning it when new (used to restore slots). */
  intern(name: string, labels: Record<string, string>): number;
}

const SOURCE_BLOCK = 1024;
/** Bytes per slot in a `p/` block: source i32, kind u8, counterLast f64, lastSeen f64, ended u8. */
const PER_SERIES_BYTES = 22;
/** The same before eviction existed (source, kind, counterLast). */
const OLD_PER_SERIES_BYTES = 13;
const pad = (n: number) => String(n).padStart(8, '0');

function grow<T extends Int32Array | Uint8Array | Float64Array>(a: T, n: number, fill: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

export class RollupStore implements StateStore {
  readonly windows = new Map<number, WindowColumns>();
  /** Ref -> slot (-1 = none). */
  slotByRef = new Int32Array(1024).fill(-1);
  /** Slot -> ref (-1 = free). */
  refOf = new Int32Array(1024).fill(-1);
  /** Per-slot columns kept across windows. */
  sourceOf = new Int32Array(1024).fill(-1);
  kindOf = new Uint8Array(1024);
  counterLast = new Float64Array(1024).fill(NaN);
  /** Event time of the series' last sample in a closed window (NaN = none yet). */
  lastSeen = new Float64Array(1024).fill(NaN);
  /** 1 once a stale marker came after the series' last sample. */
  ended = new Uint8Array(1024);
  /** Slots in use or freed: the high-water mark (windows are sized by it). */
  slotCount = 0;
  /** Free slots below slotCount, descending (the lowest is popped first). */
  private free: number[] = [];
  private dirtySeriesBlocks = new Uint8Array(1);
  private dirtyNameBlocks = new Uint8Array(1);
  readonly sources: Array<string | null> = [];
  private readonly sourceIndex = new Map<string | null, number>();
  private persistedSources = 0;
  /** Windows closed since the last commit, with the blocks storage holds of each. */
  private readonly deletedWindows: Array<[number, Uint8Array]> = [];
  /** Series evicted so far (for /metrics and tests). */
  evicted = 0;

  constructor(
    readonly name: string,
    readonly resolutionMs: number,
    readonly graceMs: number,
    readonly series: SeriesDirectory,
    /** Stream time without a sample after which a series is evicted (Infinity = only ended ones). */
    readonly evictAfterMs = Infinity,
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

  /** The slot of `ref`, allocating one (the lowest free) for a series without. */
  slotFor(ref: number): number {
    if (ref < this.slotByRef.length) {
      const s = this.slotByRef[ref]!;
      if (s >= 0) return s;
    } else {
      let n = this.slotByRef.length;
      while (n <= ref) n *= 2;
      this.slotByRef = grow(this.slotByRef, n, -1);
    }
    const slot = this.free.length ? this.free.pop()! : this.slotCount++;
    this.ensureSlots(slot);
    this.slotByRef[ref] = slot;
    this.refOf[slot] = ref;
    this.dirtyNameBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    this.dirtySeriesBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    return slot;
  }

  /** The live slot of `ref`, or -1. */
  slotOf(ref: number): number {
    return ref < this.slotByRef.length ? this.slotByRef[ref]! : -1;
  }

  /** Name and labels of the series in `slot`. */
  seriesOf(slot: number): { readonly name: string; readonly labels: Readonly<Record<string, string>> } {
    return this.series.get(this.refOf[slot]!);
  }

  private ensureSlots(slot: number): void {
    if (slot < this.refOf.length) return;
    let n = this.refOf.length;
    while (n <= slot) n *= 2;
    this.refOf = grow(this.refOf, n, -1);
    this.sourceOf = grow(this.sourceOf, n, -1);
    this.kindOf = grow(this.kindOf, n, 0);
    this.counterLast = grow(this.counterLast, n, NaN);
    this.lastSeen = grow(this.lastSeen, n, NaN);
    this.ended = grow(this.ended, n, 0);
    const blocks = Math.ceil(n / BLOCK_SLOTS);
    this.dirtySeriesBlocks = grow(this.dirtySeriesBlocks, blocks, 0);
    this.dirtyNameBlocks = grow(this.dirtyNameBlocks, blocks, 0);
  }

  /** Records the source and kind of a series (marks its block dirty only when they change); a sample after a stale marker revives it. */
  noteSeries(slot: number, source: number, kind: number): void {
    if (this.sourceOf[slot] !== source || this.kindOf[slot] !== kind || this.ended[slot]) {
      this.sourceOf[slot] = source;
      this.kindOf[slot] = kind;
      this.ended[slot] = 0;
      this.dirtySeriesBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    }
  }

  /** A stale marker for the series of `ref`: it ended (evicted once no open window holds it). */
  markEnded(ref: number): void {
    const slot = this.slotOf(ref);
    if (slot < 0 || this.ended[slot]) return;
    this.ended[slot] = 1;
    this.dirtySeriesBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
  }

  /** The columns of the window starting at `start`, created on first use. */
  window(start: number): WindowColumns {
    let w = this.windows.get(start);
    if (!w) {
      w = new WindowColumns(start, Math.max(this.slotCount, 16));
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
   * Removes the windows closed at `streamTime` (ascending) and hands each one to `emit`, then evicts the
   * series that are done. Counter increases get the delta from the series' last value before the
   * window (resets handled).
   */
  closeWindows(streamTime: number, emit: (w: WindowColumns, slots: Int32Array) => void, boundaryDelta: boolean): number {
    const due = [...this.windows.keys()].filter((s) => s + this.resolutionMs + this.graceMs <= streamTime).sort((a, b) => a - b);
    for (const start of due) {
      const w = this.windows.get(start)!;
      const slots = w.sortedTouched();
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i]!;
        this.lastSeen[s] = start + w.lastTs[s]!;
        this.dirtySeriesBlocks[(s / BLOCK_SLOTS) | 0] = 1;
        if (this.kindOf[s] !== 2) continue;
        if (boundaryDelta) {
          const prev = this.counterLast[s]!;
          if (!Number.isNaN(prev)) {
            const d = w.first[s]! - prev;
            w.increase[s] += d >= 0 ? d : w.first[s]!;
          }
        }
        this.counterLast[s] = w.last[s]!;
      }
      emit(w, slots);
      this.windows.delete(start);
      this.deletedWindows.push([start, w.storedBlocks]);
    }
    if (due.length) this.evict(streamTime);
    return due.length;
  }

  /** Frees the slots of series no open window holds that ended or have been silent for evictAfterMs. */
  private evict(streamTime: number): void {
    const open = [...this.windows.values()];
    const freed: number[] = [];
    for (let s = 0; s < this.slotCount; s++) {
      if (this.refOf[s]! < 0) continue;
      const silent = this.lastSeen[s]! + this.evictAfterMs <= streamTime;
      if (!this.ended[s] && !silent) continue;
      if (open.some((w) => s < w.capacity && w.count[s]! > 0)) continue;
      if (Number.isNaN(this.lastSeen[s]!) && !this.ended[s]) continue; // not in a closed window yet
      this.release(s);
      freed.push(s);
    }
    if (freed.length === 0) return;
    this.evicted += freed.length;
    this.free = [...this.free, ...freed].sort((a, b) => b - a);
  }

  /** Forgets the series in `slot` (its per-series columns and its slot). */
  protected release(slot: number): void {
    this.slotByRef[this.refOf[slot]!] = -1;
    this.refOf[slot] = -1;
    this.sourceOf[slot] = -1;
    this.kindOf[slot] = 0;
    this.counterLast[slot] = NaN;
    this.lastSeen[slot] = NaN;
    this.ended[slot] = 0;
    this.dirtySeriesBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    this.dirtyNameBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
  }

  /** Series with a slot. */
  get liveSeries(): number {
    return this.slotCount - this.free.length;
  }

  // ---- persistence -------------------------------------------------------------------------

  commit(batch: CommitBatch): void {
    for (const [start, stored] of this.deletedWindows) {
      // Only the blocks storage holds (a window closed before any commit leaves nothing to delete).
      for (let b = 0; b < stored.length; b++) if (stored[b]) batch.del(`w/${start}/${pad(b)}`);
    }
    this.deletedWindows.length = 0;
    for (let b = 0; b < this.dirtyNameBlocks.length; b++) {
      if (!this.dirtyNameBlocks[b]) continue;
      this.dirtyNameBlocks[b] = 0;
      const list: Array<[string, Readonly<Record<string, string>>] | null> = [];
      for (let s = b * BLOCK_SLOTS; s < Math.min(this.slotCount, (b + 1) * BLOCK_SLOTS); s++) {
        const ref = this.refOf[s]!;
        if (ref < 0) list.push(null);
        else {
          const info = this.series.get(ref);
          list.push([info.name, info.labels]);
        }
      }
      batch.put(`ser/${pad(b)}`, Buffer.from(JSON.stringify(list)));
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
    const n = Math.max(0, Math.min(from + BLOCK_SLOTS, this.refOf.length) - from);
    const b = Buffer.allocUnsafe(4 + n * PER_SERIES_BYTES);
    b.writeUInt32LE(n, 0);
    for (let i = 0; i < n; i++) {
      const o = 4 + i * PER_SERIES_BYTES;
      b.writeInt32LE(this.sourceOf[from + i]!, o);
      b.writeUInt8(this.kindOf[from + i]!, o + 4);
      b.writeDoubleLE(this.counterLast[from + i]!, o + 5);
      b.writeDoubleLE(this.lastSeen[from + i]!, o + 13);
      b.writeUInt8(this.ended[from + i]!, o + 21);
    }
    return b;
  }

  private decodePerSeries(block: number, b: Buffer): void {
    const n = b.readUInt32LE(0);
    const from = block * BLOCK_SLOTS;
    if (n > 0) this.ensureSlots(from + n - 1);
    const size = b.length === 4 + n * OLD_PER_SERIES_BYTES ? OLD_PER_SERIES_BYTES : PER_SERIES_BYTES;
    for (let i = 0; i < n; i++) {
      const o = 4 + i * size;
      this.sourceOf[from + i] = b.readInt32LE(o);
      this.kindOf[from + i] = b.readUInt8(o + 4);
      this.counterLast[from + i] = b.readDoubleLE(o + 5);
      if (size === PER_SERIES_BYTES) {
        this.lastSeen[from + i] = b.readDoubleLE(o + 13);
        this.ended[from + i] = b.readUInt8(o + 21);
      }
    }
  }

  /** Entries arrive in key order: `p/` < `ser/` < `src/` < `w/`. */
  restore(key: string, value: Buffer | null): void {
    const [kind, a, b] = key.split('/');
    if (value === null) return;
    if (kind === 'ser') {
      const from = Number(a) * BLOCK_SLOTS;
      const list = JSON.parse(value.toString()) as Array<[string, Record<string, string>] | null>;
      if (list.length) this.ensureSlots(from + list.length - 1);
      list.forEach((entry, i) => {
        const slot = from + i;
        if (entry) {
          const ref = this.series.intern(entry[0], entry[1]);
          if (ref >= this.slotByRef.length) {
            let n = this.slotByRef.length;
            while (n <= ref) n *= 2;
            this.slotByRef = grow(this.slotByRef, n, -1);
          }
          this.slotByRef[ref] = slot;
          this.refOf[slot] = ref;
        }
      });
      this.slotCount = Math.max(this.slotCount, from + list.length);
      this.free = [];
      for (let s = this.slotCount - 1; s >= 0; s--) if (this.refOf[s]! < 0) this.free.push(s);
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
    this.dirtyNameBlocks.fill(0);
    this.dirtySeriesBlocks.fill(0);
  }

  approximateEntries(): number {
    return this.liveSeries;
  }

  /** Bytes held in typed arrays (for the memory benchmark and /metrics). */
  residentBytes(): number {
    let n = this.slotByRef.byteLength + this.refOf.byteLength + this.sourceOf.byteLength + this.kindOf.byteLength + this.counterLast.byteLength + this.lastSeen.byteLength + this.ended.byteLength;
    for (const w of this.windows.values()) {
      n += w.count.byteLength + w.sum.byteLength * 6 + w.firstTs.byteLength * 2 + w.touched.byteLength;
    }
    return n;
  }

  close(): void {
    this.windows.clear();
  }
}
