/**
 * Where each series' samples go: per series, the list of (leaf, group slot, member slot) it feeds,
 * resolved once (selection by metric name and matchers, grouping) and kept in flat typed-array
 * columns (millions of routes, no pointer per route for the GC to trace). A series is found by its
 * decoder ref (an array index) or, without one, by its key.
 */
import type { LeafState } from './leaf-state.js';

export interface RouteTarget<R> {
  /** The rule runtime the leaf belongs to. */
  rule: R;
  leaf: LeafState;
  group: number;
  member: number;
}

export class RouteTable<R> {
  private byRef: Int32Array = new Int32Array(0);
  private readonly byKey = new Map<string, number>();
  /** Per route list: first route and count. */
  private listStart: Int32Array = new Int32Array(1024);
  private listCount: Int32Array = new Int32Array(1024);
  private lists = 0;
  /** The distinct leaves routed to, and the rule of each. */
  readonly leaves: LeafState[] = [];
  readonly rules: R[] = [];
  private readonly leafIndex = new Map<LeafState, number>();
  /** Per route: index in `leaves`, group and member slots. */
  leaf: Int32Array = new Int32Array(1024);
  group: Int32Array = new Int32Array(1024);
  member: Int32Array = new Int32Array(1024);
  private routes = 0;
  /** Rule-level group key of a route (repartitioning only), computed on first use. */
  readonly pkey = new Map<number, string>();

  /** The route list of a series, or -1 when not resolved yet. */
  lookup(ref: number | undefined, key: string): number {
    if (ref === undefined) return this.byKey.get(key) ?? -1;
    return ref < this.byRef.length ? this.byRef[ref]! - 1 : -1;
  }

  /** The route list of the series with decoder ref `ref`, or -1. */
  lookupRef(ref: number): number {
    return ref < this.byRef.length ? this.byRef[ref]! - 1 : -1;
  }

  /** Stores the resolved routes of a series; returns its list id. */
  add(ref: number | undefined, key: string, targets: Array<RouteTarget<R>>): number {
    const id = this.lists++;
    if (id >= this.listStart.length) {
      this.listStart = grown(this.listStart, id);
      this.listCount = grown(this.listCount, id);
    }
    const first = this.routes;
    this.routes += targets.length;
    this.listStart[id] = first;
    this.listCount[id] = targets.length;
    if (this.routes > this.group.length) {
      this.leaf = grown(this.leaf, this.routes);
      this.group = grown(this.group, this.routes);
      this.member = grown(this.member, this.routes);
    }
    targets.forEach((t, i) => {
      let l = this.leafIndex.get(t.leaf);
      if (l === undefined) {
        this.leafIndex.set(t.leaf, (l = this.leaves.length));
        this.leaves.push(t.leaf);
        this.rules.push(t.rule);
      }
      this.leaf[first + i] = l;
      this.group[first + i] = t.group;
      this.member[first + i] = t.member;
    });
    if (ref === undefined) this.byKey.set(key, id);
    else {
      if (ref >= this.byRef.length) this.byRef = grown(this.byRef, ref);
      // Stored +1 so that the zero fill means "not resolved".
      this.byRef[ref] = id + 1;
    }
    return id;
  }

  start(list: number): number {
    return this.listStart[list]!;
  }

  end(list: number): number {
    return this.listStart[list]! + this.listCount[list]!;
  }
}

function grown(a: Int32Array, index: number): Int32Array {
  let n = Math.max(1024, a.length);
  while (n <= index) n *= 2;
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
