import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { TaskQuery } from "../protocol/api";
import { ClusterState } from "../state";
import { parseSearch } from "../state/search";
import { taskEv } from "../state/test-events";
import { attachHistory } from "./attach";
import { FTS_BACKFILL_KEY, FTS_TRIGGERS, ftsMatch } from "./fts";
import { HistoryStore } from "./store";
import { rng, taskEvents, uuidOf } from "./test-fixture";

const dirs: string[] = [];
function tmpDb(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "petal-fts-"));
  dirs.push(d);
  return path.join(d, "petal.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function fill(state: ClusterState, n: number, seed: number): void {
  const rand = rng(seed);
  for (let i = 0; i < n; i++) state.ingest(taskEvents(i, 1_000_000 + i, rand));
}

/** Terms for every kind of search the index sees or refuses to narrow. */
const SEARCHES = [
  "ok-12", // common-ish result text
  "ok-999", // rare
  uuidOf(417).slice(0, 13), // rare uuid fragment (unique)
  uuidOf(5).slice(-9), // uuid tail
  "nothing-like-this", // no hits
  "abc", // 3 characters, no hits
  "u12", // 3 characters, in kwargs
  "PROJ.ADD", // case-insensitive; matches unfinished tasks too
  "host2", // worker, very common
  "succ", // could be a state name: not narrowed
  "ILURE", // a state substring, upper case
  "name:mul OR state:failure",
  "name:slow result:ok-5",
  'kwargs:user=u3 args:"2, 1"',
  '"bad 1" worker:host2',
  "result:ok-9 (state:success OR name:fail)",
  "(args:123 OR kwargs:u11) mail",
  'worker:W3@ args:", 6)"',
  "kwargs:user=u7",
  "state:started proj",
];

async function expectSame(h: HistoryStore, state: ClusterState, q: TaskQuery): Promise<void> {
  for (const [offset, limit] of [[0, 50], [20, 10]]) {
    const mem = state.queryTasks({ ...q, offset, limit });
    const sql = await h.query({ ...q, offset, limit });
    expect({ q, offset, total: sql.total, ids: sql.rows.map((r) => r.uuid) }).toEqual({ q, offset, total: mem.total, ids: mem.rows.map((r) => r.uuid) });
  }
}

