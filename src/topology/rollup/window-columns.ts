/**
 * The accumulators of ONE open window for every series of a task, as struct-of-arrays columns
 * indexed by the series' dense slot (the decoder's series ref). ~61 bytes per series per open
 * window, no object per series, 10M+ updates/s. Also the (de)serialisation of one block of slots
 * for LevelDB and the changelog.
 */

/** Slots per persisted block. */
export const BLOCK_SLOTS = 2048;

const EMPTY_SLOT = 0;

export class WindowColumns {
  count: Uint32Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  first: Float64Array;
  last: Float64Array;
  increase: Float64Array;
  /** Event time offsets (ms) from the window start of the first/last sample. */
  firstTs: Int32Array;
  lastTs: Int32Array;
  /** Slots with data, in first-touch order (count > 0 marks membership). */
  touched: Int32Array;
  touchedCount = 0;
  /** One bit per block changed since the last commit. */
  dirtyBlocks: Uint8Array;
  /** One bit per block that storage holds (written or restored): what deleting the window deletes. */
  storedBlocks: Uint8Array;

  constructor(
    readonly start: number,
    capacity: number,
  ) {
    capacity = Math.max(capacity, 16);
    this.count = new Uint32Array(capacity);
    this.sum = new Float64Array(capacity);
    this.min = new Float64Array(capacity);
    this.max = new Float64Array(capacity);
    this.first = new Float64Array(capacity);
    this.last = new Float64Array(capacity);
    this.increase = new Float64Array(capacity);
    this.firstTs = new Int32Array(capacity);
    this.lastTs = new Int32Array(capacity);
    this.touched = new Int32Array(Math.max(16, capacity >> 2));
    this.dirtyBlocks = new Uint8Array(Math.ceil(capacity / BLOCK_SLOTS));
    this.storedBlocks = new Uint8Array(this.dirtyBlocks.length);
  }

  get capacity(): number {
    return this.count.length;
  }

  /** Grows every column to hold slot `slot`. */
  ensure(slot: number): void {
    if (slot < this.count.length) return;
    let n = this.count.length;
    while (n <= slot) n *= 2;
    const grow = <T extends Float64Array | Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.count = grow(this.count, (k) => new Uint32Array(k));
    this.sum = grow(this.sum, (k) => new Float64Array(k));
    this.min = grow(this.min, (k) => new Float64Array(k));
    this.max = grow(this.max, (k) => new Float64Array(k));
    this.first = grow(this.first, (k) => new Float64Array(k));
    this.last = grow(this.last, (k) => new Float64Array(k));
    this.increase = grow(this.increase, (k) => new Float64Array(k));
    this.firstTs = grow(this.firstTs, (k) => new Int32Array(k));
    this.lastTs = grow(this.lastTs, (k) => new Int32Array(k));
    const d = new Uint8Array(Math.ceil(n / BLOCK_SLOTS));
    d.set(this.dirtyBlocks);
    this.dirtyBlocks = d;
    const st = new Uint8Array(d.length);
    st.set(this.storedBlocks);
    this.storedBlocks = st;
  }

  private touch(slot: number): void {
    if (this.touchedCount === this.touched.length) {
      const t = new Int32Array(this.touched.length * 2);
      t.set(this.touched);
      this.touched = t;
    }
    this.touched[this.touchedCount++] = slot;
  }

  /**
   * Adds one raw sample; returns false (and adds nothing) for a duplicate: a sample at the timestamp of
   * the series' newest or oldest sample in this window, which is what a retried record repeats (like
   * Prometheus, which drops a sample at its series' last timestamp, the first one wins). Counter
   * increase is computed on in-order samples: a drop is a reset and counts the new value (Prometheus'
   * rule); an out-of-order sample updates count/sum/min/max only.
   */
  addSample(slot: number, ts: number, value: number, counter: boolean): boolean {
    const off = ts - this.start;
    const c = this.count[slot]!;
    this.dirtyBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    if (c === EMPTY_SLOT) {
      this.touch(slot);
      this.count[slot] = 1;
      this.sum[slot] = value;
      this.min[slot] = value;
      this.max[slot] = value;
      this.first[slot] = value;
      this.last[slot] = value;
      this.increase[slot] = 0;
      this.firstTs[slot] = off;
      this.lastTs[slot] = off;
      return true;
    }
    if (off === this.lastTs[slot] || off === this.firstTs[slot]) return false;
    this.count[slot] = c + 1;
    this.sum[slot] += value;
    if (value < this.min[slot]!) this.min[slot] = value;
    if (value > this.max[slot]!) this.max[slot] = value;
    if (off < this.firstTs[slot]!) {
      this.firstTs[slot] = off;
      this.first[slot] = value;
    }
    if (off >= this.lastTs[slot]!) {
      if (counter) {
        const d = value - this.last[slot]!;
        this.increase[slot] += d >= 0 ? d : value;
      }
      this.lastTs[slot] = off;
      this.last[slot] = value;
    }
    return true;
  }

