import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TaskQuery, TaskRecord } from "../protocol/api";
import { ClusterState, SearchSyntaxError } from "../state";
import { attachHistory, getTaskWithHistory, historyOf, queryTasksWithHistory } from "./attach";
import { HistoryStore } from "./store";
import { rng, taskEvents, uuidOf } from "./test-fixture";

const dirs: string[] = [];
function tmpDb(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "petal-history-"));
  dirs.push(d);
  return path.join(d, "sub", "petal.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** `n` tasks, one a second from t0, applied to a state (and its history when attached). */
function fill(state: ClusterState, n: number, t0 = 1_000_000, seed = 1): void {
  const rand = rng(seed);
  for (let i = 0; i < n; i++) state.ingest(taskEvents(i, t0 + i, rand));
}

describe("HistoryStore", () => {
  it("persists every field, meta and totals across a reopen (thread writer)", async () => {
    const file = tmpDb();
    const state = new ClusterState();
    const h = await HistoryStore.open({ file, retentionSec: null });
    attachHistory(state, h, { maxTasks: 1000 });
    fill(state, 200);
    state.linkRetry(uuidOf(3), uuidOf(4));
    h.setMeta("stream:petal", "1700000000000-5");
    expect(h.getMeta("stream:petal")).toBe("1700000000000-5");
    await h.close();

    const h2 = await HistoryStore.open({ file, retentionSec: null });
    expect(h2.getMeta("stream:petal")).toBe("1700000000000-5");
    const state2 = new ClusterState();
    const report = attachHistory(state2, h2, { maxTasks: 1000 });
    expect(report).toMatchObject({ restored: 200, rows: 200 });
    for (let i = 0; i < 200; i++) expect(JSON.parse(JSON.stringify(state2.getTask(uuidOf(i))))).toEqual(JSON.parse(JSON.stringify(state.getTask(uuidOf(i)))));
    expect(state2.overview().totals).toEqual(state.overview().totals);
    await h2.close();
  });

  it("writes a task dropped from memory before its flush, from the record it had", async () => {
    const file = tmpDb();
    // 50 tasks through a state that keeps 10: 40 are evicted between two flushes
    const state = new ClusterState({ maxTasks: 10 });
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null });
    attachHistory(state, h, { maxTasks: 10 });
    fill(state, 50);
    expect(state.tasksRetained).toBe(10);
    await h.close();
    const h2 = await HistoryStore.open({ file, thread: false, retentionSec: null });
    expect(h2.rowsAtOpen).toBe(50);
    const s2 = new ClusterState();
    attachHistory(s2, h2, { maxTasks: 100 });
    const expected = new ClusterState();
    fill(expected, 50);
    for (let i = 0; i < 50; i++) expect(JSON.parse(JSON.stringify(s2.getTask(uuidOf(i))))).toEqual(JSON.parse(JSON.stringify(expected.getTask(uuidOf(i)))));
    await h2.close();
  });

  it("restores only the most recent maxTasks, and answers older ones from SQLite", async () => {
    const file = tmpDb();
    const s1 = new ClusterState();
    const h1 = await HistoryStore.open({ file, thread: false, retentionSec: null });
    attachHistory(s1, h1, { maxTasks: 10_000 });
    fill(s1, 500);
    await h1.close();

    const h = await HistoryStore.open({ file, thread: false, retentionSec: null });
    const state = new ClusterState({ maxTasks: 100 });
    expect(attachHistory(state, h, { maxTasks: 100 }).restored).toBe(100);
    expect(state.getTask(uuidOf(399))).toBeUndefined();
    expect(state.getTask(uuidOf(499))).toBeDefined();
    expect(getTaskWithHistory(state, uuidOf(10))?.uuid).toBe(uuidOf(10));
    expect(getTaskWithHistory(state, "nope")).toBeNull();

    const page = queryTasksWithHistory(state, { limit: 20, offset: 150 });
    expect(page.total).toBe(500);
    expect(page.rows.map((r) => r.uuid)).toEqual(s1.queryTasks({ limit: 20, offset: 150 }).rows.map((r) => r.uuid));
    // In-memory first page: same rows as the full set would give.
    expect(queryTasksWithHistory(state, { limit: 20 }).rows.map((r) => r.uuid)).toEqual(s1.queryTasks({ limit: 20 }).rows.map((r) => r.uuid));
    await h.close();
  });

  it.each([["filter indexes", undefined], ["sort index walks", 0]])("SQL answers what memory answers: filters, sorts, search (%s)", async (_plan, sortScanMinRows) => {
    const file = tmpDb();
    const state = new ClusterState({ maxTasks: 10_000 });
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null, sortScanMinRows });
    attachHistory(state, h, { maxTasks: 10_000 });
    fill(state, 800, 1_000_000, 7);
    await h.flush();
    const queries: TaskQuery[] = [
      {},
      { state: ["FAILURE"] },
      { state: ["SUCCESS", "STARTED"], sort_by: "-runtime" },
      { taskname: ["proj.slow"] },
      { taskname: ["PROJ.ADD", "mail.send"], sort_by: "name" },
      { workername: ["w3@host2"], sort_by: "-worker" },
      { sort_by: "runtime" },
      { sort_by: "-received" },
      { sort_by: "started" },
      { sort_by: "state" },
      { sort_by: "-name" },
      { sort_by: "timestamp" },
      { received_start: 1_000_100, received_end: 1_000_300 },
      { search: "ok-12" },
      { search: "name:mul OR state:failure" },
      { search: 'kwargs:user=u3 args:"2, 1"' },
      { search: '"bad 1" worker:host2' },
      { search: "result:ok-9 (state:success OR name:fail)" },
      { state: ["All" as never], taskname: ["all"] },
      { state: ["SUCCESS", "FAILURE"], sort_by: "-timestamp" },
      { taskname: ["proj.add"], workername: ["w1@host1", "w2@host1"], sort_by: "-received" },
    ];
    for (const q of queries) {
      for (const [offset, limit] of [[0, 50], [130, 25]]) {
        const mem = state.queryTasks({ ...q, offset, limit });
        const sql = await h.query({ ...q, offset, limit });
        // state/name/worker sorts tie by timestamp in SQLite (their indexes' order), by uuid in
        // memory: the page's keys match, the order among equal keys may not.
        const few = /^-?(state|name|worker)$/.exec(q.sort_by ?? "")?.[1] as "state" | "name" | "worker" | undefined;
        const key = (r: TaskRecord) => (few ? String(r[few]).toLowerCase() : r.uuid);
        expect({ q, total: sql.total, ids: sql.rows.map(key) }).toEqual({ q, total: mem.total, ids: mem.rows.map(key) });
      }
    }
    await expect(h.query({ search: "NOT x" })).rejects.toThrow(SearchSyntaxError);
    await h.close();
  });

  it("a search over budget answers what it found so far and the reader thread finishes it", async () => {
    const file = tmpDb();
    const state = new ClusterState({ maxTasks: 10_000 });
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null, pageBudgetMs: 0, countBudgetMs: 0 });
    attachHistory(state, h, { maxTasks: 10_000 });
    fill(state, 5000, 1_000_000, 11);
    await h.flush();
    const q = { search: "kwargs:user=u3", limit: 40, offset: 250 };
    const want = state.queryTasks(q);
    expect(want.rows.length).toBe(40);
    // Budget 0: the scan stops at the first check (1024 rows).
    const partial = h.queryPage(q);
    expect(partial.length).toBeLessThan(40);
    expect(h.count(q)).toBeNull();
    expect((await h.queryPageAsync(q)).map((r) => r.uuid)).toEqual(want.rows.map((r) => r.uuid));
    expect(await h.countAsync(q)).toBe(want.total);
    // Now cached: the synchronous call has the whole page and the total.
    expect(h.queryPage(q).map((r) => r.uuid)).toEqual(want.rows.map((r) => r.uuid));
    expect(h.count(q)).toBe(want.total);
    await h.close();
  });

  it("retention deletes by age and by count, in chunks", async () => {
    const file = tmpDb();
    let now = 1_000_000 + 10_000;
    const state = new ClusterState();
    const h = await HistoryStore.open({ file, retentionSec: 3600, maxRows: null, now: () => now, thread: false });
    attachHistory(state, h, { maxTasks: 100_000 });
    fill(state, 10_000); // timestamps 1_000_000 .. 1_010_000 (+ runtime)
    await h.flush();
    // Older than now - 3600 = 1_006_400: tasks 0..~6399.
    const deleted = await h.runRetention();
    expect(deleted).toBeGreaterThan(6300);
    expect(deleted).toBeLessThan(6401);
    expect(h.getTask(uuidOf(9999))).not.toBeNull();
    expect(h.getTask(uuidOf(100))).toBeNull();
    await h.close();

    now += 0;
    const h2 = await HistoryStore.open({ file, retentionSec: null, maxRows: 1000, thread: false });
    const before = h2.rowsAtOpen;
    expect(before).toBe(10_000 - deleted);
    expect(await h2.runRetention()).toBe(before - 1000);
    expect(h2.count({})).toBe(1000);
    expect(h2.getTask(uuidOf(9999))).not.toBeNull();
    expect(h2.getTask(uuidOf(8999))).toBeNull();
    await h2.close();
  });

  it("keeps history reachable per state and gives chart minutes back over a range", async () => {
    const file = tmpDb();
    const state = new ClusterState();
    const h = await HistoryStore.open({ file, thread: false, retentionSec: null });
    attachHistory(state, h, { maxTasks: 100 });
    expect(historyOf(state)).toBe(h);
    const now = Date.now() / 1000;
    const rand = rng(3);
    for (let i = 0; i < 50; i++) state.ingest(taskEvents(i, now, rand));
    await h.flush();
    await h.close();

    const { historyCharts } = await import("./charts");
    const h2 = await HistoryStore.open({ file, thread: false, retentionSec: null });
    const fresh = new ClusterState();
    const c = historyCharts(h2, fresh, "1h");
    expect(c.throughput).toHaveLength(60);
    expect(c.throughput.reduce((a, p) => a + p.received, 0)).toBe(50);
    expect(Object.keys(c.runtime).length).toBeGreaterThan(0);
    const day = historyCharts(h2, fresh, "24h");
    expect(day.step).toBe(600);
    expect(day.throughput.reduce((a, p) => a + p.received, 0)).toBe(50);
    // Minutes from before this process started are summed per bucket in SQL.
    const old = Math.floor(now / 3600) * 3600 - 2 * 86_400;
    h2.addSeriesRows([
      [old, "", 5, 4, 1, 0, 0, null, null, null],
      [old + 60, "", 7, 7, 0, 0, 0, null, null, null],
      [old, "n:proj.add", 0, 0, 1, 0, 4, 0.1, 0.2, 0.4],
      [old + 60, "n:proj.add", 0, 0, 0, 0, 4, 0.3, 0.4, 0.6],
    ]);
    await h2.flush();
    const week = historyCharts(h2, fresh, "7d");
    expect(week.step).toBe(3600);
    const bucket = week.throughput.find((p) => p.t === old)!;
    expect(bucket).toMatchObject({ received: 12, succeeded: 11, failed: 1 });
    const rt = week.runtime["proj.add"].find((p) => p.t === old)!;
    expect(rt.count).toBe(8);
    expect(rt.p50).toBeCloseTo(0.2);
    expect(rt.p99).toBeCloseTo(0.5);
    expect(week.failures["proj.add"].find((p) => p.t === old)!.failed).toBe(1);
    await h2.close();
  });
});
