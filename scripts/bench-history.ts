/**
 * npm run bench:history — the SQLite history's two costs, printed as tables:
 *
 * 1. write: task updates at a fixed rate (default 12k/s for 10 s) into a ClusterState with the
 *    history attached (writer thread, 250 ms batches): main-thread ms per second spent for
 *    history (listener + batch encode/post), writer-thread ms per second, event-loop delay p99.
 * 2. query: a 10M-row database (filled once by a fast bulk insert, kept at
 *    /tmp/petal-bench-history.db and reused), then first pages (limit 50) of the tasks page's
 *    queries, p50/p95 of page and of count (total) separately. Target: page p95 ≤ 100 ms.
 *
 * 3. search: the free-text index (lib/history/fts.ts) against the plain LIKE scan on the same
 *    database. Unfinished tasks (not indexed) are only the newest UNFINISHED_TAIL rows, as in a
 *    real history; --unfinished-everywhere spreads them over all rows as older fills did.
 *
 *   node --import tsx scripts/bench-history.ts [--rows 10000000] [--db PATH] [--rate 12000] [--seconds 10] [--skip-write] [--skip-query]
 *     [--unfinished-everywhere] [--skip-scan (search table: index column only)]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { attachHistory } from "../lib/history/attach";
import { FTS_BACKFILL_SQL, FTS_TRIGGERS } from "../lib/history/fts";
import { SCHEMA, UPSERT_SQL } from "../lib/history/schema";
import { HistoryStore } from "../lib/history/store";
import { NAMES, rng, taskEvents, uuidOf, WORKERS } from "../lib/history/test-fixture";
import type { TaskQuery } from "../lib/protocol/api";
import { ClusterState } from "../lib/state";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const ROWS = Number(arg("rows", "10000000"));
const DB = arg("db", "/tmp/petal-bench-history.db");
const RATE = Number(arg("rate", "12000"));
const SECONDS = Number(arg("seconds", "10"));
/** unfinished tasks only among this many newest rows (unless --unfinished-everywhere) */
const UNFINISHED_TAIL = 20_000;
const EVERYWHERE = process.argv.includes("--unfinished-everywhere");
const log = (s: string) => process.stderr.write(s + "\n");
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const fmt = (n: number) => n.toFixed(1);

