/**
 * Small seeded pseudo-random generators. The fleet must be reproducible from a seed, and each
 * host draws from its own stream so a host's values do not depend on how many hosts exist.
 */

/** splitmix32 step: mixes a 32-bit integer into a well-distributed 32-bit integer. */
export function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Derives a stream seed from a base seed and any number of integers (host index, cycle, ...). */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = mix32(seed >>> 0);
  for (const p of parts) h = mix32((h ^ mix32(p >>> 0)) >>> 0);
  return h;
}

/** A mulberry32 generator: `next()` returns a float in [0, 1). Deterministic for a seed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Parses a user seed: an integer, or any string hashed to 32 bits (FNV-1a). */
export function seedFrom(value: string | number): number {
  if (typeof value === 'number') return value >>> 0;
  if (/^\d+$/.test(value)) return Number(BigInt(value) & 0xffffffffn);
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