  /** Merges a partial aggregate (a finer rollup) that starts `ts` ms after the epoch. */
  addPartial(slot: number, ts: number, count: number, sum: number, min: number, max: number, first: number, last: number, increase: number): void {
    const off = ts - this.start;
    this.dirtyBlocks[(slot / BLOCK_SLOTS) | 0] = 1;
    if (this.count[slot] === EMPTY_SLOT) {
      this.touch(slot);
      this.count[slot] = count;
      this.sum[slot] = sum;
      this.min[slot] = min;
      this.max[slot] = max;
      this.first[slot] = first;
      this.last[slot] = last;
      this.increase[slot] = increase;
      this.firstTs[slot] = off;
      this.lastTs[slot] = off;
      return;
    }
    this.count[slot] += count;
    this.sum[slot] += sum;
    if (min < this.min[slot]!) this.min[slot] = min;
    if (max > this.max[slot]!) this.max[slot] = max;
    if (off < this.firstTs[slot]!) {
      this.firstTs[slot] = off;
      this.first[slot] = first;
    }
    if (off >= this.lastTs[slot]!) {
      this.lastTs[slot] = off;
      this.last[slot] = last;
    }
    this.increase[slot] += increase;
  }

  /**
   * Serialises the slots of one block as raw column slices (memcpy speed):
   * [u32 n][count u32 x n][sum, min, max, first, last, increase f64 x n][firstTs, lastTs i32 x n].
   */
  encodeBlock(block: number): Buffer {
    const from = block * BLOCK_SLOTS;
    const n = Math.max(0, Math.min(BLOCK_SLOTS, this.count.length - from));
    const out = Buffer.allocUnsafe(4 + n * 60);
    out.writeUInt32LE(n, 0);
    let o = 4;
    const put = (a: Uint32Array | Float64Array | Int32Array) => {
      const bytes = new Uint8Array(a.buffer, a.byteOffset + from * a.BYTES_PER_ELEMENT, n * a.BYTES_PER_ELEMENT);
      out.set(bytes, o);
      o += bytes.length;
    };
    put(this.count);
    put(this.sum);
    put(this.min);
    put(this.max);
    put(this.first);
    put(this.last);
    put(this.increase);
    put(this.firstTs);
    put(this.lastTs);
    return out;
  }

  /** Restores a block written by encodeBlock. */
  decodeBlock(block: number, b: Buffer): void {
    const n = b.readUInt32LE(0);
    const from = block * BLOCK_SLOTS;
    if (n === 0) return;
    this.ensure(from + n - 1);
    this.storedBlocks[block] = 1;
    let o = 4 + b.byteOffset;
    const copy = <T extends Uint32Array | Float64Array | Int32Array>(a: T, make: (buf: ArrayBuffer) => T) => {
      const len = n * a.BYTES_PER_ELEMENT;
      const tmp = new Uint8Array(len);
      tmp.set(new Uint8Array(b.buffer, o, len));
      a.set(make(tmp.buffer), from);
      o += len;
    };
    copy(this.count, (x) => new Uint32Array(x));
    copy(this.sum, (x) => new Float64Array(x));
    copy(this.min, (x) => new Float64Array(x));
    copy(this.max, (x) => new Float64Array(x));
    copy(this.first, (x) => new Float64Array(x));
    copy(this.last, (x) => new Float64Array(x));
    copy(this.increase, (x) => new Float64Array(x));
    copy(this.firstTs, (x) => new Int32Array(x));
    copy(this.lastTs, (x) => new Int32Array(x));
    for (let s = from; s < from + n; s++) if (this.count[s]! > 0) this.touch(s);
  }

  /** Slots with data, ascending (deterministic emission order). */
  sortedTouched(): Int32Array {
    return this.touched.slice(0, this.touchedCount).sort();
  }
}
