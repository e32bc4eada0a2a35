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

export class ByteKeyTable {
  private arena: Uint8Array = new Uint8Array(1 << 14);
  private used = 0;
  private count = 0;
  /** Per entry: start of its key in the arena (its end is the next entry's start, or `used`). */
  private starts = new Uint32Array(1024);
  private owners = new Int32Array(1024);
  private values = new Int32Array(1024);
  private hashes = new Uint32Array(1024);
  /** Entry + 1, 0 = empty; load factor <= 1/2. */
  private slots = new Int32Array(2048);

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The value stored for (owner, bytes[a..b)), or MISSING. */
  get(owner: number, bytes: Uint8Array, a: number, b: number): number {
    const h = hashBytes(owner, bytes, a, b);
    const mask = this.slots.length - 1;
    const len = b - a;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i]!;
      if (s === 0) return MISSING;
      const e = s - 1;
      if (this.hashes[e] !== h || this.owners[e] !== owner) continue;
      const start = this.starts[e]!;
      const end = e + 1 < this.count ? this.starts[e + 1]! : this.used;
      if (end - start !== len) continue;
      let j = 0;
      const arena = this.arena;
      while (j < len && arena[start + j] === bytes[a + j]) j++;
      if (j === len) return this.values[e]!;
    }
  }

  /** Adds (owner, bytes[a..b)) -> value; the key must not be in the table (`get` returned MISSING). */
  add(owner: number, bytes: Uint8Array, a: number, b: number, value: number): void {
    const e = this.count;
    const n = e + 1;
    this.starts = grown(this.starts, n, (k) => new Uint32Array(k));
    this.owners = grown(this.owners, n, (k) => new Int32Array(k));
    this.values = grown(this.values, n, (k) => new Int32Array(k));
    this.hashes = grown(this.hashes, n, (k) => new Uint32Array(k));
    this.arena = grownU8(this.arena, this.used + (b - a));
    this.arena.set(bytes.subarray(a, b), this.used);
    this.starts[e] = this.used;
    this.used += b - a;
    this.owners[e] = owner;
    this.values[e] = value;
    this.hashes[e] = hashBytes(owner, bytes, a, b);
    this.count = n;
    if (n * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let i = 0; i < n; i++) this.place(i);
    } else this.place(e);
  }

  /** Forgets every entry (keeps the allocated memory). */
  clear(): void {
    this.count = 0;
    this.used = 0;
    this.slots.fill(0);
  }

  /** Bytes held by the typed arrays. */
  residentBytes(): number {
    return this.arena.byteLength + this.starts.byteLength * 4 + this.slots.byteLength;
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let i = this.hashes[e]! & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = e + 1;
  }
}
