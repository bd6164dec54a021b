/**
 * HistoryStore: Petal's task history in one SQLite file (WAL). Writes are batched: `touch()`
 * only marks a task dirty (a Map set per event), and every `flushMs` the dirty tasks are read
 * (once each, however many events they had), encoded and sent to the writer thread as one transaction, so the event loop pays for the
 * encode and a structured clone, not for SQLite. Reads (restore, task lookup, queries beyond the
 * in-memory window) use a second connection on the caller's thread: WAL readers never wait for
 * the writer. The query path (pages and totals under a time budget) is in store-queries.ts.
 */
import fs from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import type { TaskPage, TaskQuery, TaskRecord } from "../protocol/api";
import { openDatabase, type WriteOp } from "./executor";
import { decodeTask, encodeTask, SELECT_COLUMNS, type Row } from "./schema";
import { createWriter, type Writer } from "./writer";
import { SlowReads } from "./slow-reads";
import { SearchIndex } from "./search-index";
import { HistoryQueries } from "./store-queries";

export { COUNT_CACHE_MAX_MS, COUNT_CACHE_MS, SORT_SCAN_MIN_ROWS } from "./store-queries";

/** (default: 250 ms) */
export const DEFAULT_FLUSH_MS = 250;
/** (default: 7 days) */
export const DEFAULT_RETENTION_SEC = 7 * 86_400;
/** (default: 10,000,000 rows) */
export const DEFAULT_MAX_ROWS = 10_000_000;
/** (default: every 60 s) */
export const DEFAULT_RETENTION_EVERY_MS = 60_000;
/** rows deleted per retention transaction (default: 5000) */
export const RETENTION_CHUNK = 5_000;
/** retention transactions per writer message (default: 4) */
export const RETENTION_CHUNKS_PER_OP = 4;
/**
 * Tasks kept waiting while writes fail (disk full, file gone): beyond this, the oldest are
 * dropped and counted in stats.dropped rather than growing memory without bound (default: 1M).
 */
export const MAX_PENDING = 1_000_000;

export interface HistoryOptions {
  /** database file; its directory is created */
  file: string;
  /** (default: DEFAULT_FLUSH_MS) */
  flushMs?: number;
  /** delete tasks whose last event is older than this, seconds; null keeps them (default: 7 d) */
  retentionSec?: number | null;
  /** keep at most this many tasks, newest first inserted; null: no limit (default: 10M) */
  maxRows?: number | null;
  /** (default: DEFAULT_RETENTION_EVERY_MS) */
  retentionEveryMs?: number;
  /** write from a worker thread (default: true); false writes on the caller's thread */
  thread?: boolean;
  /** unix seconds (default: Date.now() / 1000) */
  now?: () => number;
  /** main-thread budgets of a slow page / count, ms (default: PAGE_BUDGET_MS / COUNT_BUDGET_MS) */
  pageBudgetMs?: number;
  countBudgetMs?: number;
  /** (default: SORT_SCAN_MIN_ROWS; tests lower it to reach both plans) */
  sortScanMinRows?: number;
  /** index a database from before the search index in the background (default: true; tests call runBackfill) */
  backfill?: boolean;
  /** false: searches never use the free-text index (benchmarks compare both; default: true) */
  searchIndex?: boolean;
  /** hears write failures (the batch is kept and retried on the next flush) */
  onError?: (err: Error) => void;
}

export interface HistoryStats {
  flushes: number;
  rowsWritten: number;
  lastFlushMs: number;
  /** writer-thread time spent in task batches, ms (rowsWritten / writeMs: what the writer sustains) */
  writeMs: number;
  /** main-thread time spent encoding and posting batches, ms */
  encodeMs: number;
  pending: number;
  deleted: number;
  /** tasks dropped after failed writes (MAX_PENDING) */
  dropped: number;
}

export class HistoryStore {
  readonly file: string;
  readonly stats: HistoryStats = { flushes: 0, rowsWritten: 0, lastFlushMs: 0, writeMs: 0, encodeMs: 0, pending: 0, deleted: 0, dropped: 0 };
  /** rows in the table when it was opened */
  readonly rowsAtOpen: number;

  /** dirty tasks: a record when one was handed over (record, evicted), else null = read it at flush */
  private dirty = new Map<string, TaskRecord | null>();
  private resolve: (uuid: string) => TaskRecord | undefined = () => undefined;
  private pendingMeta = new Map<string, string>();
  private pendingSeries: Row[] = [];
  private readonly flushHooks: ((final: boolean) => void)[] = [];
  private readonly commitListeners: ((uuids: string[]) => void)[] = [];
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private closed: Promise<void> | null = null;
  private retaining = false;
  private readonly slow: SlowReads;
  private readonly search: SearchIndex;
  private readonly queries: HistoryQueries;
  private readonly now: () => number;

  private constructor(
    private readonly opts: HistoryOptions,
    private readonly reader: Database.Database,
    private readonly writer: Writer,
  ) {
    this.file = opts.file;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.slow = new SlowReads(opts.file, reader);
    this.search = new SearchIndex(reader, writer, () => this.closed !== null, opts);
    this.queries = new HistoryQueries(reader, this.slow, this.search.planner, opts);
    this.rowsAtOpen = (reader.prepare("SELECT coalesce(sum(n), 0) AS n FROM task_counts").get() as { n: number }).n;
  }

