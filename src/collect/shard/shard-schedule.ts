/**
 * Which collector scrapes which target: rendezvous (highest random weight) hashing of the target
 * key over the member list in force at the target's slot time. Member lists ("views") take
 * effect at an agreed instant (`effectiveAt`), so every collector answers the same for every
 * slot: when a member joins or leaves, only the targets whose top-weighted member changes move,
 * and a moved target is scraped by the old owner for slots before `effectiveAt` and by the new
 * one from then on, never by both.
 */
import { hash64 } from '../../model/series.js';

/** A member list and the wall-clock instant (ms) from which it decides ownership. */
export interface ShardView {
  members: readonly string[];
  effectiveAt: number;
}

/** The member with the highest weight xxh64(member, key) (ties broken by name). */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestHi = -1;
  let bestLo = -1;
  for (const m of members) {
    const h = hash64(`${m}\u0000${key}`);
    const hi = h.hi >>> 0;
    const lo = h.lo >>> 0;
    if (hi > bestHi || (hi === bestHi && (lo > bestLo || (lo === bestLo && best !== undefined && m > best)))) {
      best = m;
      bestHi = hi;
      bestLo = lo;
    }
  }
  return best;
}

const MAX_VIEWS = 8;

/** The views a collector knows, oldest first; answers `owns(key, slotTime)` for its own id. */
export class ShardSchedule {
  private views: Array<ShardView & { owners: Map<string, string | undefined> }> = [];

  constructor(readonly self: string) {}

  /** Adds a view (ignored when not newer than the latest one). Returns whether it was added. */
  add(view: ShardView): boolean {
    const last = this.views[this.views.length - 1];
    if (last && view.effectiveAt <= last.effectiveAt) return false;
    this.views.push({ members: [...view.members].sort(), effectiveAt: view.effectiveAt, owners: new Map() });
    if (this.views.length > MAX_VIEWS) this.views.shift();
    return true;
  }

  /** The view in force at `time`, if any. */
  viewAt(time: number): ShardView | undefined {
    for (let i = this.views.length - 1; i >= 0; i--) if (this.views[i]!.effectiveAt <= time) return this.views[i];
    return undefined;
  }

  /**
   * This member may have dropped out of the group (its consumer crashed): it owns nothing from
   * `time` on, until a view published later takes effect. Older views read afterwards are ignored.
   */
  fence(time: number): void {
    this.views = [{ members: [], effectiveAt: time, owners: new Map() }];
  }

  /** Forgets every view: this member owns nothing until the next one (used when leaving). */
  clear(): void {
    this.views = [];
  }

  /** True when this member owns `key` in the view in force at `slotTime`. */
  owns(key: string, slotTime: number): boolean {
    let view: (typeof this.views)[number] | undefined;
    for (let i = this.views.length - 1; i >= 0; i--) {
      if (this.views[i]!.effectiveAt <= slotTime) {
        view = this.views[i];
        break;
      }
    }
    if (!view) return false;
    let owner = view.owners.get(key);
    if (owner === undefined && !view.owners.has(key)) {
      owner = rendezvousOwner(key, view.members);
      view.owners.set(key, owner);
    }
    return owner === this.self;
  }
}
