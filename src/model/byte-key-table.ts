/**
 * ByteKeyTable: a hash map from (owner number, byte string) to an int32, stored in typed arrays: the
 * keys' bytes in one shared arena, the entries as columns, an open-addressing index over them. The
 * decoder finds a sample's series by the raw Avro bytes of its name + labels this way without
 * making a string or an object per sample or per key (~20 bytes per entry plus the key bytes).
 */

/** What `get` returns for a key that is not in the table. */
export const MISSING = 0x7fffffff;

function grownU8(a: Uint8Array, min: number): Uint8Array {
  if (min <= a.length) return a;
  const b = new Uint8Array(Math.max(min, Math.ceil(a.length * 1.5)));
  b.set(a);
  return b;
}

function grown<T extends Uint32Array | Int32Array>(a: T, min: number, make: (n: number) => T): T {
  if (min <= a.length) return a;
  const b = make(Math.max(min, Math.ceil(a.length * 1.5)));
  b.set(a);
  return b;
}

/** Hash of `owner` and bytes[a..b) (32 bits, murmur-style mixing four bytes at a time). */
export function hashBytes(owner: number, bytes: Uint8Array, a: number, b: number): number {
  let h = Math.imul(owner ^ 0x9747b28c, 0x5bd1e995) ^ (b - a);
  let i = a;
  for (; i + 4 <= b; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, 0x5bd1e995);
    k ^= k >>> 24;
    h = Math.imul(h, 0x5bd1e995) ^ Math.imul(k, 0x5bd1e995);
  }
  for (; i < b; i++) h = Math.imul(h ^ bytes[i]!, 0x5bd1e995);
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Entry fields, interleaved so one lookup touches one slot pair, one entry and its key bytes. */
const OWNER = 0;
const START = 1;
const VALUE = 2;
const STRIDE = 3;

export class ByteKeyTable {
  private arena: Uint8Array = new Uint8Array(1 << 14);
  private used = 0;
  private count = 0;
  /** Per entry: owner, start of its key in the arena (its end is the next entry's start, or `used`), value. */
  private entries = new Int32Array(1024 * STRIDE);
  /** Pairs (hash, entry + 1), entry 0 = empty; load factor <= 1/2. */
  private slots = new Int32Array(2048 * 2);

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The value stored for (owner, bytes[a..b)), or MISSING. */
  get(owner: number, bytes: Uint8Array, a: number, b: number): number {
    const e = this.find(owner, bytes, a, b);
    return e < 0 ? MISSING : this.entries[e * STRIDE + VALUE]!;
  }

  /** The entry number of (owner, bytes[a..b)), or -1. Entries are numbered in the order they were added. */
  find(owner: number, bytes: Uint8Array, a: number, b: number): number {
    const h = hashBytes(owner, bytes, a, b) | 0;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[2 * i + 1]!;
      if (s === 0) return -1;
      if (slots[2 * i] === h && this.matches(s - 1, owner, bytes, a, b)) return s - 1;
    }
  }

  /** True if entry `e` exists and has the key (owner, bytes[a..b)): a check without hashing. */
  matches(e: number, owner: number, bytes: Uint8Array, a: number, b: number): boolean {
    if (!(e >= 0 && e < this.count)) return false;
    const entries = this.entries;
    const o = e * STRIDE;
    if (entries[o + OWNER] !== owner) return false;
    const start = entries[o + START]!;
    const end = e + 1 < this.count ? entries[o + STRIDE + START]! : this.used;
    const len = b - a;
    if (end - start !== len) return false;
    const arena = this.arena;
    let j = 0;
    while (j < len && arena[start + j] === bytes[a + j]) j++;
    return j === len;
  }

  /** The value of entry `e` (from `find`). */
  valueAt(e: number): number {
    return this.entries[e * STRIDE + VALUE]!;
  }

  /** Adds (owner, bytes[a..b)) -> value; the key must not be in the table (`get` returned MISSING). Returns its entry number. */
  add(owner: number, bytes: Uint8Array, a: number, b: number, value: number): number {
    const n = this.count + 1;
    this.entries = grown(this.entries, n * STRIDE, (k) => new Int32Array(k));
    this.arena = grownU8(this.arena, this.used + (b - a));
    this.arena.set(bytes.subarray(a, b), this.used);
    const e = this.count * STRIDE;
    this.entries[e + OWNER] = owner;
    this.entries[e + START] = this.used;
    this.entries[e + VALUE] = value;
    this.used += b - a;
    this.count = n;
    if (n * 2 > this.slots.length >> 1) {
      const old = this.slots;
      this.slots = new Int32Array(old.length * 2);
      for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
    }
    this.place(hashBytes(owner, bytes, a, b) | 0, n);
    return n - 1;
  }

  /** Forgets every entry (keeps the allocated memory). */
  clear(): void {
    this.count = 0;
    this.used = 0;
    this.slots.fill(0);
  }

  /** Bytes held by the typed arrays. */
  residentBytes(): number {
    return this.arena.byteLength + this.entries.byteLength + this.slots.byteLength;
  }

  private place(hash: number, entryPlusOne: number): void {
    const mask = (this.slots.length >> 1) - 1;
    let i = hash & mask;
    while (this.slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    this.slots[2 * i] = hash;
    this.slots[2 * i + 1] = entryPlusOne;
  }
}