  /** Open (or create) the database and start the flush and retention timers. */
  static async open(opts: HistoryOptions): Promise<HistoryStore> {
    fs.mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
    const reader = openDatabase(opts.file);
    let writer: Writer;
    try {
      writer = await createWriter(opts.file, opts.thread ?? true);
    } catch (e) {
      reader.close();
      throw e;
    }
    const store = new HistoryStore(opts, reader, writer);
    if (!store.searchIndexReady && opts.backfill !== false) void store.runBackfill().catch((e: unknown) => opts.onError?.(e instanceof Error ? e : new Error(String(e))));
    store.timer = setInterval(() => void store.flush().catch(() => {}), opts.flushMs ?? DEFAULT_FLUSH_MS);
    store.timer.unref();
    if ((opts.retentionSec ?? DEFAULT_RETENTION_SEC) !== null || (opts.maxRows ?? DEFAULT_MAX_ROWS) !== null) {
      store.retentionTimer = setInterval(() => {
        // A pass still running (a big backlog) is not started twice.
        if (store.retaining) return;
        store.retaining = true;
        void store
          .runRetention()
          .catch(() => {})
          .finally(() => (store.retaining = false));
      }, opts.retentionEveryMs ?? DEFAULT_RETENTION_EVERY_MS);
      store.retentionTimer.unref();
    }
    return store;
  }

  /** Write this record at the next flush. */
  record(rec: TaskRecord): void {
    this.dirty.set(rec.uuid, rec);
  }

  /** Mark a task dirty; its record is read through `readWith`'s function at the next flush. */
  touch(uuid: string): void {
    this.dirty.set(uuid, null);
  }

  isDirty(uuid: string): boolean {
    return this.dirty.has(uuid);
  }

  /** Where touched tasks are read from at flush time (the in-memory state). */
  readWith(fn: (uuid: string) => TaskRecord | undefined): void {
    this.resolve = fn;
  }

  /** Run before each flush builds its batch (e.g. to setMeta the totals); `final` on close. */
  onFlush(fn: (final: boolean) => void): void {
    this.flushHooks.push(fn);
  }

  /** Hear the uuids of every committed batch. */
  onCommit(fn: (uuids: string[]) => void): () => void {
    this.commitListeners.push(fn);
    return () => {
      const i = this.commitListeners.indexOf(fn);
      if (i >= 0) this.commitListeners.splice(i, 1);
    };
  }

