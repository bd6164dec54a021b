/**
 * TaskQuery (Flower's /api/tasks filters, sort and search) → SQL over the history `tasks` table,
 * with the same meaning as lib/state/query.ts has over memory. The search string goes through
 * the same parser (lib/state/search.ts), so errors and precedence are identical; terms become
 * LIKE (substring, case-insensitive for ASCII, as SQLite's LIKE is) and `kwargs:key=value` a call
 * to kwargs_has(), which reuses the in-memory kwargs parser.
 */
import type { TaskQuery } from "../protocol/api";
import { TASK_STATES } from "../protocol/types";
import { parseSearch, type SearchNode } from "../state/search";
import { activeValues } from "../state/query";
import { TaskQueryError } from "../state";
import { UNFINISHED_STATES } from "./fts";

export interface SqlWhere {
  where: string;
  params: (string | number)[];
}

const likeEscape = (s: string): string => "%" + s.replace(/[\\%_]/g, (c) => "\\" + c) + "%";

const SEARCH_COLUMNS = ["uuid", "name", "state", "worker", "args", "kwargs", "result"] as const;

function searchSql(node: SearchNode, params: (string | number)[]): string {
  switch (node.kind) {
    case "all":
      return "1";
    case "and":
      return "(" + node.children.map((c) => searchSql(c, params)).join(" AND ") + ")";
    case "or":
      return "(" + node.children.map((c) => searchSql(c, params)).join(" OR ") + ")";
    case "term": {
      const lower = node.value.toLowerCase();
      if (node.field === null) {
        const p = likeEscape(lower);
        return "(" + SEARCH_COLUMNS.map((c) => (params.push(p), `${c} LIKE ? ESCAPE '\\'`)).join(" OR ") + ")";
      }
      if (node.field === "state") {
        params.push(lower);
        return "lower(state) = ?";
      }
      if (node.field === "kwargs" && lower.includes("=")) {
        const eq = lower.indexOf("=");
        params.push(`${lower.slice(0, eq).trim()}=${lower.slice(eq + 1).trim()}`);
        return "kwargs_has(kwargs, ?)";
      }
      params.push(likeEscape(lower));
      return `${node.field} LIKE ? ESCAPE '\\'`;
    }
  }
}

/**
 * The WHERE clause of a query's filters (no paging, no sort). Throws SearchSyntaxError.
 * `fts`: the search index's candidate rowids (a JSON array, FtsPlanner.candidatesFor) that
 * narrow the search.
 * `unindexed` writes the chip filters as `+col`, which keeps SQLite from using their indexes:
 * for a broad filter, walking the sort's index and testing each row beats sorting a million.
 */
export function whereOf(q: TaskQuery, unindexed = false, fts: string | null = null): SqlWhere {
  const u = unindexed ? "+" : "";
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const states = activeValues(q.state);
  if (states !== null) {
    const valid = [...new Set(states.map((s) => s.toUpperCase()).filter((s) => (TASK_STATES as readonly string[]).includes(s)))];
    if (valid.length === 0) parts.push("0");
    else {
      parts.push(`${u}state IN (${valid.map(() => "?").join(", ")})`);
      params.push(...valid);
    }
  }
  for (const [col, values] of [["name", activeValues(q.taskname)], ["worker", activeValues(q.workername)]] as const) {
    if (values === null) continue;
    parts.push(`${u}${col} COLLATE NOCASE IN (${values.map(() => "?").join(", ")})`);
    params.push(...values);
  }
  // Flower never excludes a task whose `received` is null.
  if (q.received_start != null) {
    parts.push("(received IS NULL OR received >= ?)");
    params.push(q.received_start);
  }
  if (q.received_end != null) {
    parts.push("(received IS NULL OR received <= ?)");
    params.push(q.received_end);
  }
  if (q.search != null && q.search.trim() !== "") {
    const node = parseSearch(q.search);
    if (node.kind !== "all") parts.push(searchSql(node, params));
    // The index narrows the rows the LIKEs above test: final tasks it matched, plus every
    // unfinished task (never indexed), found by the state index, plus the finished ones still
    // queued for indexing.
    if (fts !== null) {
      parts.push(
        `tasks.rowid IN (SELECT value FROM json_each(?) UNION ALL ` +
          `SELECT rowid FROM tasks WHERE state IN (${UNFINISHED_STATES.map(() => "?").join(", ")}) UNION ALL SELECT id FROM fts_pending)`,
      );
      params.push(fts, ...UNFINISHED_STATES);
    }
  }
  return { where: parts.length === 0 ? "" : "WHERE " + parts.join(" AND "), params };
}

/**
 * The same filters over task_counts when the query has only the chip filters (state, task name,
 * worker): its total is then a sum over a small table. null when a search or received range
 * needs the rows themselves.
 */
export function countsWhereOf(q: TaskQuery): SqlWhere | null {
  if ((q.search != null && q.search.trim() !== "") || q.received_start != null || q.received_end != null) return null;
  const { where, params } = whereOf({ state: q.state, taskname: q.taskname, workername: q.workername });
  return { where, params };
}

/**
 * Sort keys. Time and runtime sorts tie by uuid as Flower (and memory) do. The few-valued
 * columns (state, name, worker) tie by timestamp, then uuid: that order is what their
 * (col, timestamp, uuid) indexes give, so a first page never sorts millions of equal keys. Only
 * SQLite serves those sorts once memory is not the whole history, so pages stay consistent.
 */
const SORT_SQL: Record<string, string[]> = {
  received: ["received"],
  started: ["started"],
  runtime: ["runtime"],
  timestamp: ["timestamp"],
  name: ["name COLLATE NOCASE", "timestamp"],
  state: ["state", "timestamp"],
  worker: ["worker COLLATE NOCASE", "timestamp"],
};

/** ORDER BY for sort_by, Flower's order ("-" reverses every key, nulls first ascending). */
export function orderOf(sortBy: string | null | undefined): string {
  if (sortBy == null || sortBy === "") return "ORDER BY timestamp DESC, uuid DESC";
  const desc = sortBy.startsWith("-");
  const cols = SORT_SQL[desc ? sortBy.slice(1) : sortBy];
  if (cols === undefined) throw new TaskQueryError(`invalid sort_by ${sortBy}`);
  return "ORDER BY " + [...cols, "uuid"].map((c) => (desc ? `${c} DESC` : c)).join(", ");
}

/**
 * Whether the query's only chip filter is one value of the column its sort's index starts with
 * (state=X newest first, name=X by time, …): that index answers it directly.
 */
export function indexServes(q: TaskQuery): boolean {
  const sort = q.sort_by ?? "";
  if (sort !== "" && sort !== "-timestamp" && sort !== "timestamp") return false;
  const chips = [activeValues(q.state), activeValues(q.taskname), activeValues(q.workername)].filter((v) => v !== null);
  return chips.length === 1 && chips[0]!.length === 1;
}

/** Sorts where the newest tasks come first, so the in-memory window holds the first pages. */
export function isRecencySort(sortBy: string | null | undefined): boolean {
  return sortBy == null || sortBy === "" || sortBy === "-timestamp" || sortBy === "-received" || sortBy === "-started";
}
