/**
 * The rollup windows of one hour already archived (or buffered), as a set of (series, window): what
 * makes the archive idempotent for rollup records replayed at new offsets (archive-sink.ts).
 *
 * Compact for millions of series: an open-addressing table in typed arrays keyed by the 64-bit series
 * id (two int32 words), each entry holding a 64-bit bitmap of the windows of the hour (slot 0-59 for
 * 1m, slot 0 for 1h), 16 bytes per slot. A window start that is not on a slot boundary is kept exactly
 * in a small fallback set.
 */

const EMPTY_CAPACITY = 1024;
const MAX_LOAD = 0.7;

export class WindowSet {
  private keys = new Int32Array(EMPTY_CAPACITY * 2);
  /** Two 32-bit words of window bits per entry; an entry with no bit set is an empty slot. */
  private bits = new Uint32Array(EMPTY_CAPACITY * 2);
  private mask = EMPTY_CAPACITY - 1;
  private used = 0;
  private readonly unaligned = new Set<string>();

  constructor(
    /** UTC start of the hour, ms. */
    readonly hourStart: number,
    /** The windows' length, ms (60,000 for 1m, 3,600,000 for 1h). */
    readonly windowMs: number,
  ) {}

  /** Series with at least one window in the set. */
  get series(): number {
    return this.used;
  }

  /**
   * Adds window `start` of the series whose id words are (`lo`, `hi`); false when it was already
   * there (the row is a replay of one archived before).
   */
  add(lo: number, hi: number, start: number): boolean {
    const slot = (start - this.hourStart) / this.windowMs;
    if (!(Number.isInteger(slot) && slot >= 0 && slot < 64)) {
      const k = `${lo}|${hi}|${start}`;
      if (this.unaligned.has(k)) return false;
      this.unaligned.add(k);
      return true;
    }
    const word = slot >>> 5;
    const bit = (1 << (slot & 31)) >>> 0;
    let i = this.find(lo, hi);
    if (this.bits[2 * i] === 0 && this.bits[2 * i + 1] === 0) {
      if ((this.used + 1) / (this.mask + 1) > MAX_LOAD) {
        this.grow();
        i = this.find(lo, hi);
      }
      this.keys[2 * i] = lo;
      this.keys[2 * i + 1] = hi;
      this.used++;
    } else if ((this.bits[2 * i + word]! & bit) !== 0) {
      return false;
    }
    this.bits[2 * i + word] = (this.bits[2 * i + word]! | bit) >>> 0;
    return true;
  }

  /** The entry of (lo, hi), or the empty slot where it belongs. */
  private find(lo: number, hi: number): number {
    const { keys, bits, mask } = this;
    let i = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 7) & mask;
    while (bits[2 * i] !== 0 || bits[2 * i + 1] !== 0) {
      if (keys[2 * i] === lo && keys[2 * i + 1] === hi) return i;
      i = (i + 1) & mask;
    }
    return i;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldBits = this.bits;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Int32Array(capacity * 2);
    this.bits = new Uint32Array(capacity * 2);
    this.mask = capacity - 1;
    for (let j = 0; j < oldBits.length / 2; j++) {
      if (oldBits[2 * j] === 0 && oldBits[2 * j + 1] === 0) continue;
      const i = this.find(oldKeys[2 * j]!, oldKeys[2 * j + 1]!);
      this.keys[2 * i] = oldKeys[2 * j]!;
      this.keys[2 * i + 1] = oldKeys[2 * j + 1]!;
      this.bits[2 * i] = oldBits[2 * j]!;
      this.bits[2 * i + 1] = oldBits[2 * j + 1]!;
    }
  }
}

const idBuffer = new BigInt64Array(1);
const idWords = new Int32Array(idBuffer.buffer);

/** The two int32 words (little-endian: low, high) of a signed 64-bit series id. */
export function idWordsOf(id: bigint): [number, number] {
  idBuffer[0] = id;
  return [idWords[0]!, idWords[1]!];
}
