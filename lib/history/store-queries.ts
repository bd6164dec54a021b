/**
 * The store's query path beyond the in-memory window: a page and a total per TaskQuery, on the
 * reader connection. Chip filters are answered from indexes and task_counts; a search or time
 * range gets a main-thread budget (slow-reads.ts), then the reader thread and a cache. Split
 * from store.ts, which owns the connections and delegates queryPage / count / query here.
 */
import type Database from "better-sqlite3";
import type { TaskPage, TaskQuery, TaskRecord } from "../protocol/api";
import type { FtsPlanner } from "./fts";
import { decodeTask, SELECT_COLUMNS } from "./schema";
import { countsWhereOf, indexServes, orderOf, whereOf } from "./sql-query";
import { COUNT_BUDGET_MS, PAGE_BUDGET_MS, SlowReads } from "./slow-reads";

/** how long a query's total from SQLite is reused (default: 2 s): counting 10M rows is not free */
export const COUNT_CACHE_MS = 2_000;
/** a chip filter keeping more rows than this is tested along the sort's index (default: 20000) */
export const SORT_SCAN_MIN_ROWS = 20_000;
/** the longest a slow count is reused (default: 60 s) */
export const COUNT_CACHE_MAX_MS = 60_000;

/** The HistoryOptions this part reads (same names and defaults). */
export interface QueryOptions {
  pageBudgetMs?: number;
  countBudgetMs?: number;
  sortScanMinRows?: number;
}

export class HistoryQueries {
  constructor(
    private readonly reader: Database.Database,
    private readonly slow: SlowReads,
    private readonly planner: FtsPlanner,
    private readonly opts: QueryOptions,
  ) {}

  /**
   * One page from SQLite (rows only). Throws SearchSyntaxError / TaskQueryError like memory.
   * A search or time range gets PAGE_BUDGET_MS here; past it the rows found so far come back
   * (maybe fewer than a page) and the reader thread finishes the page for the next call.
   */
  queryPage(q: TaskQuery): TaskRecord[] {
    const p = this.pagePlan(q);
    if (!p.open) return (this.reader.prepare(p.sql).raw().all(...p.params) as unknown[][]).map(decodeTask);
    const hit = this.slow.rows.get(p.key);
    const budget = this.opts.pageBudgetMs ?? PAGE_BUDGET_MS;
    if (hit !== undefined) {
      if (performance.now() - hit.at < SlowReads.ttl(hit)) return hit.value.map(decodeTask);
      // Slow last time: serve the old page while the reader thread makes a new one, instead of
      // spending the budget again on every refresh.
      if (hit.ms > budget) {
        void this.slow.request(p.key, p.sql, p.params, "rows");
        return hit.value.map(decodeTask);
      }
    }
    const partial = this.slow.partial.get(p.key);
    if (partial !== undefined && this.slow.running("rows", p.key)) return partial.map(decodeTask);
    const r = this.slow.rowsWithin(this.reader.prepare(p.sql), p.params, budget);
    if (!r.complete) {
      void this.slow.request(p.key, p.sql, p.params, "rows");
      this.slow.partial.set(p.key, r.rows);
    }
    return r.rows.map(decodeTask);
  }

  /** queryPage, waiting for the reader thread instead of answering with a partial page. */
  async queryPageAsync(q: TaskQuery): Promise<TaskRecord[]> {
    const p = this.pagePlan(q);
    if (!p.open) return (this.reader.prepare(p.sql).raw().all(...p.params) as unknown[][]).map(decodeTask);
    const r = this.slow.rowsWithin(this.reader.prepare(p.sql), p.params, this.opts.pageBudgetMs ?? PAGE_BUDGET_MS);
    if (r.complete) return r.rows.map(decodeTask);
    const reply = await this.slow.request(p.key, p.sql, p.params, "rows");
    if (!reply.ok) throw new Error(`history query failed: ${reply.error}`);
    return (reply.rows ?? []).map(decodeTask);
  }

