/**
 * Task list ordering (Flower's `sort_by`) and a top-k selector, so a page of 50 out of 100k
 * tasks costs one key read and one comparison per task instead of a full sort.
 */
import type { TaskRecord } from "../protocol/api";

/** A query Flower would answer with a 500 (bad sort_by, bad number). */
export class TaskQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskQueryError";
  }
}

export const SORT_FIELDS = ["name", "state", "received", "started", "runtime", "worker", "timestamp"] as const;
export type SortField = (typeof SORT_FIELDS)[number];

type Key = number | string | null;

export interface SortSpec {
  /** the sort key of a task; strings lower-cased (Flower compares casefolded text) */
  key: (t: TaskRecord) => Key;
  desc: boolean;
}

/**
 * Flower's order: key (has value, value, uuid); nulls first when ascending; "-" reverses the
 * whole key (so ties go by uuid descending). No sort_by: newest `timestamp` first, a missing
 * timestamp counting as 0.
 */
export function sortSpec(sortBy: string | null): SortSpec {
  if (sortBy === null || sortBy === "") return { key: (t) => t.timestamp ?? 0, desc: true };
  const desc = sortBy.startsWith("-");
  const field = desc ? sortBy.slice(1) : sortBy;
  switch (field as SortField) {
    case "received":
      return { key: (t) => t.received, desc };
    case "started":
      return { key: (t) => t.started, desc };
    case "runtime":
      return { key: (t) => t.runtime, desc };
    case "timestamp":
      return { key: (t) => t.timestamp, desc };
    case "name":
      return { key: (t) => (t.name === null ? null : t.name.toLowerCase()), desc };
    case "state":
      return { key: (t) => t.state.toLowerCase(), desc };
    case "worker":
      return { key: (t) => (t.worker === null ? null : t.worker.toLowerCase()), desc };
    default:
      throw new TaskQueryError(`invalid sort_by ${sortBy}`);
  }
}

/** Ascending comparison of (key, uuid) pairs, nulls first. */
function cmpAsc(ka: Key, ua: string, kb: Key, ub: string): number {
  if (ka !== kb) {
    if (ka === null) return -1;
    if (kb === null) return 1;
    return ka < kb ? -1 : 1;
  }
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * Keeps the first `k` tasks of the order with a binary heap whose root is the worst kept one.
 * With k = Infinity it collects everything and sorts once.
 */
export class TopK {
  private readonly rows: TaskRecord[] = [];
  private readonly keys: Key[] = [];
  private readonly sign: number;

  constructor(
    private readonly spec: SortSpec,
    private readonly k: number,
  ) {
    this.sign = spec.desc ? -1 : 1;
  }

  /** <0 when (ka, ua) comes first in the final order. */
  private cmp(ka: Key, ua: string, kb: Key, ub: string): number {
    return this.sign * cmpAsc(ka, ua, kb, ub);
  }

  offer(t: TaskRecord): void {
    const key = this.spec.key(t);
    const rows = this.rows;
    if (rows.length < this.k) {
      rows.push(t);
      this.keys.push(key);
      if (this.k !== Infinity) this.up(rows.length - 1);
      return;
    }
    if (this.k === 0) return;
    if (this.cmp(key, t.uuid, this.keys[0], rows[0].uuid) >= 0) return;
    rows[0] = t;
    this.keys[0] = key;
    this.down(0);
  }

  sorted(): TaskRecord[] {
    const idx = this.rows.map((_, i) => i);
    idx.sort((a, b) => this.cmp(this.keys[a], this.rows[a].uuid, this.keys[b], this.rows[b].uuid));
    return idx.map((i) => this.rows[i]);
  }

  /** true when i should sit above j (i is worse). */
  private worse(i: number, j: number): boolean {
    return this.cmp(this.keys[i], this.rows[i].uuid, this.keys[j], this.rows[j].uuid) > 0;
  }

  private swap(i: number, j: number): void {
    const r = this.rows[i];
    this.rows[i] = this.rows[j];
    this.rows[j] = r;
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
    const n = this.rows.length;
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