async function writeBench(): Promise<void> {
  // Each task: received, started, succeeded/failed → ~3 updates; RATE counts updates.
  const tasksPerSec = RATE / 3;
  const run = async (withHistory: boolean, searchIndex = true) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "petal-bench-w-"));
    const state = new ClusterState({ maxTasks: 100_000 });
    const history = withHistory ? await HistoryStore.open({ file: path.join(dir, "h.db"), retentionSec: null }) : null;
    if (history && !searchIndex) {
      // The write cost without the search index: its triggers dropped (the writer re-prepares).
      const raw = new Database(path.join(dir, "h.db"));
      for (const t of FTS_TRIGGERS) raw.exec(`DROP TRIGGER ${t}`);
      raw.close();
    }
    if (history) attachHistory(state, history, { maxTasks: 100_000 });
    const rand = rng(1);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let ingestMs = 0;
    let i = 0;
    let updates = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    while (performance.now() - t0 < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - t0) / 1000) * tasksPerSec);
      const evs = [];
      for (; i < due; i++) for (const e of taskEvents(i, Date.now() / 1000, rand)) evs.push(e);
      const a = performance.now();
      updates += state.ingest(evs).accepted;
      ingestMs += performance.now() - a;
      await new Promise((r) => setTimeout(r, 10));
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (history) await history.close();
    delay.disable();
    fs.rmSync(dir, { recursive: true, force: true });
    const writer = { rows: history?.stats.rowsWritten ?? 0, ms: history?.stats.writeMs ?? 0, indexMs: history?.searchIndexStats.indexMs ?? 0, indexed: history?.searchIndexStats.indexed ?? 0 };
    return { writer, updates, wall, ingestMs, encodeMs: history?.stats.encodeMs ?? 0, flushes: history?.stats.flushes ?? 0, cpuMs: (cpu.user + cpu.system) / 1000, p99: delay.percentile(99) / 1e6 };
  };
  log(`write: ${RATE} task updates/s for ${SECONDS} s, without then with history`);
  const base = await run(false);
  const noIndex = await run(true, false);
  const withH = await run(true);
  const perSec = (ms: number, r: { wall: number }) => ms / r.wall;
  const listener = perSec(withH.ingestMs, withH) - perSec(base.ingestMs, base);
  const mainHistory = listener + perSec(withH.encodeMs, withH);
  console.log("\n| write (uptime " + os.loadavg().map((x) => x.toFixed(2)).join(" ") + ") | value |");
  console.log("|---|---|");
  console.log(`| task updates/s (measured) | ${Math.round(withH.updates / withH.wall)} |`);
  console.log(`| main thread: ingest ms/s without history | ${fmt(perSec(base.ingestMs, base))} |`);
  console.log(`| main thread: ingest ms/s with history (listener) | ${fmt(perSec(withH.ingestMs, withH))} |`);
  console.log(`| main thread: batch encode+post ms/s | ${fmt(perSec(withH.encodeMs, withH))} |`);
  console.log(`| main thread for history, % of a core | ${fmt(mainHistory / 10)} % |`);
  console.log(`| process CPU (all threads) % of a core: without / with | ${fmt(base.cpuMs / base.wall / 10)} % / ${fmt(withH.cpuMs / withH.wall / 10)} % |`);
  console.log(`| flushes | ${withH.flushes} |`);
  console.log(`| event-loop delay p99 without / with | ${fmt(base.p99)} ms / ${fmt(withH.p99)} ms |`);
  // Task rows per second of writer-thread time: the rate the writer could sustain.
  const cap = (r: typeof withH) => Math.round(r.writer.rows / (r.writer.ms / 1000));
  console.log(`| writer thread: ms/s, search index off / on | ${fmt(perSec(noIndex.writer.ms, noIndex))} / ${fmt(perSec(withH.writer.ms, withH))} |`);
  console.log(`| writer capacity, task rows/s of writer time, search index off / on | ${cap(noIndex)} / ${cap(withH)} |`);
  console.log(`| writer thread: search indexing in idle time, ms/s (tasks indexed) | ${fmt(perSec(withH.writer.indexMs, withH))} (${withH.writer.indexed}) |`);
  console.log(`| writer capacity counting indexing time too, task rows/s | ${Math.round(withH.writer.rows / ((withH.writer.ms + withH.writer.indexMs) / 1000))} |`);
}

