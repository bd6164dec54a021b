/**
 * The history database's shape: one `tasks` row per task (every TaskRecord field, JSON text for
 * the two lists, 0/1 for the flags), `meta` key/value pairs (stream cursors, all-time totals) and
 * `series_minute` chart aggregates. Rows travel to the writer thread as positional arrays in
 * COLUMNS order: cheaper to structured-clone than objects, and one encode per flush.
 */
import type { TaskRecord } from "../protocol/api";
import type { TaskState } from "../protocol/types";
import { FTS_SCHEMA } from "./fts";

/** TaskRecord columns in row order; `updated` (wall clock of the last write, unix s) is appended. */
export const COLUMNS = [
  "uuid", "name", "state", "received", "sent", "started", "rejected", "succeeded", "failed", "retried", "revoked",
  "args", "kwargs", "eta", "expires", "retries", "worker", "result", "exception", "timestamp", "runtime", "traceback",
  "exchange", "routing_key", "clock", "client", "root_id", "parent_id", "children",
  "queue", "retry_of", "retried_as", "terminated", "expired", "signum",
] as const;

export type Row = (string | number | null)[];

const TEXT = "TEXT";
const REAL = "REAL";
const INT = "INTEGER";
const TYPES: Record<(typeof COLUMNS)[number], string> = {
  uuid: "TEXT NOT NULL UNIQUE", name: TEXT, state: "TEXT NOT NULL", received: REAL, sent: REAL, started: REAL, rejected: REAL,
  succeeded: REAL, failed: REAL, retried: REAL, revoked: REAL, args: TEXT, kwargs: TEXT, eta: TEXT, expires: TEXT,
  retries: INT, worker: TEXT, result: TEXT, exception: TEXT, timestamp: REAL, runtime: REAL, traceback: TEXT,
  exchange: TEXT, routing_key: TEXT, clock: INT, client: TEXT, root_id: TEXT, parent_id: TEXT, children: TEXT,
  queue: TEXT, retry_of: TEXT, retried_as: TEXT, terminated: INT, expired: INT, signum: INT,
};