  private pagePlan(q: TaskQuery): { open: boolean; sql: string; params: (string | number)[]; key: string } {
    const open = countsWhereOf(q) === null;
    const { where, params } = whereOf(q, this.walkSortIndex(q), this.planner.candidatesFor(q.search));
    const sql = `SELECT ${SELECT_COLUMNS} FROM tasks ${open ? SlowReads.budgeted(where) : where} ${orderOf(q.sort_by)} LIMIT ? OFFSET ?`;
    const all = [...params, q.limit ?? -1, q.offset ?? 0];
    return { open, sql, params: all, key: sql + "\u0000" + JSON.stringify(all) };
  }

  /**
   * Plan choice SQLite cannot make alone (it has no idea how many rows a filter keeps): with a
   * broad chip filter (over SORT_SCAN_MIN_ROWS rows, known from task_counts) walk the sort's
   * index and test rows; with a narrow one use the filter's index and sort what it finds.
   */
  private walkSortIndex(q: TaskQuery): boolean {
    const counts = countsWhereOf(q);
    if (counts === null) return true; // a search or time range: the sort order decides the walk
    if (counts.where === "" || indexServes(q)) return false;
    return (this.count(q) ?? 0) > (this.opts.sortScanMinRows ?? SORT_SCAN_MIN_ROWS);
  }

  /**
   * How many rows match the query's filters, or null while that is being counted. Chip filters
   * only: a sum over task_counts. With a search or time range: a real count, COUNT_BUDGET_MS here
   * and else on the reader thread, then reused for 50 times what it cost (COUNT_CACHE_MS to
   * COUNT_CACHE_MAX_MS), so a slow count costs little however often the page refreshes.
   */
  count(q: TaskQuery): number | null {
    const counts = countsWhereOf(q);
    if (counts !== null) {
      return (this.reader.prepare(`SELECT coalesce(sum(n), 0) AS n FROM task_counts ${counts.where}`).get(...counts.params) as { n: number }).n;
    }
    const { where, params } = whereOf(q, false, this.planner.candidatesFor(q.search));
    const sql = `SELECT count(*) AS n FROM tasks ${SlowReads.budgeted(where)}`;
    const key = sql + "\u0000" + JSON.stringify(params);
    const now = performance.now();
    const hit = this.slow.counts.get(key);
    const budget = this.opts.countBudgetMs ?? COUNT_BUDGET_MS;
    if (hit !== undefined && now - hit.at < Math.min(COUNT_CACHE_MAX_MS, Math.max(COUNT_CACHE_MS, hit.ms * 50))) return hit.value;
    if (this.slow.running("count", key) || (hit !== undefined && hit.ms > budget)) {
      void this.slow.request(key, sql, params, "count");
      return hit?.value ?? null;
    }
    const n = this.slow.countWithin(this.reader.prepare(sql), params, budget);
    if (n === null) {
      void this.slow.request(key, sql, params, "count");
      return hit?.value ?? null;
    }
    this.slow.counts.set(key, { value: n, at: now, ms: performance.now() - now });
    return n;
  }

  /** count(), waiting for the reader thread when it has to. */
  async countAsync(q: TaskQuery): Promise<number> {
    const n = this.count(q);
    if (n !== null) return n;
    const { where, params } = whereOf(q, false, this.planner.candidatesFor(q.search));
    const sql = `SELECT count(*) AS n FROM tasks ${SlowReads.budgeted(where)}`;
    const reply = await this.slow.request(sql + "\u0000" + JSON.stringify(params), sql, params, "count");
    if (!reply.ok) throw new Error(`history count failed: ${reply.error}`);
    return reply.n ?? 0;
  }

  /** Page and total, waiting for the reader thread when needed (tools and tests). */
  async query(q: TaskQuery): Promise<TaskPage> {
    return { total: await this.countAsync(q), offset: q.offset ?? 0, rows: await this.queryPageAsync(q) };
  }
}