describe("free-text search index", () => {
  it("builds MATCH expressions only where the index can narrow", () => {
    const m = (s: string) => ftsMatch(parseSearch(s));
    expect(m("ok-12")).toBe('("ok-" AND "k-1" AND "-12")');
    expect(m("abc")).toBe('"abc"');
    expect(m("ababab")).toBe('("aba" AND "bab")');
    expect(m('say "hey you" there')).toBe('("say" AND ("hey" AND "ey " AND "y y" AND " yo" AND "you") AND ("the" AND "her" AND "ere"))');
    expect(m('args:"a\\"bc"')).toBe('("a""b" AND """bc")');
    expect(m("x".repeat(10) + "0123456789abcdefghijklmnopqrstuvwxyz")).toMatch(/^\((".{3}"( AND |\)$)){24}/);
    expect(m("succ")).toBeNull();
    expect(m("state:failure")).toBeNull();
    expect(m("kwargs:user=u3")).toBeNull();
    expect(m("kwargs:user=u3 proj")).toBe('(("pro" AND "roj"))');
    expect(m("proj OR state:failure")).toBeNull();
    expect(m("\u{1F600}a")).toBeNull(); // 3 UTF-16 units, 2 code points: too short for trigrams
    expect(m("name:ADD OR worker:host")).toBe('("add" OR ("hos" AND "ost"))');
  });

  it("answers searches as memory does (final, unfinished, rare, short, common terms)", async () => {
    const file = tmpDb();
    const state = new ClusterState({ maxTasks: 10_000 });
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null });
    expect(h.searchIndexReady).toBe(true);
    attachHistory(state, h, { maxTasks: 10_000 });
    fill(state, 1500, 5);
    await h.flush();
    await h.indexQueue();
    // Only final tasks are indexed.
    const indexed = (h.db.prepare(`SELECT count(*) AS n FROM tasks_fts WHERE tasks_fts MATCH '"-40" AND "800"'`).get() as { n: number }).n;
    const final = (h.db.prepare("SELECT count(*) AS n FROM tasks WHERE state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED')").get() as { n: number }).n;
    expect(indexed).toBe(final);
    expect(final).toBeLessThan(1500);
    // Both plans are exercised below.
    const narrowed = SEARCHES.filter((q) => h.usesSearchIndex(q));
    expect(narrowed).toContain(uuidOf(417).slice(0, 13));
    expect(narrowed).toContain("host2");
    expect(narrowed.length).toBeGreaterThan(10);
    expect(h.usesSearchIndex("succ")).toBe(false);
    for (const search of SEARCHES) {
      await expectSame(h, state, { search });
      await expectSame(h, state, { search, state: ["SUCCESS", "STARTED"], sort_by: "-runtime" });
    }
    // Finished tasks still queued for indexing (a busy writer) are found too: move every third
    // indexed task back to the queue, then let the next flush's drain index them again.
    const pending = () => (h.db.prepare("SELECT count(*) AS n FROM fts_pending").get() as { n: number }).n;
    expect(pending()).toBe(0);
    h.db.exec("INSERT INTO fts_pending SELECT rowid FROM tasks WHERE rowid % 3 = 0 AND state IN ('SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED')");
    h.db.exec("DELETE FROM tasks_fts WHERE rowid IN (SELECT id FROM fts_pending)");
    expect(pending()).toBeGreaterThan(300);
    for (const search of SEARCHES.slice(0, 8)) await expectSame(h, state, { search: search + " " });
    state.ingest(taskEvents(5000, 2_000_000, rng(1)));
    await h.flush();
    expect(pending()).toBe(0);
    expect(h.searchIndexStats.indexed).toBeGreaterThan(300);
    // "proj.add" matches unfinished tasks, found through the state index.
    expect(state.queryTasks({ search: "proj.add", state: ["RECEIVED"] }).total).toBeGreaterThan(0);
    await expectSame(h, state, { search: "proj.add", state: ["RECEIVED", "STARTED"] });
    await h.close();
  });

  it("an indexed search over budget is finished by the reader thread", async () => {
    const file = tmpDb();
    const state = new ClusterState({ maxTasks: 10_000 });
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null, pageBudgetMs: 0, countBudgetMs: 0 });
    attachHistory(state, h, { maxTasks: 10_000 });
    fill(state, 4000, 13);
    await h.flush();
    await h.indexQueue(); // (the flush's own drain may stop at its time budget)
    // Task 1023 has rowid 1024, where the budget is checked (rowid & 1023 = 0).
    const q = { search: `(host2 proj.a) OR ${uuidOf(1023).slice(-12)}`, limit: 30, offset: 100 };
    expect(h.usesSearchIndex(q.search)).toBe(true);
    expect(h.count(q)).toBeNull(); // over the 0 ms budget: counted on the reader thread
    const want = state.queryTasks(q);
    expect((await h.queryPageAsync(q)).map((r) => r.uuid)).toEqual(want.rows.map((r) => r.uuid));
    expect(await h.countAsync(q)).toBe(want.total);
    // Many unfinished tasks (all candidates): the scan is the better plan for any term.
    for (let i = 0; i < 50_000; i++) state.ingest([taskEv("task-received", `stuck-${i}`, { timestamp: 3_000_000 + i }, { name: "proj.stuck" })]);
    await h.flush();
    expect(h.usesSearchIndex(q.search)).toBe(false);
    // (memory evicted the older tasks by now; the stuck ones do not match)
    expect((await h.queryPageAsync(q)).map((r) => r.uuid)).toEqual(want.rows.map((r) => r.uuid));
    await h.close();
  });

  it("re-indexes a task that finishes again, and forgets deleted ones", async () => {
    const file = tmpDb();
    const state = new ClusterState({ maxTasks: 10_000 });
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null, maxRows: 1 });
    attachHistory(state, h, { maxTasks: 10_000 });
    const id = uuidOf(1);
    state.ingest([
      taskEv("task-received", id, { timestamp: 10, clock: 1 }, { name: "proj.retry", args: "()", kwargs: "{}" }),
      taskEv("task-failed", id, { timestamp: 11, clock: 2 }, { exception: "Boom()" }),
    ]);
    await h.flush();
    state.ingest([taskEv("task-retried", id, { timestamp: 12, clock: 3 }, { exception: "Boom()" })]);
    await h.flush();
    state.ingest([taskEv("task-succeeded", id, { timestamp: 13, clock: 4 }, { result: "'first-answer'", runtime: 1 })]);
    await h.flush();
    expect((await h.query({ search: "first-answer", limit: 5 })).rows.map((r) => r.uuid)).toEqual([id]);
    state.ingest([taskEv("task-succeeded", id, { timestamp: 14, clock: 5 }, { result: "'second-answer'", runtime: 1 })]);
    await h.flush();
    // (rows, not totals: a total is cached for a couple of seconds)
    expect((await h.query({ search: "second-answer", limit: 5 })).rows.map((r) => r.uuid)).toEqual([id]);
    expect((await h.query({ search: "first-answer", limit: 5 })).rows).toEqual([]);
    const hits = (s: string) => (h.db.prepare("SELECT count(*) AS n FROM tasks_fts WHERE tasks_fts MATCH ?").get(ftsMatch(parseSearch(s))) as { n: number }).n;
    expect(hits("second-answer")).toBe(1);
    expect(hits("first-answer")).toBe(0);
    // Retention (max 1 row) deletes the older task: its index entry goes with it.
    state.ingest([taskEv("task-received", uuidOf(2), { timestamp: 20 }, { name: "proj.other" })]);
    await h.flush();
    expect(await h.runRetention()).toBe(1);
    expect(hits("second-answer")).toBe(0);
    await h.close();
  });

  it("migrates a database from before the index: backfills it, searching with the scan meanwhile", async () => {
    const file = tmpDb();
    const state = new ClusterState({ maxTasks: 10_000 });
    const h1 = await HistoryStore.open({ file, thread: false, retentionSec: null });
    attachHistory(state, h1, { maxTasks: 10_000 });
    fill(state, 1200, 9);
    await h1.close();
    // What a database written before the index looks like.
    const raw = new Database(file);
    for (const t of FTS_TRIGGERS) raw.exec(`DROP TRIGGER ${t}`);
    raw.exec("DROP TABLE tasks_fts");
    raw.close();

    const h = await HistoryStore.open({ file, thread: false, retentionSec: null, backfill: false });
    expect(h.searchIndexReady).toBe(false);
    expect(h.getMeta(FTS_BACKFILL_KEY)).toBe("1201");
    // A task that finishes before the backfill reaches it: indexed by the trigger, then again by
    // the backfill, and in the index once.
    const state2 = new ClusterState({ maxTasks: 10_000 });
    expect(attachHistory(state2, h, { maxTasks: 10_000 }).restored).toBe(1200);
    const late = state2.queryTasks({ state: ["STARTED"], limit: 1 }).rows[0]!.uuid;
    state2.ingest([taskEv("task-succeeded", late, { timestamp: 2_000_000, clock: 9 }, { result: "'late-finisher'", runtime: 1 })]);
    await h.flush();
    const indexed = () => (h.db.prepare(`SELECT count(*) AS n FROM tasks_fts WHERE tasks_fts MATCH '"lat" AND "fin"'`).get() as { n: number }).n;
    expect(indexed()).toBe(1);
    await expectSame(h, state2, { search: "ok-12" }); // plain scan while the backfill runs
    await h.runBackfill();
    expect(h.searchIndexReady).toBe(true);
    expect(indexed()).toBe(1);
    expect(h.getMeta(FTS_BACKFILL_KEY)).toBeNull();
    for (const search of SEARCHES) await expectSame(h, state2, { search });
    await h.close();
    // Reopened: nothing left to backfill.
    const h2 = await HistoryStore.open({ file, thread: false, retentionSec: null });
    expect(h2.searchIndexReady).toBe(true);
    await h2.close();
  });
});