  /** A value stored with setMeta (including ones not flushed yet), or null. */
  getMeta(key: string): string | null {
    const pending = this.pendingMeta.get(key);
    if (pending !== undefined) return pending;
    const row = this.reader.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  /** Store a value; it commits with the next batch of tasks (same transaction). */
  setMeta(key: string, value: string): void {
    this.pendingMeta.set(key, value);
  }

  /** Queue chart-minute rows (schema SERIES_UPSERT_SQL order) for the next batch. */
  addSeriesRows(rows: Row[]): void {
    for (const r of rows) this.pendingSeries.push(r);
  }

  /** Write everything dirty now; resolves once committed (or rejects; the batch is kept). */
  async flush(final = false): Promise<void> {
    // One batch in flight at a time: while the writer is busy the dirty map keeps coalescing.
    while (this.inFlight !== null) await this.inFlight.catch(() => {});
    for (const fn of this.flushHooks) fn(final);
    if (this.dirty.size === 0 && this.pendingMeta.size === 0 && this.pendingSeries.length === 0) return;
    const t0 = performance.now();
    const batch = new Map<string, TaskRecord>();
    for (const [uuid, held] of this.dirty) {
      const rec = held ?? this.resolve(uuid);
      if (rec !== undefined) batch.set(uuid, rec);
    }
    const meta = this.pendingMeta;
    const series = this.pendingSeries;
    this.dirty = new Map();
    this.pendingMeta = new Map();
    this.pendingSeries = [];
    const updated = this.now();
    const rows: Row[] = new Array(batch.size);
    let i = 0;
    for (const rec of batch.values()) rows[i++] = encodeTask(rec, updated);
    const done = this.writer.run({ kind: "batch", seq: 0, rows, meta: [...meta], series });
    this.stats.encodeMs += performance.now() - t0;
    this.stats.pending = rows.length;
    this.inFlight = done.then(
      (reply) => {
        this.inFlight = null;
        this.stats.pending = 0;
        if (!reply.ok) {
          this.requeue(batch, meta, series);
          const err = new Error(`history write failed: ${reply.error}`);
          this.opts.onError?.(err);
          throw err;
        }
        this.stats.flushes++;
        this.stats.rowsWritten += rows.length;
        this.stats.lastFlushMs = reply.ms;
        this.stats.writeMs += reply.ms;
        this.search.afterFlush(reply.ms, this.opts.flushMs ?? DEFAULT_FLUSH_MS);
        if (this.commitListeners.length > 0) {
          const ids = [...batch.keys()];
          for (const fn of this.commitListeners) fn(ids);
        }
      },
      (e: unknown) => {
        this.inFlight = null;
        this.requeue(batch, meta, series);
        throw e;
      },
    );
    return this.inFlight;
  }

  /** Index every queued finished task now (tests and tools); resolves with how many. */
  indexQueue(): Promise<number> {
    return this.search.drainAll();
  }

  private requeue(batch: Map<string, TaskRecord>, meta: Map<string, string>, series: Row[]): void {
    for (const [k, v] of batch) if (!this.dirty.has(k)) this.dirty.set(k, v);
    for (const k of this.dirty.keys()) {
      if (this.dirty.size <= MAX_PENDING) break;
      this.dirty.delete(k);
      this.stats.dropped++;
    }
    for (const [k, v] of meta) if (!this.pendingMeta.has(k)) this.pendingMeta.set(k, v);
    this.pendingSeries.unshift(...series);
  }

  /** Apply --retention and --max-history now; resolves with the rows deleted. */
  async runRetention(): Promise<number> {
    const sec = this.opts.retentionSec === undefined ? DEFAULT_RETENTION_SEC : this.opts.retentionSec;
    const maxRows = this.opts.maxRows === undefined ? DEFAULT_MAX_ROWS : this.opts.maxRows;
    const before = sec === null ? null : this.now() - sec;
    let deleted = 0;
    // A few chunks per writer message, so task batches get their turn between them even when a
    // long stop left millions of rows to expire.
    for (;;) {
      const reply = await this.writer.run({ kind: "retention", seq: 0, before, maxRows, chunk: RETENTION_CHUNK, chunks: RETENTION_CHUNKS_PER_OP });
      if (!reply.ok) throw new Error(`history retention failed: ${reply.error}`);
      deleted += reply.deleted ?? 0;
      this.stats.deleted += reply.deleted ?? 0;
      if (!reply.more || this.closed !== null) break;
    }
    if (deleted > 0) this.slow.counts.clear();
    return deleted;
  }

  /**
   * Index the rows of a database from before the search index, newest first, one chunk per
   * writer message so task batches keep their turn; searches use the index once it is done.
   */
  runBackfill(): Promise<void> {
    return this.search.backfill();
  }

  /** Finished tasks indexed by this process, and the writer-thread ms it took. */
  get searchIndexStats(): { readonly indexed: number; readonly indexMs: number } {
    return this.search.stats;
  }

  /** Whether searches use the free-text index (false while a migrated database is backfilled). */
  get searchIndexReady(): boolean {
    return this.search.planner.ready;
  }

  /** Whether this search string is narrowed by the index (else scanned). Throws SearchSyntaxError. */
  usesSearchIndex(search: string): boolean {
    return this.search.planner.candidatesFor(search) !== null;
  }

  /** The `limit` most recent tasks (by last event time), oldest first: what a restart restores. */
  loadRecent(limit: number): TaskRecord[] {
    const rows = this.reader
      .prepare(`SELECT ${SELECT_COLUMNS} FROM tasks ORDER BY timestamp DESC, uuid DESC LIMIT ?`)
      .raw()
      .all(limit) as unknown[][];
    const out: TaskRecord[] = new Array(rows.length);
    for (let i = 0, j = rows.length - 1; j >= 0; i++, j--) out[i] = decodeTask(rows[j]);
    return out;
  }

  getTask(uuid: string): TaskRecord | null {
    const row = this.reader.prepare(`SELECT ${SELECT_COLUMNS} FROM tasks WHERE uuid = ?`).raw().get(uuid) as unknown[] | undefined;
    return row === undefined ? null : decodeTask(row);
  }

  /**
   * One page from SQLite (rows only); a search or time range may answer with a partial page
   * while the reader thread finishes it (HistoryQueries.queryPage). Throws like memory.
   */
  queryPage(q: TaskQuery): TaskRecord[] {
    return this.queries.queryPage(q);
  }

  /** queryPage, waiting for the reader thread instead of answering with a partial page. */
  queryPageAsync(q: TaskQuery): Promise<TaskRecord[]> {
    return this.queries.queryPageAsync(q);
  }

  /** How many rows match the query's filters, or null while that is being counted (HistoryQueries.count). */
  count(q: TaskQuery): number | null {
    return this.queries.count(q);
  }

  /** count(), waiting for the reader thread when it has to. */
  countAsync(q: TaskQuery): Promise<number> {
    return this.queries.countAsync(q);
  }

  /** Page and total, waiting for the reader thread when needed (tools and tests). */
  query(q: TaskQuery): Promise<TaskPage> {
    return this.queries.query(q);
  }

  /** The reader connection, for chart queries and tools (read only by convention). */
  get db(): Database.Database {
    return this.reader;
  }

  /** Flush what is left, checkpoint the WAL and close both connections (idempotent). */
  close(): Promise<void> {
    return (this.closed ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      if (this.retentionTimer) clearInterval(this.retentionTimer);
      try {
        await this.flush(true);
      } catch (e) {
        this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
      await this.slow.close();
      this.reader.close();
      await this.writer.close();
    })());
  }
}
