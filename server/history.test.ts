import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { attachHistory, detachHistory } from "../lib/history/attach";
import { HistoryStore } from "../lib/history/store";
import { rng, taskEvents, uuidOf } from "../lib/history/test-fixture";
import { ClusterState } from "../lib/state";
import { compose } from "./compose";
import { DEFAULT_DB, parseDuration, resolveHistoryConfig } from "./history";
import { createTestContext, TEST_CONFIG } from "./http/test-context";
import { startTestServer } from "./http/test-http";
import { silentLogger } from "./log";
import { parseCli } from "./cli";

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDb(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "petal-server-history-"));
  dirs.push(d);
  return path.join(d, "petal.db");
}

describe("history settings", () => {
  it("defaults to ./.petal/petal.db, 7 days, 10M rows", () => {
    expect(resolveHistoryConfig({}, {})).toEqual({ file: DEFAULT_DB, retentionSec: 7 * 86400, maxRows: 10_000_000 });
  });
  it("reads flags over env, and turns off", () => {
    const r = parseCli(["--db", "/tmp/x.db", "--retention", "12h", "--max-history", "5000"], { PETAL_DB: "/tmp/env.db", PETAL_RETENTION: "1d" });
    expect(r.kind === "serve" && r.history).toEqual({ file: "/tmp/x.db", retentionSec: 43_200, maxRows: 5000 });
    const e = parseCli([], { PETAL_DB: "/tmp/env.db", PETAL_RETENTION: "30m", PETAL_MAX_HISTORY: "0" });
    expect(e.kind === "serve" && e.history).toEqual({ file: "/tmp/env.db", retentionSec: 1800, maxRows: null });
    const off = parseCli(["--no-persist"], {});
    expect(off.kind === "serve" && off.history?.file).toBeNull();
    const offEnv = parseCli([], { PETAL_PERSIST: "0" });
    expect(offEnv.kind === "serve" && offEnv.history?.file).toBeNull();
    const onFlag = parseCli(["--persist"], { PETAL_PERSIST: "0" });
    expect(onFlag.kind === "serve" && onFlag.history?.file).toBe(DEFAULT_DB);
  });
  it("parses durations and refuses bad ones with one line", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("7d")).toBe(604_800);
    expect(parseDuration("2w")).toBe(1_209_600);
    expect(parseDuration("3600")).toBe(3600);
    expect(parseDuration("off")).toBeNull();
    for (const bad of ["7x", "-1d", "d", "1.5.2h"]) expect(() => parseDuration(bad)).toThrow(/invalid retention/);
    const r = parseCli(["--retention", "soon"], {});
    expect(r).toMatchObject({ kind: "exit", code: 2 });
    expect(r.kind === "exit" && r.output).toMatch(/^petal: invalid retention "soon"/);
    expect(parseCli(["--max-history", "lots"], {})).toMatchObject({ kind: "exit", code: 2 });
  });
});

describe("history through the server", () => {
  it("a restart restores the dashboard's tasks and totals (compose)", async () => {
    const file = tmpDb();
    const cfg = { file, retentionSec: null, maxRows: null };
    const c1 = await compose({ ...TEST_CONFIG }, { log: silentLogger, env: {}, history: cfg, reconcile: false });
    await c1.start();
    const rand = rng(5);
    const now = Date.now() / 1000;
    for (let i = 0; i < 300; i++) c1.ctx.state.ingest(taskEvents(i, now - 300 + i, rand));
    const totals = c1.ctx.state.overview().totals;
    const rec42 = JSON.parse(JSON.stringify(c1.ctx.state.getTask(uuidOf(42))));
    await c1.close();

    const c2 = await compose({ ...TEST_CONFIG }, { log: silentLogger, env: {}, history: cfg, reconcile: false });
    cleanups.push(() => c2.close());
    expect(c2.history).not.toBeNull();
    expect(c2.ctx.state.tasksRetained).toBe(300);
    expect(c2.ctx.state.overview().totals).toEqual(totals);
    expect(JSON.parse(JSON.stringify(c2.ctx.state.getTask(uuidOf(42))))).toEqual(rec42);
  });

  it("GET /api/tasks and /api/task/info answer beyond the in-memory window from SQLite", async () => {
    const file = tmpDb();
    // A past run left 400 tasks in the history.
    const past = new ClusterState();
    const h0 = await HistoryStore.open({ file, thread: false, retentionSec: null });
    attachHistory(past, h0, { maxTasks: 1000 });
    const rand = rng(9);
    for (let i = 0; i < 400; i++) past.ingest(taskEvents(i, 1_000_000 + i, rand));
    await h0.close();

    const t = await createTestContext({ config: { maxTasks: 50 } });
    cleanups.push(() => t.close());
    const h = await HistoryStore.open({ file, retentionSec: null });
    cleanups.push(async () => {
      detachHistory(t.ctx.state);
      await h.close();
    });
    expect(attachHistory(t.ctx.state, h, { maxTasks: 50 }).restored).toBe(50);
    const srv = await startTestServer(t.ctx);
    cleanups.push(() => srv.close());

    const ids = async (qs: string): Promise<string[]> => {
      const r = await srv.get(`/api/tasks?${qs}`);
      expect(r.status).toBe(200);
      return Object.keys(r.json as object);
    };
    const expected = (q: Parameters<ClusterState["queryTasks"]>[0]) => past.queryTasks(q).rows.map((r) => r.uuid);
    expect(await ids("limit=10&offset=100")).toEqual(expected({ limit: 10, offset: 100 }));
    expect(await ids("limit=10&offset=5&state=FAILURE")).toEqual(expected({ limit: 10, offset: 5, state: ["FAILURE"] }));
    expect(await ids("limit=10&sort_by=-runtime")).toEqual(expected({ limit: 10, sort_by: "-runtime" }));
    expect(await ids("limit=10&taskname=proj.mul&sort_by=received")).toEqual(expected({ limit: 10, taskname: ["proj.mul"], sort_by: "received" }));
    expect(await ids("limit=10&search=" + encodeURIComponent("kwargs:user=u3 OR result:ok-77"))).toEqual(expected({ limit: 10, search: "kwargs:user=u3 OR result:ok-77" }));
    expect((await ids("limit=10&search=" + encodeURIComponent("kwargs:user=u3"))).length).toBeGreaterThan(0);
    // Same errors as memory.
    expect((await srv.get("/api/tasks?limit=5&search=NOT%20x")).status).toBe(400);

    const old = await srv.get(`/api/task/info/${uuidOf(3)}`);
    expect(old.status).toBe(200);
    expect(old.json).toMatchObject({ uuid: uuidOf(3), name: past.getTask(uuidOf(3))!.name, state: past.getTask(uuidOf(3))!.state });
    expect((await srv.get("/api/task/info/not-a-task")).status).toBe(404);
    // The socket's task view reads the same way.
    const { stateReader } = await import("./realtime/state-reader");
    const page = stateReader(t.ctx.state).queryTasks({ limit: 5, offset: 200 });
    expect(page.total).toBe(400);
    expect(page.rows.map((r) => r.uuid)).toEqual(expected({ limit: 5, offset: 200 }));
  });
});
