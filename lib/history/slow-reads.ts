/**
 * Queries that may scan millions of rows (a search, a time range) get a time budget on the
 * caller's thread; past it they are finished by a reader thread and their answer cached, so a
 * rare search term costs the event loop at most the budget. The budget is a SQL function
 * (petal_budget) placed first in the WHERE clause; SQLite itself skips the call for 1023 rows
 * in 1024 (by rowid), so the check costs nothing measurable.
 */
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { registerFunctions, type ReadReply } from "./read-executor";

/** main-thread time a first page may take before the reader thread takes over (default: 90 ms) */
export const PAGE_BUDGET_MS = 90;
/** main-thread time a total may take before the reader thread takes over (default: 30 ms) */
export const COUNT_BUDGET_MS = 30;
/** how long a page the reader thread found is reused (default: 2 s) */
export const PAGE_CACHE_MS = 2_000;

class BudgetExceeded extends Error {}

export type Cached<T> = { value: T; at: number; ms: number };

export class SlowReads {
  private deadline = Infinity;
  private thread: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, (r: ReadReply) => void>();
  private readonly inFlight = new Map<string, Promise<ReadReply>>();
  /** partial pages found within the budget, served while the reader thread works */
  readonly partial = new Map<string, unknown[][]>();
  readonly rows = new Map<string, Cached<unknown[][]>>();
  readonly counts = new Map<string, Cached<number>>();
  private closed = false;

  constructor(
    private readonly file: string,
    db: Database.Database,
  ) {
    registerFunctions(db, () => {
      if (performance.now() > this.deadline) throw new BudgetExceeded("history query over budget");
      return 1;
    });
  }

  /** `WHERE …` with the budget check first (a bare WHERE when there was none). */
  static budgeted(where: string): string {
    const check = "((tasks.rowid & 1023) != 0 OR petal_budget())";
    return where === "" ? `WHERE ${check}` : where.replace(/^WHERE /, `WHERE ${check} AND `);
  }

  /**
   * Run `stmt` with a budget; rows as they came. `complete` false when the budget ran out
   * (the rows are the first ones found).
   */
  rowsWithin(stmt: Database.Statement, params: unknown[], budgetMs: number): { rows: unknown[][]; complete: boolean } {
    const rows: unknown[][] = [];
    this.deadline = performance.now() + budgetMs;
    try {
      for (const r of stmt.raw().iterate(...params) as IterableIterator<unknown[]>) rows.push(r);
      return { rows, complete: true };
    } catch (e) {
      if (e instanceof BudgetExceeded || (e instanceof Error && e.message.includes("over budget"))) return { rows, complete: false };
      throw e;
    } finally {
      this.deadline = Infinity;
    }
  }

  /** A count with a budget; null when it ran out. */
  countWithin(stmt: Database.Statement, params: unknown[], budgetMs: number): number | null {
    this.deadline = performance.now() + budgetMs;
    try {
      return (stmt.get(...params) as { n: number }).n;
    } catch (e) {
      if (e instanceof BudgetExceeded || (e instanceof Error && e.message.includes("over budget"))) return null;
      throw e;
    } finally {
      this.deadline = Infinity;
    }
  }

  running(kind: "rows" | "count", key: string): boolean {
    return this.inFlight.has(kind + key);
  }

  /**
   * How long an answer stays fresh: PAGE_CACHE_MS, or 20 times what it cost on the reader
   * thread (at most 60 s) so a slow query is not rerun back to back.
   */
  static ttl(c: Cached<unknown>): number {
    return Math.min(60_000, Math.max(PAGE_CACHE_MS, c.ms * 20));
  }

  /** Run on the reader thread (once per key at a time); the answer lands in rows/counts. */
  request(key: string, sql: string, params: (string | number)[], kind: "rows" | "count"): Promise<ReadReply> {
    const running = this.inFlight.get(kind + key);
    if (running !== undefined) return running;
    const p = this.post({ id: 0, sql, params, kind }).then((r) => {
      this.inFlight.delete(kind + key);
      this.partial.delete(key);
      if (r.ok && kind === "rows" && r.rows) this.rows.set(key, { value: r.rows, at: performance.now(), ms: r.ms });
      if (r.ok && kind === "count" && r.n !== undefined) this.counts.set(key, { value: r.n, at: performance.now(), ms: r.ms });
      if (this.rows.size > 64) this.rows.delete(this.rows.keys().next().value as string);
      if (this.partial.size > 64) this.partial.delete(this.partial.keys().next().value as string);
      if (this.counts.size > 128) this.counts.delete(this.counts.keys().next().value as string);
      return r;
    });
    this.inFlight.set(kind + key, p);
    return p;
  }

  private post(op: { id: number; sql: string; params: (string | number)[]; kind: "rows" | "count" }): Promise<ReadReply> {
    if (this.closed) return Promise.resolve({ id: 0, ok: false, error: "history is closed" });
    if (this.thread === null) {
      const t = new Worker(new URL("./reader-thread.mjs", import.meta.url), { workerData: { file: this.file } });
      t.unref();
      t.on("message", (r: ReadReply) => {
        const done = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        done?.(r);
      });
      const fail = (err: Error) => {
        for (const [id, done] of this.waiting) done({ id, ok: false, error: err.message });
        this.waiting.clear();
        this.thread = null;
      };
      t.on("error", fail);
      t.on("exit", () => fail(new Error("history reader thread exited")));
      this.thread = t;
    }
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.thread!.postMessage({ ...op, id });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const t = this.thread;
    this.thread = null;
    if (t !== null) {
      t.postMessage("close");
      await t.terminate();
    }
  }
}
