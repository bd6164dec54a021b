/**
 * The free-text index behind history search: a contentless FTS5 trigram table (`tasks_fts`,
 * rowid = tasks.rowid) over the searchable text of the tasks in a final state (triggers queue a
 * task when it finishes, the writer indexes the queue in its spare time, and a task leaving that
 * state or deleted leaves the index).
 * A task gets ~4 upserts and only one is final, so writes pay for one index insert per task
 * instead of four. Unfinished tasks (few: they finish or are reconciled) are found by the state
 * index instead. The index only narrows: every candidate is still tested with the same LIKE
 * predicates as without it, so results are exactly those of the plain scan. That is why it can
 * be `detail=none` (rowids only, no columns or positions: about half the size and a quarter less
 * write time than full detail): a term becomes the AND of its trigrams, which every row holding
 * the substring matches, and the LIKE drops the rest.
 *
 * `state` is not indexed (8 values, trigram lists of millions): a term that could match a state
 * name, `state:` and `kwargs:key=value` give the index nothing to narrow with (see ftsMatch).
 */
import type Database from "better-sqlite3";
import { READY_STATES, TASK_STATES } from "../protocol/types";
import { parseSearch, SearchSyntaxError, type SearchNode } from "../state/search";

export const FTS_COLUMNS = ["uuid", "name", "worker", "args", "kwargs", "result"] as const;

const FINAL = [...READY_STATES].map((s) => `'${s}'`).join(", ");
/** States not (yet) indexed: searched with LIKE through the state index. */
export const UNFINISHED_STATES: readonly string[] = TASK_STATES.filter((s) => !READY_STATES.has(s));

const cols = FTS_COLUMNS.join(", ");
const newCols = FTS_COLUMNS.map((c) => `new.${c}`).join(", ");
const changed = FTS_COLUMNS.filter((c) => c !== "uuid").map((c) => `old.${c} IS NOT new.${c}`).join(" OR ");

/** meta key: rows with a rowid below this predate the index and are not all in it yet */
export const FTS_BACKFILL_KEY = "fts_backfill_below";

export const FTS_TRIGGERS = ["tasks_fts_insert", "tasks_fts_finish", "tasks_fts_change", "tasks_fts_unfinish", "tasks_fts_delete"] as const;
/** rows indexed per drain transaction (default: 500) */
export const FTS_DRAIN_CHUNK = 500;
/** writer time a drain gets after each flush even when the writer is busy, ms (default: 20) */
export const FTS_DRAIN_MIN_MS = 20;

const enqueue = `INSERT INTO fts_pending SELECT new.rowid WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = new.rowid);`;
const unindex = `DELETE FROM tasks_fts WHERE rowid = old.rowid; DELETE FROM fts_pending WHERE id = old.rowid;`;

/**
 * Triggers keep one invariant: a final task is in tasks_fts or in fts_pending (the queue the
 * writer indexes from when it has time, drainFts); an unfinished one in neither. Indexing costs
 * ~35 µs a task, so at peak the writer only queues a rowid and indexes in its idle time.
 */
export const FTS_SCHEMA = [
  `CREATE VIRTUAL TABLE IF NOT EXISTS tasks_fts USING fts5(${cols}, content='', contentless_delete=1, detail=none, tokenize='trigram case_sensitive 0')`,
  "CREATE TABLE IF NOT EXISTS fts_pending (id INTEGER PRIMARY KEY)",
  `CREATE TRIGGER IF NOT EXISTS tasks_fts_insert AFTER INSERT ON tasks WHEN new.state IN (${FINAL}) BEGIN ${enqueue} END`,
  `CREATE TRIGGER IF NOT EXISTS tasks_fts_finish AFTER UPDATE ON tasks
     WHEN new.state IN (${FINAL}) AND old.state NOT IN (${FINAL}) BEGIN ${enqueue} END`,
  // Final and final again with other text (a late event): out of the index, queued again. Every
  // other upsert of a final task costs a few comparisons.
  `CREATE TRIGGER IF NOT EXISTS tasks_fts_change AFTER UPDATE ON tasks
     WHEN new.state IN (${FINAL}) AND old.state IN (${FINAL}) AND (${changed}) BEGIN
     DELETE FROM tasks_fts WHERE rowid = old.rowid; ${enqueue}
   END`,
  // Retried after it finished: unfinished again, so out of the index.
  `CREATE TRIGGER IF NOT EXISTS tasks_fts_unfinish AFTER UPDATE ON tasks
     WHEN old.state IN (${FINAL}) AND new.state NOT IN (${FINAL}) BEGIN ${unindex} END`,
  `CREATE TRIGGER IF NOT EXISTS tasks_fts_delete AFTER DELETE ON tasks WHEN old.state IN (${FINAL}) BEGIN ${unindex} END`,
];

