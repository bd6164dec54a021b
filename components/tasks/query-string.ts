/**
 * The task list's view lives in the URL (bookmarkable, shareable):
 *   /tasks?state=FAILURE,RETRY&name=proj.add&worker=w1@host&q=args:(2,&sort=-received&range=15m
 * Parsing is lenient: unknown states and values are dropped, never an error page.
 */
import type { TaskQuery } from "@/lib/protocol/api";
import { TASK_STATES, type TaskState } from "@/lib/protocol/types";

export const RANGES = ["5m", "15m", "1h", "24h"] as const;
export type Range = (typeof RANGES)[number];
const RANGE_SECONDS: Record<Range, number> = { "5m": 300, "15m": 900, "1h": 3600, "24h": 86400 };

/** Columns the table can sort by (Flower's fields, plus Petal's runtime and worker). */
export const SORTABLE = ["name", "state", "received", "started", "runtime", "worker"] as const;
export type SortField = (typeof SORTABLE)[number];

/**
 * The table's order when the URL names none: newest received first. Unlike Flower's default
 * (latest event first) a task keeps its place once received, so rows do not reshuffle as
 * tasks start and finish; only new tasks arrive, at the top.
 */
export const DEFAULT_SORT = "-received";

export function effectiveSort(f: TaskFilters): string {
  return f.sort || DEFAULT_SORT;
}

export interface TaskFilters {
  states: TaskState[];
  names: string[];
  workers: string[];
  search: string;
  /** `-received`, `name`, ...; empty = DEFAULT_SORT */
  sort: string;
  range: Range | null;
}

export const EMPTY_FILTERS: TaskFilters = { states: [], names: [], workers: [], search: "", sort: "", range: null };

interface ParamsLike {
  get(name: string): string | null;
}

function list(v: string | null): string[] {
  if (!v) return [];
  const out: string[] = [];
  for (const part of v.split(",")) {
    const s = part.trim();
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

export function parseFilters(p: ParamsLike): TaskFilters {
  const states = list(p.get("state"))
    .map((s) => s.toUpperCase())
    .filter((s): s is TaskState => (TASK_STATES as readonly string[]).includes(s));
  const sortRaw = p.get("sort") ?? "";
  const field = sortRaw.replace(/^-/, "");
  const range = p.get("range");
  return {
    states,
    names: list(p.get("name")),
    workers: list(p.get("worker")),
    search: (p.get("q") ?? "").slice(0, 1000),
    sort: (SORTABLE as readonly string[]).includes(field) ? sortRaw : "",
    range: (RANGES as readonly string[]).includes(range ?? "") ? (range as Range) : null,
  };
}

/** Back to a query string; empty parts are left out so the default view is a bare `/tasks`. */
export function filtersToSearch(f: TaskFilters): string {
  const qs = new URLSearchParams();
  if (f.states.length) qs.set("state", f.states.join(","));
  if (f.names.length) qs.set("name", f.names.join(","));
  if (f.workers.length) qs.set("worker", f.workers.join(","));
  if (f.search.trim()) qs.set("q", f.search.trim());
  if (f.sort && f.sort !== DEFAULT_SORT) qs.set("sort", f.sort);
  if (f.range) qs.set("range", f.range);
  const s = qs.toString().replace(/%2C/gi, ",").replace(/%40/g, "@");
  return s ? `?${s}` : "";
}

/** The server question for these filters. `nowSec` anchors the time range. */
export function filtersToQuery(f: TaskFilters, nowSec: number, offset = 0, limit = 100): TaskQuery {
  const q: TaskQuery = { offset, limit };
  if (f.states.length) q.state = f.states;
  if (f.names.length) q.taskname = f.names;
  if (f.workers.length) q.workername = f.workers;
  if (f.search.trim()) q.search = f.search.trim();
  q.sort_by = effectiveSort(f);
  if (f.range) q.received_start = Math.floor(nowSec - RANGE_SECONDS[f.range]);
  return q;
}

/**
 * Header click: first click sorts descending for times/runtime (newest first), ascending for
 * text; the second reverses; the third goes back to the default order. Returns "" for the default.
 */
export function nextSort(current: string, field: SortField): string {
  const cur = current || DEFAULT_SORT;
  const desc = `-${field}`;
  const descFirst = field === "received" || field === "started" || field === "runtime";
  const first = descFirst ? desc : field;
  const second = descFirst ? field : desc;
  let next: string;
  if (cur === first) next = second;
  else if (cur === second) next = "";
  else next = first;
  return next === DEFAULT_SORT ? "" : next;
}

export function sortDirection(current: string, field: SortField): "asc" | "desc" | null {
  current = current || DEFAULT_SORT;
  if (current === field) return "asc";
  if (current === `-${field}`) return "desc";
  return null;
}

export function hasFilters(f: TaskFilters): boolean {
  return f.states.length + f.names.length + f.workers.length > 0 || !!f.search.trim() || !!f.range;
}

export function toggle<T>(xs: readonly T[], x: T): T[] {
  return xs.includes(x) ? xs.filter((y) => y !== x) : [...xs, x];
}
