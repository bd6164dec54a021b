/**
 * The task list query: Flower's /api/tasks filters, sort and paging (FLOWER-API.md) over the
 * store's columns, fast at a million tasks.
 *
 * Plan: one pass over the slots; state, name and worker filters are per-value lookup tables
 * (decided once per distinct value, then one array read per task), the received range and the
 * search predicate come after; only the requested page is ordered: a bounded heap keeps the best
 * `offset + limit` rows, so a default page of 50 never sorts a million rows. Only the returned
 * rows are materialized as TaskRecord objects.
 */
import type { TaskPage, TaskQuery } from "../protocol/api";
import * as col from "./columns";
import { STATE_OF } from "./columns";

/** module-local: an imported binding can compile to a getter call per read (CommonJS interop) */
const FREE = col.FREE;
import { compileSearch } from "./match";
import type { SlotPredicate } from "./match";
import { parseSearch } from "./search";
import type { TaskStore } from "./store";

import { TaskQueryError, TopK, sortSpec } from "./sort";

const NO_F64 = new Float64Array(0);
const NO_I32 = new Int32Array(0);

export { SearchSyntaxError } from "./search";
export { SORT_FIELDS, TaskQueryError } from "./sort";
export type { SortField } from "./sort";

/** `[values]` with "All" (any case) meaning no filter, as Flower's state/taskname/workername. */
export function activeValues(v: readonly string[] | null | undefined): string[] | null {
  if (v == null || v.length === 0) return null;
  const out: string[] = [];
  for (const x of v) {
    if (typeof x !== "string" || x === "") continue;
    if (x.toLowerCase() === "all") return null;
    out.push(x);
  }
  return out.length === 0 ? null : out;
}

/**
 * Run a task query. Throws SearchSyntaxError (Flower: 400 `{"error": message}`) for a bad
 * `search`, TaskQueryError (Flower: 500) for a bad sort_by or negative paging.
 */
export function queryTasks(store: TaskStore, q: TaskQuery): TaskPage {
  const offset = q.offset ?? 0;
  const limit = q.limit ?? null;
  if (!Number.isInteger(offset) || offset < 0) throw new TaskQueryError(`invalid offset ${String(q.offset)}`);
  if (limit !== null && (!Number.isInteger(limit) || limit < 0)) throw new TaskQueryError(`invalid limit ${String(q.limit)}`);
  const c = store.cols;
  const spec = sortSpec(q.sort_by ?? null, c);
  const search: SlotPredicate | null = q.search != null && q.search.trim() !== "" ? compileSearch(parseSearch(q.search), c) : null;

  const states = activeValues(q.state);
  const names = activeValues(q.taskname);
  const workers = activeValues(q.workername);
  const stOk = states === null ? null : stateTable(states);
  const nameOk = names === null ? null : idTable(store, names);
  const workerOk = workers === null ? null : idTable(store, workers);
  const start = q.received_start ?? null;
  const end = q.received_end ?? null;
  const lo = start ?? -Infinity;
  const hi = end ?? Infinity;
  const ranged = start !== null || end !== null;

  const want = limit === null ? Infinity : offset + limit;
  if ((q.sort_by == null || q.sort_by === "") && nameOk === null && workerOk === null && !ranged && search === null && want !== Infinity) {
    // The default page (what the realtime tick recomputes): no full scan.
    const fast = want === 0 ? [] : newestFirst(store, stOk, want);
    if (fast !== null) {
      let total = store.size;
      if (stOk !== null) {
        total = 0;
        for (let i = 0; i < STATE_OF.length; i++) if (stOk[i] === 1) total += store.countByState(STATE_OF[i]);
      }
      return { total, offset, rows: fast.slice(offset, offset + (limit as number)).map((s) => c.materialize(s)) };
    }
  }
  const sign = spec.desc ? -1 : 1;
  const top = new TopK(c.uuid, sign, want);
  const { state, name, worker, received } = c;
  // One loop, key read inlined per kind (a closure call per row costs more than the row).
  const kind = spec.kind === "time" ? 0 : spec.kind === "id" ? 1 : 2;
  const tcol = spec.kind === "time" ? spec.col : NO_F64;
  const nullKey = spec.kind === "time" ? spec.nullKey : 0;
  const icol = spec.kind === "id" ? spec.col : NO_I32;
  const rank = spec.kind === "time" ? NO_F64 : spec.rank;
  // Slots are handed out in arrival order (reused ones go to the newest tasks), so for a time
  // order the best rows come first when scanning from the matching end, and the heap rejects
  // the rest on the key alone.
  const backward = kind !== 0 || spec.desc;
  const n = c.hw;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = backward ? n - 1 - i : i;
    const st = state[s];
    if (st === FREE) continue;
    if (stOk !== null && stOk[st] === 0) continue;
    if (nameOk !== null && nameOk[name[s]] !== 1) continue;
    if (workerOk !== null && workerOk[worker[s]] !== 1) continue;
    // Flower never excludes a task whose `received` is null.
    if (ranged) {
      const r = received[s];
      if (r === r && (r < lo || r > hi)) continue;
    }
    if (search !== null && !search(s)) continue;
    total++;
    let k: number;
    if (kind === 0) {
      k = tcol[s];
      if (k !== k) k = nullKey;
    } else k = kind === 1 ? rank[icol[s]] : rank[st];
    k *= sign;
    if (k > top.worst) continue;
    top.offer(s, k);
  }
  const slots = top.sorted();
  const page = limit === null ? slots.slice(offset) : slots.slice(offset, offset + limit);
  return { total, offset, rows: page.map((s) => c.materialize(s)) };
}

/** 1 per state code the filter keeps (compared case-insensitively). */
function stateTable(values: string[]): Uint8Array {
  const want = new Set(values.map((v) => v.toUpperCase()));
  return Uint8Array.from(STATE_OF, (s) => (want.has(s) ? 1 : 0));
}

/** 1 per pooled string id equal (case-insensitively) to one of `values`. */
function idTable(store: TaskStore, values: string[]): Uint8Array {
  const want = new Set(values.map((v) => v.toLowerCase()));
  return store.cols.pool.matchTable((l) => want.has(l));
}

/**
 * The first `want` slots in the default order (newest timestamp first), walking the update order
 * from its newest end and stopping once no task further back can beat the page (TaskStore.keyBound):
 * a few hundred steps when timestamps roughly follow arrival. null when that takes too long
 * (workers with skewed clocks, a state filter nothing matches): the caller scans instead.
 */
function newestFirst(store: TaskStore, stOk: Uint8Array | null, want: number): number[] | null {
  const c = store.cols;
  const { prev, blk, state, timestamp } = c;
  const top = new TopK(c.uuid, -1, want);
  const budget = 8192 + 8 * want;
  let steps = 0;
  for (let s = store.newest; s !== -1; s = prev[s]) {
    if (top.worst !== Infinity && -store.keyBound(blk[s]) > top.worst) break;
    if (++steps > budget) return null;
    if (stOk !== null && stOk[state[s]] === 0) continue;
    let k = timestamp[s];
    k = k !== k ? 0 : -k;
    if (k > top.worst) continue;
    top.offer(s, k);
  }
  return top.sorted();
}
