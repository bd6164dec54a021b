/**
 * The write side of the history database, synchronous: one transaction per batch (tasks, meta,
 * chart minutes together, so a stream cursor never runs ahead of the tasks it covers), retention
 * in small chunks, a WAL checkpoint on close. It runs in the writer thread (writer-thread.ts) or,
 * for tests and tools, on the caller's thread.
 */
import Database from "better-sqlite3";
import { FTS_BACKFILL_KEY, FTS_BACKFILL_SQL, FTS_DRAIN_CHUNK, FTS_DRAIN_SQL } from "./fts";
import { META_UPSERT_SQL, PRAGMAS, SCHEMA, SERIES_UPSERT_SQL, UPSERT_SQL, type Row } from "./schema";

export type WriteOp =
  | { kind: "batch"; seq: number; rows: Row[]; meta: [string, string][]; series: Row[] }
  /** at most `chunks` transactions of `chunk` rows; the reply says whether more is left */
  | { kind: "retention"; seq: number; before: number | null; maxRows: number | null; chunk: number; chunks: number }
  /** index `chunk` more pre-index rows (newest first); the reply says whether more is left */
  | { kind: "backfill"; seq: number; chunk: number }
  /** index queued finished tasks for up to `maxMs`; the reply says whether some are left */
  | { kind: "index"; seq: number; maxMs: number }
  | { kind: "close"; seq: number };

export type WriteReply = { seq: number; ok: true; deleted?: number; indexed?: number; more?: boolean; ms: number } | { seq: number; ok: false; error: string };

/** Open (creating the schema) with the history pragmas. */
export function openDatabase(file: string, readonly = false): Database.Database {
  const db = new Database(file, readonly ? { readonly: true, fileMustExist: true } : {});
  for (const p of PRAGMAS) {
    if (readonly && p.startsWith("journal_mode")) continue;
    db.pragma(p);
  }
  if (!readonly) {
    const hadCounts = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'task_counts'").get() !== undefined;
    const hadFts = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'tasks_fts'").get() !== undefined;
    const hadTasks = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").get() !== undefined;
    db.transaction(() => {
      for (const s of SCHEMA) db.exec(s);
      // A database from before the search index: its rows are indexed by the backfill op, newest
      // first; until it is done, searches use the plain scan (the watermark says how far it got).
      if (hadTasks && !hadFts) {
        const max = (db.prepare("SELECT max(rowid) AS m FROM tasks").get() as { m: number | null }).m;
        if (max !== null) db.prepare(META_UPSERT_SQL).run(FTS_BACKFILL_KEY, String(max + 1));
      }
    })();
    // A database from before the counts table (or bulk-loaded without triggers): count once.
    if (!hadCounts) db.exec("INSERT INTO task_counts SELECT state, coalesce(name, ''), coalesce(worker, ''), count(*) FROM tasks GROUP BY 1, 2, 3");
  }
  return db;
}

export class Executor {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly metaUpsert: Database.Statement;
  private readonly seriesUpsert: Database.Statement;
  private readonly writeBatch: (op: Extract<WriteOp, { kind: "batch" }>) => void;
  private closed = false;

  constructor(file: string) {
    this.db = openDatabase(file);
    this.upsert = this.db.prepare(UPSERT_SQL);
    this.metaUpsert = this.db.prepare(META_UPSERT_SQL);
    this.seriesUpsert = this.db.prepare(SERIES_UPSERT_SQL);
    this.writeBatch = this.db.transaction((op) => {
      for (let i = 0; i < op.rows.length; i++) this.upsert.run(op.rows[i]);
      for (const [k, v] of op.meta) this.metaUpsert.run(k, v);
      for (let i = 0; i < op.series.length; i++) this.seriesUpsert.run(op.series[i]);
    });
  }

