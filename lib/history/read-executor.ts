/**
 * Read-only queries for the reader thread (reader-thread.mjs): the slow ones (a search over
 * millions of rows) run here, so the event loop never waits for them.
 */
import Database from "better-sqlite3";
import { kwargsPairs } from "../state/pyliteral";

export interface ReadOp {
  id: number;
  sql: string;
  params: (string | number)[];
  kind: "rows" | "count";
}
export type ReadReply = { id: number; ok: true; rows?: unknown[][]; n?: number; ms: number } | { id: number; ok: false; error: string };

/** The SQL functions history queries use, on any connection. */
export function registerFunctions(db: Database.Database, budget: () => number = () => 1): void {
  db.function("kwargs_has", { deterministic: true }, (kwargs: unknown, pair: unknown) =>
    typeof kwargs === "string" && typeof pair === "string" && kwargsPairs(kwargs).has(pair) ? 1 : 0,
  );
  db.function("petal_budget", { deterministic: false }, budget);
}

export class ReadExecutor {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma("cache_size = -65536");
    registerFunctions(this.db);
  }

  run(op: ReadOp): ReadReply {
    const t0 = performance.now();
    try {
      const stmt = this.db.prepare(op.sql);
      if (op.kind === "count") return { id: op.id, ok: true, n: (stmt.get(...op.params) as { n: number }).n, ms: performance.now() - t0 };
      return { id: op.id, ok: true, rows: stmt.raw().all(...op.params) as unknown[][], ms: performance.now() - t0 };
    } catch (e) {
      return { id: op.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }

  close(): void {
    this.db.close();
  }
}