/** Bulk load: rows straight into an index-less table, indexes built once at the end. */
function fill(file: string, rows: number): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(file + "-wal", { force: true });
  fs.rmSync(file + "-shm", { force: true });
  const db = new Database(file);
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  db.exec(SCHEMA[0]);
  const ins = db.prepare(UPSERT_SQL.replace(/ ON CONFLICT.*$/, ""));
  const rand = rng(42);
  const t0 = performance.now();
  const now = Date.now() / 1000;
  const span = 6 * 86_400; // inside the default 7 d retention
  const CHUNK = 100_000;
  const states = ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "STARTED", "RECEIVED", "REVOKED"];
  for (let base = 0; base < rows; base += CHUNK) {
    db.transaction(() => {
      for (let i = base; i < Math.min(rows, base + CHUNK); i++) {
        const t = now - span + (i / rows) * span;
        const name = NAMES[Math.floor(rand() * NAMES.length)];
        const worker = WORKERS[Math.floor(rand() * WORKERS.length)];
        let state = states[Math.floor(rand() * states.length)];
        // Old tasks have finished (or were reconciled): only the newest rows are still running.
        if (!EVERYWHERE && i < rows - UNFINISHED_TAIL && (state === "STARTED" || state === "RECEIVED")) state = "SUCCESS";
        const x = Math.floor(rand() * 100_000);
        const done = state === "SUCCESS" || state === "FAILURE";
        const runtime = done ? Math.round(rand() * 5000) / 1000 : null;
        ins.run([
          uuidOf(i), name, state, t, null, state === "RECEIVED" ? null : t + 0.01, null, state === "SUCCESS" ? t + 0.02 : null,
          state === "FAILURE" ? t + 0.02 : null, null, state === "REVOKED" ? t + 0.02 : null,
          `(${x}, ${i % 7})`, `{'user': 'u${x % 997}', 'n': ${i % 5}}`, null, null, 0, worker,
          state === "SUCCESS" ? `'ok-${x}'` : null, state === "FAILURE" ? `ValueError('bad ${x}')` : null, t + 0.02, runtime,
          state === "FAILURE" ? "Traceback (most recent call last): ..." : null, "", "celery", 3, null, uuidOf(i), null, null,
          "celery", null, null, null, null, null, now,
        ]);
      }
    })();
    if ((base / CHUNK) % 10 === 0) log(`  filled ${base + CHUNK} rows (${Math.round((performance.now() - t0) / 1000)} s)`);
  }
  log(`  rows in ${Math.round((performance.now() - t0) / 1000)} s; building indexes`);
  for (const s of SCHEMA.slice(1)) db.exec(s);
  db.exec("INSERT INTO task_counts SELECT state, coalesce(name, ''), coalesce(worker, ''), count(*) FROM tasks GROUP BY 1, 2, 3");
  const f0 = performance.now();
  db.prepare(FTS_BACKFILL_SQL).run(0, rows + 1);
  log(`  search index built in ${Math.round((performance.now() - f0) / 1000)} s`);
  db.exec("ANALYZE");
  db.close();
  log(`  filled ${rows} rows in ${Math.round((performance.now() - t0) / 1000)} s, ${(fs.statSync(file).size / 2 ** 30).toFixed(2)} GiB`);
}

async function queryBench(): Promise<void> {
  const existing = fs.existsSync(DB) ? new Database(DB, { readonly: true }) : null;
  const have = existing ? (existing.prepare("SELECT max(rowid) AS n FROM tasks").get() as { n: number | null }).n ?? 0 : 0;
  existing?.close();
  if (have !== ROWS) {
    log(`query: filling ${DB} with ${ROWS} rows (df: ${fs.statfsSync(path.dirname(DB)).bavail * fs.statfsSync(path.dirname(DB)).bsize / 2 ** 30 | 0} GiB free)`);
    fill(DB, ROWS);
  } else log(`query: reusing ${DB} (${ROWS} rows)`);
  // No background backfill: an older bench database keeps searching with the scan (the table
  // says so) rather than indexing 10M rows under the measurements.
  const h = await HistoryStore.open({ file: DB, retentionSec: null, maxRows: null, thread: false, backfill: false });
  const queries: [string, TaskQuery][] = [
    ["default sort (newest)", {}],
    ["page 100 (offset 5000)", { offset: 5000 }],
    ["state=FAILURE", { state: ["FAILURE"] }],
    ["state=STARTED,RECEIVED", { state: ["STARTED", "RECEIVED"] }],
    ["taskname=mail.send", { taskname: ["mail.send"] }],
    ["workername=w2@host1", { workername: ["w2@host1"] }],
    ["sort -runtime", { sort_by: "-runtime" }],
    ["sort received", { sort_by: "received" }],
    ["sort -received", { sort_by: "-received" }],
    ["sort name", { sort_by: "name" }],
    ["state=FAILURE sort -runtime", { state: ["FAILURE"], sort_by: "-runtime" }],
  ];
  const REPS = 20;
  console.log(`\n| query, first page of 50 over ${ROWS.toLocaleString("en")} rows (uptime ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}) | page p50 | page p95 | total (first request) | total |`);
  console.log("|---|---|---|---|---|");
  for (const [label, q] of queries) {
    const page: number[] = [];
    const count: number[] = [];
    let total = 0;
    const reps = label.startsWith("search") ? 5 : REPS;
    for (let r = 0; r < reps; r++) {
      const a = performance.now();
      h.queryPage({ ...q, limit: 50 });
      page.push(performance.now() - a);
      if (r === 0) {
        // The first request with these filters: task_counts for chip filters, else a real count.
        const b = performance.now();
        total = h.count(q) ?? -1; // -1: over the main-thread budget, counted on the reader thread
        count.push(performance.now() - b);
      }
    }
    let full = "";
    if (label.startsWith("search")) {
      // What an HTTP caller waits for: the page finished on the reader thread, and the total.
      const a = performance.now();
      await h.queryPageAsync({ ...q, limit: 50 });
      const b = performance.now();
      const n = await h.countAsync(q);
      full = ` (full page ${Math.round(b - a)} ms, total ${Math.round(performance.now() - b)} ms = ${n})`;
    }
    console.log(`| ${label} | ${fmt(pct(page, 0.5))} ms | ${fmt(pct(page, 0.95))} ms | ${fmt(count[0])} ms | ${total}${full} |`);
  }
  await searchBench(h);
  const t0 = performance.now();
  const recent = h.loadRecent(100_000);
  const t1 = performance.now();
  const state = new ClusterState({ maxTasks: 100_000 });
  const restored = state.restoreTasks(recent);
  const t2 = performance.now();
  console.log(`\nrestore of the newest 100k: read+decode ${Math.round(t1 - t0)} ms, restoreTasks ${Math.round(t2 - t1)} ms (${restored} tasks)`);
  await h.close();
}

