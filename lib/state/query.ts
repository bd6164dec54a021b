/**
 * The task list query: Flower's /api/tasks filters, sort and paging (FLOWER-API.md) over the
 * store, fast at 100k tasks.
 *
 * Plan: candidates come from the smallest useful index (state, then name, then worker; all
 * tasks if none), every other condition is checked on the record, and only the requested page is
 * ordered: a bounded heap keeps the best `offset + limit` rows, so a default page of 50 out of
 * 100k never sorts 100k rows.
 */
import type { TaskPage, TaskQuery, TaskRecord } from "../protocol/api";
import { TASK_STATES } from "../protocol/types";
import type { TaskState } from "../protocol/types";
import { compileSearch, parseSearch } from "./search";
import type { TaskPredicate } from "./search";
import type { TaskStore } from "./store";

import { TaskQueryError, TopK, sortSpec } from "./sort";

export { SearchSyntaxError } from "./search";
export { SORT_FIELDS, TaskQueryError } from "./sort";
export type { SortField } from "./sort";

/** `[values]` with "All" (any case) meaning no filter, as Flower's state/taskname/workername. */
function activeValues(v: readonly string[] | null | undefined): string[] | null {
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
  const spec = sortSpec(q.sort_by ?? null);
  const predicate = buildPredicate(store, q);

  const states = activeValues(q.state);
  const names = activeValues(q.taskname);
  const workers = activeValues(q.workername);
  const sources = pickSources(store, states, names, workers);

  const want = limit === null ? Infinity : offset + limit;
  const top = new TopK(spec, want);
  let total = 0;
  // Newest first: stores and index sets iterate oldest first, and with the default order (and
  // most others) the best rows then come early, so the rest is rejected by one comparison.
  if (sources === null) {
    const all = Array.from(store.values());
    for (let i = all.length - 1; i >= 0; i--) {
      const t = all[i];
      if (!predicate(t)) continue;
      total++;
      top.offer(t);
    }
  } else {
    for (const set of sources) {
      const rows = Array.from(set);
      for (let i = rows.length - 1; i >= 0; i--) {
        const t = rows[i];
        if (!predicate(t)) continue;
        total++;
        top.offer(t);
      }
    }
  }
  const rows = top.sorted();
  return { total, offset, rows: limit === null ? rows.slice(offset) : rows.slice(offset, offset + limit) };
}

/** The index sets to scan (disjoint), or null to scan every task. */
function pickSources(store: TaskStore, states: string[] | null, names: string[] | null, workers: string[] | null): ReadonlySet<TaskRecord>[] | null {
  const fromIndex = (values: string[], get: (v: string) => ReadonlySet<TaskRecord> | undefined): ReadonlySet<TaskRecord>[] => {
    const seen = new Set<ReadonlySet<TaskRecord>>();
    for (const v of values) {
      const s = get(v);
      if (s !== undefined) seen.add(s);
    }
    return [...seen];
  };
  const options: ReadonlySet<TaskRecord>[][] = [];
  if (states !== null) options.push(fromIndex(states, (v) => store.tasksByState(v.toUpperCase() as TaskState)));
  if (names !== null) options.push(fromIndex(names, (v) => store.tasksByName(v)));
  if (workers !== null) options.push(fromIndex(workers, (v) => store.tasksByWorker(v)));
  if (options.length === 0) return null;
  let best = options[0];
  let bestSize = sizeOf(best);
  for (let i = 1; i < options.length; i++) {
    const n = sizeOf(options[i]);
    if (n < bestSize) {
      best = options[i];
      bestSize = n;
    }
  }
  return best;
}

function sizeOf(sets: ReadonlySet<TaskRecord>[]): number {
  let n = 0;
  for (const s of sets) n += s.size;
  return n;
}

function buildPredicate(store: TaskStore, q: TaskQuery): TaskPredicate {
  const checks: TaskPredicate[] = [];
  const states = activeValues(q.state);
  if (states !== null) {
    const set = new Set(states.map((s) => s.toUpperCase()).filter((s) => (TASK_STATES as readonly string[]).includes(s)));
    checks.push((t) => set.has(t.state));
  }
  const names = activeValues(q.taskname);
  if (names !== null) {
    const set = new Set(names.map((s) => s.toLowerCase()));
    checks.push((t) => t.name !== null && set.has(t.name.toLowerCase()));
  }
  const workers = activeValues(q.workername);
  if (workers !== null) {
    const set = new Set(workers.map((s) => s.toLowerCase()));
    checks.push((t) => t.worker !== null && set.has(t.worker.toLowerCase()));
  }
  const start = q.received_start ?? null;
  const end = q.received_end ?? null;
  // Flower never excludes a task whose `received` is null.
  if (start !== null) checks.push((t) => t.received === null || t.received >= start);
  if (end !== null) checks.push((t) => t.received === null || t.received <= end);
  if (q.search != null && q.search.trim() !== "") checks.push(compileSearch(parseSearch(q.search), store));
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0];
  return (t) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i](t)) return false;
    return true;
  };
}