/**
 * Index the `?` oldest queued tasks, then unqueue them (one transaction, nothing writes between).
 * Top-level statements, where OR REPLACE does reach the virtual table (inside a trigger fired by
 * an upsert it would not).
 */
export const FTS_DRAIN_SQL = [
  `INSERT OR REPLACE INTO tasks_fts (rowid, ${cols}) SELECT rowid, ${cols} FROM tasks
     WHERE rowid IN (SELECT id FROM fts_pending ORDER BY id LIMIT ?) AND state IN (${FINAL})`,
  "DELETE FROM fts_pending WHERE id IN (SELECT id FROM fts_pending ORDER BY id LIMIT ?)",
];

/** Index the final rows with rowid in [lo, hi) (backfill and bulk loads). */
export const FTS_BACKFILL_SQL =
  `INSERT OR REPLACE INTO tasks_fts (rowid, ${cols}) SELECT rowid, ${cols} FROM tasks WHERE rowid >= ? AND rowid < ? AND state IN (${FINAL})`;

const STATE_NAMES = TASK_STATES.map((s) => s.toLowerCase());
/** a long term narrows as well with this many of its trigrams (default: 24) */
export const FTS_MAX_TRIGRAMS = 24;
const quote = (v: string): string => `"${v.replace(/"/g, '""')}"`;

/** A substring as the AND of its distinct trigrams (code points: what the tokenizer counts). */
function trigrams(lower: string, choose: Choose): string {
  const cps = [...lower];
  const all = [...new Set(cps.slice(0, cps.length - 2).map((_, i) => cps.slice(i, i + 3).join("")))];
  // Spread over the whole term: rare trigrams are as likely anywhere in it.
  const spread = all.length <= FTS_MAX_TRIGRAMS ? all : Array.from({ length: FTS_MAX_TRIGRAMS }, (_, i) => all[Math.floor((i * all.length) / FTS_MAX_TRIGRAMS)]);
  const pick = choose(spread);
  return pick.length === 1 ? quote(pick[0]) : "(" + pick.map(quote).join(" AND ") + ")";
}

/** Which of a term's trigrams to AND (any non-empty subset still matches every row holding it). */
export type Choose = (trigrams: string[]) => string[];

/**
 * The FTS5 MATCH expression whose hits are a superset of the final tasks `node` matches, or null
 * when the index cannot narrow it (then the plain scan runs). Trigrams need 3 characters (code
 * points, not UTF-16 units) per term. A field term searches every column (detail=none has no
 * column filter); the LIKE on the field decides.
 */
export function ftsMatch(node: SearchNode, choose: Choose = (t) => t): string | null {
  switch (node.kind) {
    case "all":
      return null;
    case "and": {
      const parts = node.children.map((c) => ftsMatch(c, choose)).filter((p): p is string => p !== null);
      return parts.length === 0 ? null : "(" + parts.join(" AND ") + ")";
    }
    case "or": {
      const parts = node.children.map((c) => ftsMatch(c, choose));
      return parts.some((p) => p === null) ? null : "(" + parts.join(" OR ") + ")";
    }
    case "term": {
      const lower = node.value.toLowerCase();
      if ([...lower].length < 3) return null;
      if (node.field === null) return STATE_NAMES.some((s) => s.includes(lower)) ? null : trigrams(lower, choose);
      if (node.field === "state" || (node.field === "kwargs" && lower.includes("="))) return null;
      return trigrams(lower, choose);
    }
  }
}

/**
 * When a term is common enough that walking the sort's index with LIKE finds a page sooner than
 * fetching and sorting every hit. The walk tests about rows × 50 / hits rows (~2 µs each), the
 * index plan fetches every hit (~15 µs each, measured at 1M rows): they cost the same at
 * hits = √(rows × 50 × 2 / 15) ≈ √(7 × rows), about 2,600 hits at 1M rows and 8,400 at 10M.
 */
export function maxCandidates(rows: number): number {
  return Math.min(FTS_MAX_CANDIDATES, Math.max(FTS_MIN_CANDIDATES, Math.round(Math.sqrt(7 * rows))));
}
/** what an unfinished task costs the index plan, in hits (default: 1/50; measured ~1/75 at 1M rows) */
export const FTS_UNFINISHED_WEIGHT = 0.02;
/** bounds of maxCandidates (default: 1000 and 20000) */
export const FTS_MIN_CANDIDATES = 1_000;
export const FTS_MAX_CANDIDATES = 20_000;
/** a trigram with fewer hits than this is rare: a term ANDs only its rarest (default: 2000) */
export const FTS_RARE_TRIGRAM = 2_000;
/** how long a trigram's hit count, or a term being common, is reused, ms (default: 5 s) */
export const FTS_PROBE_CACHE_MS = 5_000;
/** rows per backfill op: ~150 ms of writer time, so task batches wait little (default: 5000) */
export const FTS_BACKFILL_CHUNK = 5_000;

