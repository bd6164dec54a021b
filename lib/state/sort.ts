/**
 * Task list ordering (Flower's `sort_by`) over store slots, and a top-k selector, so a page of 50
 * out of a million tasks costs one key read and one comparison per task instead of a full sort.
 *
 * Every order is a numeric key per slot plus the uuid as tie-break: time columns as they are
 * (null → -Infinity, so nulls come first ascending), strings as their rank among the distinct
 * lower-cased values (Flower compares casefolded text), computed once per query.
 */
import type { Columns } from "./columns";
import { STATE_OF } from "./columns";

/** A query Flower would answer with a 500 (bad sort_by, bad number). */
export class TaskQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskQueryError";
  }
}

export const SORT_FIELDS = ["name", "state", "received", "started", "runtime", "worker", "timestamp"] as const;
export type SortField = (typeof SORT_FIELDS)[number];

/** How to read a slot's key: a time column (NaN → `nullKey`), or a rank table by id/state code. */
export type SortSpec =
  | { kind: "time"; col: Float64Array; nullKey: number; desc: boolean }
  | { kind: "id"; col: Int32Array; rank: Float64Array; desc: boolean }
  | { kind: "state"; col: Uint8Array; rank: Float64Array; desc: boolean };

/**
 * Flower's order: key (has value, value, uuid); nulls first when ascending; "-" reverses the
 * whole key (so ties go by uuid descending). No sort_by: newest `timestamp` first, a missing
 * timestamp counting as 0.
 */
export function sortSpec(sortBy: string | null, c: Columns): SortSpec {
  if (sortBy === null || sortBy === "") return { kind: "time", col: c.timestamp, nullKey: 0, desc: true };
  const desc = sortBy.startsWith("-");
  const field = desc ? sortBy.slice(1) : sortBy;
  switch (field as SortField) {
    case "received":
    case "started":
    case "runtime":
    case "timestamp":
      return { kind: "time", col: c[field as "received" | "started" | "runtime" | "timestamp"], nullKey: -Infinity, desc };
    case "name":
      return { kind: "id", col: c.name, rank: c.pool.rankTable(), desc };
    case "worker":
      return { kind: "id", col: c.worker, rank: c.pool.rankTable(), desc };
    case "state": {
      const sorted = STATE_OF.map((s) => s.toLowerCase()).sort();
      return { kind: "state", col: c.state, rank: Float64Array.from(STATE_OF, (s) => sorted.indexOf(s.toLowerCase())), desc };
    }
    default:
      throw new TaskQueryError(`invalid sort_by ${sortBy}`);
  }
}

/**
 * Keeps the first `k` slots of the order with a binary heap whose root is the worst kept one.
 * Keys are normalized so that smaller comes first (callers negate them for a descending order);
 * `uuidSign` orders ties by uuid (-1: descending). With k = Infinity it collects everything and
 * sorts once.
 */
export class TopK {
  private readonly slots: number[] = [];
  private readonly keys: number[] = [];
  /** Key of the worst kept row once the heap is full (Infinity before): a larger key loses at once. */
  worst = Infinity;

  constructor(
    private readonly uuid: readonly (string | null)[],
    private readonly uuidSign: number,
    private readonly k: number,
  ) {}

  /** <0 when (ka, a) comes first in the final order. */
  private cmp(ka: number, a: number, kb: number, b: number): number {
    if (ka !== kb) return ka < kb ? -1 : 1;
    const ua = this.uuid[a] as string;
    const ub = this.uuid[b] as string;
    return ua < ub ? -this.uuidSign : ua > ub ? this.uuidSign : 0;
  }

  offer(slot: number, key: number): void {
    const slots = this.slots;
    if (slots.length < this.k) {
      slots.push(slot);
      this.keys.push(key);
      if (this.k !== Infinity) {
        this.up(slots.length - 1);
        if (slots.length === this.k) this.worst = this.keys[0];
      }
      return;
    }
    if (this.k === 0 || this.cmp(key, slot, this.keys[0], slots[0]) >= 0) return;
    slots[0] = slot;
    this.keys[0] = key;
    this.down(0);
    this.worst = this.keys[0];
  }

  sorted(): number[] {
    const idx = this.slots.map((_, i) => i);
    idx.sort((a, b) => this.cmp(this.keys[a], this.slots[a], this.keys[b], this.slots[b]));
    return idx.map((i) => this.slots[i]);
  }

  /** true when i should sit above j (i is worse). */
  private worse(i: number, j: number): boolean {
    return this.cmp(this.keys[i], this.slots[i], this.keys[j], this.slots[j]) > 0;
  }

  private swap(i: number, j: number): void {
    const r = this.slots[i];
    this.slots[i] = this.slots[j];
    this.slots[j] = r;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.worse(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.slots.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.worse(l, m)) m = l;
      if (r < n && this.worse(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