  run(op: WriteOp): WriteReply {
    const t0 = performance.now();
    try {
      if (this.closed) throw new Error("history database is closed");
      switch (op.kind) {
        case "batch":
          this.writeBatch(op);
          return { seq: op.seq, ok: true, ms: performance.now() - t0 };
        case "retention": {
          const r = this.retention(op);
          return { seq: op.seq, ok: true, deleted: r.deleted, more: r.more, ms: performance.now() - t0 };
        }
        case "backfill": {
          const r = this.backfill(op.chunk);
          return { seq: op.seq, ok: true, indexed: r.indexed, more: r.more, ms: performance.now() - t0 };
        }
        case "index": {
          const r = this.drainFts(op.maxMs);
          return { seq: op.seq, ok: true, indexed: r.indexed, more: r.more, ms: performance.now() - t0 };
        }
        case "close":
          this.close();
          return { seq: op.seq, ok: true, ms: performance.now() - t0 };
      }
    } catch (e) {
      return { seq: op.seq, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }

  /**
   * Delete by age (timestamp before `before`) and by count (keep the `maxRows` newest inserts),
   * `chunk` rows per transaction so the writer never holds the database for long.
   */
  private retention(op: Extract<WriteOp, { kind: "retention" }>): { deleted: number; more: boolean } {
    let deleted = 0;
    let budget = op.chunks;
    if (op.before !== null) {
      const del = this.db.prepare("DELETE FROM tasks WHERE rowid IN (SELECT rowid FROM tasks WHERE timestamp < ? ORDER BY timestamp LIMIT ?)");
      for (;;) {
        if (budget-- <= 0) return { deleted, more: true };
        const n = del.run(op.before, op.chunk).changes;
        deleted += n;
        if (n < op.chunk) break;
      }
      // Chart minutes follow the same age limit.
      this.db.prepare("DELETE FROM series_minute WHERE t < ?").run(Math.floor(op.before));
    }
    if (op.maxRows !== null) {
      const maxRow = (this.db.prepare("SELECT max(rowid) AS m FROM tasks").get() as { m: number | null }).m;
      if (maxRow !== null) {
        // rowids only grow (first-insert order), so the newest maxRows rows all sit above this.
        const cut = maxRow - op.maxRows;
        const del = this.db.prepare("DELETE FROM tasks WHERE rowid IN (SELECT rowid FROM tasks WHERE rowid <= ? ORDER BY rowid LIMIT ?)");
        for (;;) {
          if (budget-- <= 0) return { deleted, more: true };
          const n = del.run(cut, op.chunk).changes;
          deleted += n;
          if (n < op.chunk) break;
        }
      }
    }
    return { deleted, more: false };
  }

  /** Index queued tasks, FTS_DRAIN_CHUNK per transaction, until the queue is empty or `maxMs` is spent. */
  private drainFts(maxMs: number): { indexed: number; more: boolean } {
    const t0 = performance.now();
    const [index, unqueue] = FTS_DRAIN_SQL.map((sql) => this.db.prepare(sql));
    const step = this.db.transaction(() => {
      index.run(FTS_DRAIN_CHUNK);
      return unqueue.run(FTS_DRAIN_CHUNK).changes;
    });
    let indexed = 0;
    for (;;) {
      const n = step();
      indexed += n;
      if (n < FTS_DRAIN_CHUNK) return { indexed, more: false };
      if (performance.now() - t0 >= maxMs) return { indexed, more: true };
    }
  }

  /** One chunk of the search-index backfill, in one transaction with its watermark. */
  private backfill(chunk: number): { indexed: number; more: boolean } {
    return this.db.transaction(() => {
      const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(FTS_BACKFILL_KEY) as { value: string } | undefined;
      const below = row === undefined ? 0 : Number(row.value);
      if (!(below > 0)) return { indexed: 0, more: false };
      const lo = Math.max(0, below - chunk);
      const indexed = this.db.prepare(FTS_BACKFILL_SQL).run(lo, below).changes;
      if (lo === 0) this.db.prepare("DELETE FROM meta WHERE key = ?").run(FTS_BACKFILL_KEY);
      else this.metaUpsert.run(FTS_BACKFILL_KEY, String(lo));
      return { indexed, more: lo > 0 };
    })();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    this.db.close();
  }
}