if (!process.argv.includes("--skip-write")) await writeBench();
if (!process.argv.includes("--skip-query")) await queryBench();

/** Free-text search with the index against the plain scan, same database, full first pages. */
async function searchBench(h: HistoryStore): Promise<void> {
  const scan = await HistoryStore.open({ file: DB, retentionSec: null, maxRows: null, thread: false, backfill: false, searchIndex: false });
  const searches: [string, string][] = [
    ["common result", "ok-123"],
    ["rare result", "ok-12345"],
    ["rare args", "\"(4242,\""],
    ["rare uuid", uuidOf(Math.floor(ROWS / 3)).slice(0, 13)],
    ["uncommon kwargs text", "u996'"],
    ["mid-frequency kwargs", "u99"],
    ["mid-frequency result", "ok-12"],
    ["no hits", "nothing-matches-this"],
    ["very common name", "mail.send"],
    ["common worker", "w2@host1"],
    ["name:mail state:failure", "name:mail state:failure"],
    ["kwargs:user=u5 (exact pair: no index)", "kwargs:user=u5"],
  ];
  // Start both reader threads first, so no total below pays for a thread's start.
  await Promise.all([h, scan].map((st) => st.countAsync({ search: "kwargs:user=u1" })));
  const REPS = 7;
  console.log(`\n| search, first page of 50 over ${ROWS.toLocaleString("en")} rows, index ${h.searchIndexReady ? "ready" : "NOT built (scan)"} (uptime ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}) | index: page p50 / p95 | index: total | scan: page p50 / p95 | scan: total | rows |`);
  console.log("|---|---|---|---|---|---|");
  for (const [label, search] of searches) {
    const cells: string[] = [];
    let n = 0;
    for (const store of process.argv.includes("--skip-scan") ? [h] : [h, scan]) {
      const page: number[] = [];
      for (let r = 0; r < (store === scan ? 3 : REPS); r++) {
        const a = performance.now();
        await store.queryPageAsync({ search, limit: 50 });
        page.push(performance.now() - a);
      }
      const b = performance.now();
      n = await store.countAsync({ search });
      cells.push(`${fmt(pct(page, 0.5))} / ${fmt(pct(page, 0.95))} ms`, `${Math.round(performance.now() - b)} ms`);
    }
    console.log(`| ${label} \`${search}\` | ${cells.join(" | ")} | ${n} |`);
  }
  await scan.close();
}
