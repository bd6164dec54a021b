/**
 * The search index's upkeep on the store's side: which searches it narrows (FtsPlanner), the
 * writer's indexing of finished tasks in its idle time after each flush, and the backfill of a
 * database from before the index. The SQL is in fts.ts, the writer's part in executor.ts.
 */
import type Database from "better-sqlite3";
import { FTS_BACKFILL_CHUNK, FTS_BACKFILL_KEY, FTS_DRAIN_MIN_MS, FtsPlanner, UNFINISHED_STATES } from "./fts";
import type { Writer } from "./writer";

export class SearchIndex {
  readonly planner: FtsPlanner;
  /** finished tasks indexed, and writer-thread ms spent on it */
  readonly stats = { indexed: 0, indexMs: 0 };
  private backfilling: Promise<void> | null = null;
  private draining = false;

  constructor(
    reader: Database.Database,
    private readonly writer: Writer,
    private readonly closed: () => boolean,
    opts: { searchIndex?: boolean },
  ) {
    const rows = reader.prepare(
      `SELECT coalesce(sum(n), 0) AS "all", coalesce(sum(CASE WHEN state IN (${UNFINISHED_STATES.map(() => "?").join(", ")}) THEN n END), 0) AS unfinished FROM task_counts`,
    );
    const ready = reader.prepare("SELECT 1 FROM meta WHERE key = ?").get(FTS_BACKFILL_KEY) === undefined;
    this.planner = new FtsPlanner(reader, () => rows.get(...UNFINISHED_STATES) as { all: number; unfinished: number }, ready);
    if (opts.searchIndex === false) this.planner.disabled = true;
  }

  /**
   * After a flush: let the writer index the tasks that finished, in the slack of the flush
   * interval (half of what the batch left), at least FTS_DRAIN_MIN_MS so a writer busy for long
   * still progresses. One request at a time.
   */
  afterFlush(batchMs: number, flushMs: number): void {
    if (this.draining || this.closed()) return;
    this.draining = true;
    const maxMs = Math.max(FTS_DRAIN_MIN_MS, (flushMs - batchMs) / 2);
    void this.writer.run({ kind: "index", seq: 0, maxMs }).then((r) => {
      this.draining = false;
      if (!r.ok) return; // the queue stays; the next flush tries again
      this.stats.indexed += r.indexed ?? 0;
      this.stats.indexMs += r.ms;
    });
  }

  /** Index every queued finished task now; resolves with how many. */
  async drainAll(): Promise<number> {
    const r = await this.writer.run({ kind: "index", seq: 0, maxMs: Infinity });
    if (!r.ok) throw new Error(`history search indexing failed: ${r.error}`);
    this.stats.indexed += r.indexed ?? 0;
    return r.indexed ?? 0;
  }

  /**
   * Index the rows of a database from before the index, newest first, one chunk per writer
   * message so task batches keep their turn; searches use the index once it is done.
   */
  backfill(): Promise<void> {
    return (this.backfilling ??= (async () => {
      for (;;) {
        if (this.closed()) return;
        const reply = await this.writer.run({ kind: "backfill", seq: 0, chunk: FTS_BACKFILL_CHUNK });
        if (!reply.ok) throw new Error(`history search index backfill failed: ${reply.error}`);
        if (!reply.more) break;
        // The inline writer answers at once: let timers and I/O run between chunks.
        await new Promise((r) => setImmediate(r));
      }
      this.planner.ready = true;
    })());
  }
}
