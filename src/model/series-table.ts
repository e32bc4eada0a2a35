/**
 * SeriesTable: the interned series of one decoder (one per process), stored compactly.
 *
 * A series costs ~40 bytes plus 4 per label, whatever its label count: its 64-bit hash (hi, lo), its
 * name and its labels as ids into shared tables (strings, then (name, value) pairs, each stored once)
 * in typed arrays, and one slot of an open-addressing index over the hash. No object per series:
 * `SeriesInfo` objects (with their labels object) are materialised only when a consumer asks for
 * one with `get(ref)`, and then kept, so `get(ref)` stays cheap and returns the same object each
 * time. Hot paths that only need a name or labels once (rollup emission, persistence) use
 * `nameOf` / `labelsOf`, which build nothing that is kept.
 */
import { canonicalSeries, setLabel } from './series.js';

/**
 * One series, interned once per process. Name and labels are never rebuilt per sample.
 */
export interface SeriesInfo {
  /** Dense index in its SeriesTable (the value found in `DecodedBatch.seriesRefs`). */
  readonly ref: number;
  /**
   * The archive's BIGINT `series_id`: xxh64 (seed 0) of the UTF-8 canonical form, read as a signed
   * two's-complement int64 (see docs/data-model.md).
   */
  readonly id: bigint;
  /** The same 64 bits as 16 lower-case hex digits (unsigned): a stable string key for stores/logs. */
  readonly key: string;
  /** High and low 32 bits of the unsigned hash (for numeric partitioning without BigInt). */
  readonly hi: number;
  readonly lo: number;
  /** Metric name. */
  readonly name: string;
  /** Merged labels (source, overridden by sample), keys sorted, no empty values. Frozen. */
  readonly labels: Readonly<Record<string, string>>;
  /** Canonical form `name{a="1",b="2"}` (what `id` hashes); may be computed on each access. */
  readonly canonical: string;
}

/** A materialised series: the canonical form is recomputed on demand to save ~100 B/series. */
class Series implements SeriesInfo {
  constructor(
    readonly ref: number,
    readonly id: bigint,
    readonly key: string,
    readonly hi: number,
    readonly lo: number,
    readonly name: string,
    readonly labels: Readonly<Record<string, string>>,
  ) {
    Object.freeze(this);
  }

  get canonical(): string {
    return canonicalSeries(this.name, this.labels);
  }
}