/** Decides, per search, whether the index narrows it (and with which MATCH expression). */
export class FtsPlanner {
  private readonly hits: Database.Statement;
  /** expressions found over the candidate budget lately (when): scanned without asking again */
  private readonly common = new Map<string, number>();
  private readonly pending: Database.Statement;
  private readonly trigramProbe: Database.Statement;
  private readonly trigramHits = new Map<string, { n: number; at: number }>();
  /** never narrow (benchmarks measure the plain scan) */
  disabled = false;

  constructor(
    db: Database.Database,
    /** rows in the history now, and unfinished ones (cheap: task_counts) */
    private readonly rows: () => { all: number; unfinished: number },
    /** false while the backfill of a migrated database runs: searches use the plain scan */
    public ready: boolean,
  ) {
    this.trigramProbe = db.prepare("SELECT count(*) AS n FROM (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ? LIMIT ?)");
    this.hits = db.prepare("SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ? LIMIT ?").pluck();
    this.pending = db.prepare("SELECT count(*) AS n FROM (SELECT id FROM fts_pending LIMIT ?)");
  }

  /**
   * The index's candidate rowids for `search` as a JSON array (for json_each), or null for the
   * plain scan. Found once per call and passed to the page query, so a term's trigram lists are
   * intersected once, not once to decide and again to answer. Throws SearchSyntaxError.
   */
  candidatesFor(search: string | null | undefined): string | null {
    if (!this.ready || this.disabled || search == null || search.trim() === "") return null;
    const now = performance.now();
    let m: string | null;
    try {
      m = ftsMatch(parseSearch(search), (t) => this.rarest(t, now));
    } catch (e) {
      if (e instanceof SearchSyntaxError) throw e;
      return null; // a trigram FTS5 refuses: the scan still answers correctly
    }
    if (m === null) return null;
    const rows = this.rows();
    const cap = maxCandidates(rows.all);
    // Every unfinished task is a candidate, cheap (a state-index read and a LIKE miss, ~0.2 µs
    // against ~15 µs for a hit fetched and sorted), but with millions (workers lost without
    // reconciliation) the scan is the better plan whatever the term.
    const unfinished = rows.unfinished * FTS_UNFINISHED_WEIGHT;
    if (unfinished >= cap) return null;
    // Queued tasks are candidates too (a long queue means a busy writer: scan instead).
    const budget = Math.floor(cap - unfinished) - (this.pending.get(cap) as { n: number }).n;
    if (budget <= 0) return null;
    const seen = this.common.get(m);
    if (seen !== undefined && now - seen < FTS_PROBE_CACHE_MS) return null;
    let ids: number[];
    try {
      ids = this.hits.all(m, budget) as number[];
    } catch {
      return null; // an expression FTS5 refuses: the scan still answers correctly
    }
    if (ids.length < budget) return JSON.stringify(ids);
    if (this.common.size >= 256) this.common.delete(this.common.keys().next().value as string);
    this.common.set(m, now);
    return null;
  }

  /**
   * A term's rarest trigrams: AND-ing a common one ("ok-" in millions of rows) adds long lists
   * to intersect and removes few candidates. Each trigram's count is probed up to
   * FTS_RARE_TRIGRAM hits (cheap, cached like the probes); all of them when none is rare.
   */
  private rarest(trigrams: string[], now: number): string[] {
    if (trigrams.length <= 1) return trigrams;
    const counted = trigrams.map((t) => {
      let hit = this.trigramHits.get(t);
      if (hit === undefined || now - hit.at > FTS_PROBE_CACHE_MS) {
        hit = { n: (this.trigramProbe.get(`"${t.replace(/"/g, '""')}"`, FTS_RARE_TRIGRAM) as { n: number }).n, at: now };
        if (this.trigramHits.size >= 4096) this.trigramHits.delete(this.trigramHits.keys().next().value as string);
        this.trigramHits.set(t, hit);
      }
      return { t, n: hit.n };
    });
    const rare = counted.filter((c) => c.n < FTS_RARE_TRIGRAM).sort((a, b) => a.n - b.n);
    return rare.length === 0 ? trigrams : rare.slice(0, 3).map((c) => c.t);
  }
}