/**
 * A rowid table (rowid = first-insert order, kept by the upsert) with a UNIQUE uuid: retention by
 * count deletes a rowid range, the cheapest delete SQLite has. Indexes end in uuid because every
 * sort breaks ties by uuid (as Flower), so a first page is an index walk with no sort step.
 * Name and worker are compared case-insensitively, as Flower's filters and sorts do.
 */
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS tasks (${COLUMNS.map((c) => `${c} ${TYPES[c]}`).join(", ")}, updated REAL NOT NULL)`,
  "CREATE INDEX IF NOT EXISTS tasks_timestamp ON tasks (timestamp, uuid)",
  "CREATE INDEX IF NOT EXISTS tasks_state ON tasks (state, timestamp, uuid)",
  "CREATE INDEX IF NOT EXISTS tasks_name ON tasks (name COLLATE NOCASE, timestamp, uuid)",
  "CREATE INDEX IF NOT EXISTS tasks_worker ON tasks (worker COLLATE NOCASE, timestamp, uuid)",
  "CREATE INDEX IF NOT EXISTS tasks_received ON tasks (received, uuid)",
  "CREATE INDEX IF NOT EXISTS tasks_started ON tasks (started, uuid)",
  "CREATE INDEX IF NOT EXISTS tasks_runtime ON tasks (runtime, uuid)",
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
  // Row counts per (state, name, worker), kept by triggers: the tasks page's total for its
  // chip filters is a sum over a few hundred rows instead of a count over millions.
  `CREATE TABLE IF NOT EXISTS task_counts (state TEXT NOT NULL, name TEXT NOT NULL, worker TEXT NOT NULL, n INTEGER NOT NULL,
     PRIMARY KEY (state, name, worker)) WITHOUT ROWID`,
  `CREATE TRIGGER IF NOT EXISTS task_counts_insert AFTER INSERT ON tasks BEGIN
     INSERT INTO task_counts VALUES (new.state, coalesce(new.name, ''), coalesce(new.worker, ''), 1)
       ON CONFLICT DO UPDATE SET n = n + 1;
   END`,
  `CREATE TRIGGER IF NOT EXISTS task_counts_update AFTER UPDATE OF state, name, worker ON tasks
     WHEN old.state IS NOT new.state OR old.name IS NOT new.name OR old.worker IS NOT new.worker BEGIN
     UPDATE task_counts SET n = n - 1 WHERE state = old.state AND name = coalesce(old.name, '') AND worker = coalesce(old.worker, '');
     INSERT INTO task_counts VALUES (new.state, coalesce(new.name, ''), coalesce(new.worker, ''), 1)
       ON CONFLICT DO UPDATE SET n = n + 1;
   END`,
  `CREATE TRIGGER IF NOT EXISTS task_counts_delete AFTER DELETE ON tasks BEGIN
     UPDATE task_counts SET n = n - 1 WHERE state = old.state AND name = coalesce(old.name, '') AND worker = coalesce(old.worker, '');
   END`,
  // One row per minute per key: key "" is the cluster, "n:<task name>" one task name.
  `CREATE TABLE IF NOT EXISTS series_minute (t INTEGER NOT NULL, key TEXT NOT NULL, received INTEGER NOT NULL,
     succeeded INTEGER NOT NULL, failed INTEGER NOT NULL, retried INTEGER NOT NULL, rt_count INTEGER NOT NULL,
     rt_p50 REAL, rt_p95 REAL, rt_p99 REAL, PRIMARY KEY (t, key)) WITHOUT ROWID`,
  // Free-text search index over final tasks (fts.ts).
  ...FTS_SCHEMA,
];

export const PRAGMAS = ["journal_mode = WAL", "synchronous = NORMAL", "temp_store = MEMORY", "cache_size = -65536", "busy_timeout = 5000"];

const ALL = [...COLUMNS, "updated"];
export const UPSERT_SQL =
  `INSERT INTO tasks (${ALL.join(", ")}) VALUES (${ALL.map(() => "?").join(", ")}) ` +
  `ON CONFLICT(uuid) DO UPDATE SET ${ALL.slice(1).map((c) => `${c} = excluded.${c}`).join(", ")}`;

/**
 * Series rows merge with MAX: after a restart inside a minute the live counters start again from
 * zero, and must not overwrite what the previous process counted for that minute.
 */
export const SERIES_UPSERT_SQL =
  "INSERT INTO series_minute (t, key, received, succeeded, failed, retried, rt_count, rt_p50, rt_p95, rt_p99) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
  "ON CONFLICT(t, key) DO UPDATE SET received = max(received, excluded.received), succeeded = max(succeeded, excluded.succeeded), " +
  "failed = max(failed, excluded.failed), retried = max(retried, excluded.retried), " +
  "rt_p50 = CASE WHEN excluded.rt_count >= rt_count THEN excluded.rt_p50 ELSE rt_p50 END, " +
  "rt_p95 = CASE WHEN excluded.rt_count >= rt_count THEN excluded.rt_p95 ELSE rt_p95 END, " +
  "rt_p99 = CASE WHEN excluded.rt_count >= rt_count THEN excluded.rt_p99 ELSE rt_p99 END, " +
  "rt_count = max(rt_count, excluded.rt_count)";

export const META_UPSERT_SQL = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value";

const flag = (v: boolean | undefined): number | null => (v === undefined ? null : v ? 1 : 0);
const list = (v: string[] | undefined): string | null => (v === undefined || v.length === 0 ? null : JSON.stringify(v));

/** One record as a row (COLUMNS order, then `updated`). */
export function encodeTask(t: TaskRecord, updated: number): Row {
  return [
    t.uuid, t.name, t.state, t.received, t.sent, t.started, t.rejected, t.succeeded, t.failed, t.retried, t.revoked,
    t.args, t.kwargs, t.eta, t.expires, t.retries, t.worker, t.result, t.exception, t.timestamp, t.runtime, t.traceback,
    t.exchange, t.routing_key, t.clock, t.client, t.root_id, t.parent_id, t.children.length === 0 ? null : JSON.stringify(t.children),
    t.queue ?? null, t.retry_of ?? null, list(t.retried_as), flag(t.terminated), flag(t.expired), t.signum ?? null,
    updated,
  ];
}

function parseList(v: unknown): string[] {
  if (typeof v !== "string" || v === "") return [];
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : null);

/** A raw row (COLUMNS order, as `.raw()` statements return it) back into a TaskRecord. */
export function decodeTask(r: unknown[]): TaskRecord {
  const retriedAs = parseList(r[31]);
  const flagOf = (v: unknown): boolean | undefined => (v === null || v === undefined ? undefined : v === 1 || v === 1n);
  // Same key order and optional keys as emptyTaskRecord(): one object shape in the store.
  return {
    uuid: String(r[0]),
    name: str(r[1]),
    state: (str(r[2]) ?? "PENDING") as TaskState,
    received: num(r[3]),
    sent: num(r[4]),
    started: num(r[5]),
    rejected: num(r[6]),
    succeeded: num(r[7]),
    failed: num(r[8]),
    retried: num(r[9]),
    revoked: num(r[10]),
    args: str(r[11]),
    kwargs: str(r[12]),
    eta: str(r[13]),
    expires: str(r[14]),
    retries: num(r[15]) ?? 0,
    worker: str(r[16]),
    result: str(r[17]),
    exception: str(r[18]),
    timestamp: num(r[19]),
    runtime: num(r[20]),
    traceback: str(r[21]),
    exchange: str(r[22]),
    routing_key: str(r[23]),
    clock: num(r[24]) ?? 0,
    client: str(r[25]),
    root_id: str(r[26]),
    parent_id: str(r[27]),
    children: parseList(r[28]),
    queue: r[29] === null ? undefined : str(r[29]),
    retry_of: r[30] === null ? undefined : str(r[30]),
    retried_as: retriedAs.length === 0 ? undefined : retriedAs,
    terminated: flagOf(r[32]),
    expired: flagOf(r[33]),
    signum: r[34] === null ? undefined : num(r[34]),
  };
}

/** `SELECT` list for decodeTask. */
export const SELECT_COLUMNS = COLUMNS.join(", ");