/** 16 lower-case hex digits of an unsigned 64-bit value given as two 32-bit halves. */
export function hexKey(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Grows a typed array to at least `min` elements (x1.5, so large tables waste at most a third). */
function grown<T extends Uint32Array | Int32Array>(a: T, min: number, make: (n: number) => T): T {
  if (min <= a.length) return a;
  const b = make(Math.max(min, Math.ceil(a.length * 1.5)));
  b.set(a);
  return b;
}

/**
 * Interns series by their 64-bit id and hands out dense refs (0, 1, 2, ...). Grows with the number
 * of distinct series seen (~one entry per active series of the instance).
 */
export class SeriesTable {
  private count = 0;
  private his = new Uint32Array(1024);
  private los = new Uint32Array(1024);
  private names = new Uint32Array(1024);
  /** Labels of ref r are pairs[labelEnds[r - 1] .. labelEnds[r]) (labelEnds[-1] = 0), sorted by name. */
  private labelEnds = new Uint32Array(1024);
  private pairs = new Uint32Array(4096);
  /** Open addressing over the hash: ref + 1, 0 = empty. Load factor <= 1/2. */
  private slots = new Int32Array(2048);
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private pairNames = new Uint32Array(256);
  private pairValues = new Uint32Array(256);
  private readonly pairIds = new Map<number, number>();
  /** Materialised SeriesInfo objects, by ref (only those `get` was asked for). */
  private readonly objects: (SeriesInfo | undefined)[] = [];

  /** Number of series interned so far (= the next ref). */
  get size(): number {
    return this.count;
  }

  /** The series with this ref, materialised once and kept; throws on an unknown ref (a bug, never user input). */
  get(ref: number): SeriesInfo {
    const known = this.objects[ref];
    if (known !== undefined) return known;
    this.check(ref);
    const hi = this.his[ref]!;
    const lo = this.los[ref]!;
    const id = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    const info = new Series(ref, id, hexKey(hi, lo), hi, lo, this.nameOf(ref), Object.freeze(this.labelsOf(ref)));
    while (this.objects.length <= ref) this.objects.push(undefined);
    this.objects[ref] = info;
    return info;
  }

  /** The series with this 16-hex-digit key, if interned. */
  byId(key: string): SeriesInfo | undefined {
    if (!/^[0-9a-f]{16}$/.test(key)) return undefined;
    const ref = this.find(parseInt(key.slice(0, 8), 16), parseInt(key.slice(8), 16));
    return ref < 0 ? undefined : this.get(ref);
  }

  /** The ref of the series with this 64-bit hash, or -1. */
  find(hi: number, lo: number): number {
    const mask = this.slots.length - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i]!;
      if (s === 0) return -1;
      if (this.los[s - 1] === lo >>> 0 && this.his[s - 1] === hi >>> 0) return s - 1;
    }
  }

  /** Returns the interned series for this identity, adding it if new (`canonical` is not kept). */
  intern(fields: Omit<SeriesInfo, 'ref'>): SeriesInfo {
    return this.get(this.internRef(fields));
  }

  /**
   * `intern` without materialising a SeriesInfo: the ref of the series with this identity, added if
   * new. The hash is read from `key` (the 16 hex digits are what identifies a series).
   */
  internRef(fields: Pick<SeriesInfo, 'key' | 'name' | 'labels'>): number {
    const hi = parseInt(fields.key.slice(0, 8), 16);
    const lo = parseInt(fields.key.slice(8, 16), 16);
    const found = this.find(hi, lo);
    if (found >= 0) return found;
    return this.add(hi, lo, fields.name, fields.labels);
  }

  /**
   * `internRef` for the decoder's first sight of a series, from what it already has: the hash halves,
   * the name, the label names sorted and the labels (no empty values).
   */
  internHashed(hi: number, lo: number, name: string, sortedNames: readonly string[], labels: Readonly<Record<string, string>>): number {
    const found = this.find(hi, lo);
    return found >= 0 ? found : this.add(hi, lo, name, labels, sortedNames);
  }

  /** Metric name of a series. */
  nameOf(ref: number): string {
    this.check(ref);
    return this.strings[this.names[ref]!]!;
  }

  /** Number of labels of a series. */
  labelCount(ref: number): number {
    this.check(ref);
    return this.labelEnds[ref]! - (ref === 0 ? 0 : this.labelEnds[ref - 1]!);
  }

  /** Value of one label of a series, or undefined. */
  labelValue(ref: number, name: string): string | undefined {
    const id = this.stringIds.get(name);
    if (id === undefined) return undefined;
    const end = this.labelEnds[ref]!;
    for (let i = ref === 0 ? 0 : this.labelEnds[ref - 1]!; i < end; i++) {
      const p = this.pairs[i]!;
      if (this.pairNames[p] === id) return this.strings[this.pairValues[p]!];
    }
    return undefined;
  }

  /** A new labels object of a series (keys sorted); not kept by the table, so the caller may own it. */
  labelsOf(ref: number): Record<string, string> {
    this.check(ref);
    const out: Record<string, string> = {};
    const end = this.labelEnds[ref]!;
    for (let i = ref === 0 ? 0 : this.labelEnds[ref - 1]!; i < end; i++) {
      const p = this.pairs[i]!;
      setLabel(out, this.strings[this.pairNames[p]!]!, this.strings[this.pairValues[p]!]!);
    }
    return out;
  }

  /** High 32 bits of a series' hash. */
  hiOf(ref: number): number {
    this.check(ref);
    return this.his[ref]!;
  }

  /** Low 32 bits of a series' hash. */
  loOf(ref: number): number {
    this.check(ref);
    return this.los[ref]!;
  }

  /** Bytes held by the table's typed arrays (strings and materialised objects not included). */
  residentBytes(): number {
    return (
      this.his.byteLength + this.los.byteLength + this.names.byteLength + this.labelEnds.byteLength + this.pairs.byteLength +
      this.slots.byteLength + this.pairNames.byteLength + this.pairValues.byteLength
    );
  }

  private check(ref: number): void {
    if (!(ref >= 0 && ref < this.count)) throw new RangeError(`unknown series ref ${ref}`);
  }

  private add(hi: number, lo: number, name: string, labels: Readonly<Record<string, string>>, sortedNames?: readonly string[]): number {
    const ref = this.count;
    if (ref === this.his.length) {
      const n = ref + 1;
      this.his = grown(this.his, n, (k) => new Uint32Array(k));
      this.los = grown(this.los, n, (k) => new Uint32Array(k));
      this.names = grown(this.names, n, (k) => new Uint32Array(k));
      this.labelEnds = grown(this.labelEnds, n, (k) => new Uint32Array(k));
    }
    const keys = sortedNames ?? Object.keys(labels).sort();
    let at = ref === 0 ? 0 : this.labelEnds[ref - 1]!;
    this.pairs = grown(this.pairs, at + keys.length, (k) => new Uint32Array(k));
    for (const k of keys) this.pairs[at++] = this.pairId(this.stringId(k), this.stringId(labels[k]!));
    this.his[ref] = hi >>> 0;
    this.los[ref] = lo >>> 0;
    this.names[ref] = this.stringId(name);
    this.labelEnds[ref] = at;
    this.count = ref + 1;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(ref);
    return ref;
  }

  private place(ref: number): void {
    const mask = this.slots.length - 1;
    let i = this.los[ref]! & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = ref + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let r = 0; r < this.count; r++) this.place(r);
  }

  private stringId(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.push(s) - 1;
      this.stringIds.set(s, id);
    }
    return id;
  }

  private pairId(name: number, value: number): number {
    const k = name * 0x100000000 + value;
    let id = this.pairIds.get(k);
    if (id === undefined) {
      id = this.pairIds.size;
      this.pairNames = grown(this.pairNames, id + 1, (n) => new Uint32Array(n));
      this.pairValues = grown(this.pairValues, id + 1, (n) => new Uint32Array(n));
      this.pairNames[id] = name;
      this.pairValues[id] = value;
      this.pairIds.set(k, id);
    }
    return id;
  }
}
