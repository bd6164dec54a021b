import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ClusterState, SearchSyntaxError, markReplayed } from "./index";
import { taskEv, workerEv } from "./test-events";

const VECTORS = path.resolve(import.meta.dirname, "../../../shared/celery-protocol/vectors/events.jsonl");
const haveVectors = existsSync(VECTORS);

interface Line {
  command: string;
  decoded: unknown;
  ts: number;
}

/** Every event PUBLISHed in the capture, as [receive time, decoded body] in wire order. */
function capturedEvents(): [number, Record<string, unknown>][] {
  const out: [number, Record<string, unknown>][] = [];
  for (const raw of readFileSync(VECTORS, "utf8").split("\n")) {
    if (raw.trim() === "") continue;
    const line = JSON.parse(raw) as Line;
    if (line.command !== "PUBLISH" || line.decoded === null) continue;
    const bodies = Array.isArray(line.decoded) ? line.decoded : [line.decoded];
    for (const b of bodies) out.push([line.ts, b as Record<string, unknown>]);
  }
  return out;
}

function replay(events: [number, Record<string, unknown>][]): ClusterState {
  let now = 0;
  const s = new ClusterState({ now: () => now });
  for (const [ts, body] of events) {
    now = ts;
    s.ingest([structuredClone(body)]);
  }
  return s;
}

const byPrefix = (s: ClusterState, prefix: string) => {
  const page = s.queryTasks({ search: prefix });
  expect(page.total).toBe(1);
  return page.rows[0];
};

describe.skipIf(!haveVectors)("replaying the captured Celery 5.2.6 event stream (vectors/events.jsonl)", () => {
  const events = haveVectors ? capturedEvents() : [];

  it("accepts every captured event and ends each scenario in the right state", () => {
    const s = replay(events);
    expect(s.eventsRejected).toBe(0);
    expect(s.eventsTotal).toBe(events.length);
    const add = byPrefix(s, "4c78e141");
    expect(add).toMatchObject({ name: "demo.add", state: "SUCCESS", result: "5", worker: "w2@host1", client: "gen8505@host1", args: "(2, 3)" });
    expect(add.sent).not.toBeNull();
    expect(add.started).not.toBeNull();
    expect(byPrefix(s, "41b13260")).toMatchObject({ state: "FAILURE", name: "demo.fail" });
    expect(byPrefix(s, "41b13260").exception).toContain("boom");
    // demo.flaky: two retries across w2 → w1 → w1, then MaxRetriesExceeded.
    expect(byPrefix(s, "70acdaab")).toMatchObject({ state: "FAILURE", retries: 2, worker: "w1@host1", parent_id: null });
    // countdown: task-received (with eta) arrived before task-sent.
    const cd = byPrefix(s, "d762118a");
    expect(cd).toMatchObject({ state: "SUCCESS", result: "2", queue: "celery", eta: "2026-11-22T02:31:59.184646+00:00" });
    expect(cd.sent).not.toBeNull();
    expect(byPrefix(s, "c5c46f9f")).toMatchObject({ state: "REVOKED", expired: true, terminated: false });
    expect(byPrefix(s, "8c8ba875")).toMatchObject({ state: "REJECTED", name: "demo.rejectme" });
    expect(byPrefix(s, "c725f14e")).toMatchObject({ state: "REVOKED", terminated: false });
    // terminate: received → started → revoked(terminated, SIGTERM), no failed.
    expect(byPrefix(s, "38197e2c")).toMatchObject({ state: "REVOKED", terminated: true, signum: 15, failed: null, name: "demo.slow" });
    expect(byPrefix(s, "408afa8a")).toMatchObject({ state: "REVOKED", terminated: true });
    // revoked while waiting for its ETA, and revoked before any worker received it.
    expect(byPrefix(s, "4e88be78")).toMatchObject({ state: "REVOKED", name: "demo.add" });
    expect(byPrefix(s, "9339b46e")).toMatchObject({ state: "REVOKED", name: null, received: null });
    // Unregistered: only task-failed.
    expect(byPrefix(s, "87122f58")).toMatchObject({ state: "FAILURE", name: null, exception: "NotRegistered('demo.nope')", traceback: null });
    expect(byPrefix(s, "825ba7b8")).toMatchObject({ state: "SUCCESS", retries: 1 });
    for (const id of ["5f0f5778", "890e1a70", "7742d03c", "20b5fd9c"]) expect(byPrefix(s, id).state).toBe("SUCCESS");
    expect(s.taskTypes()).toEqual(["demo.add", "demo.fail", "demo.flaky", "demo.kw", "demo.rejectme", "demo.slow"]);
  });

  it("reaches the same final task states when each task's events arrive reversed", () => {
    const inOrder = replay(events);
    // Reverse the order of task events while keeping worker events where they were.
    const taskIdx = events.map((e, i) => (String(e[1].type).startsWith("task-") ? i : -1)).filter((i) => i >= 0);
    const reversed = events.slice();
    taskIdx.forEach((from, k) => (reversed[taskIdx[taskIdx.length - 1 - k]] = events[from]));
    const other = replay(reversed);
    const all = inOrder.queryTasks({});
    expect(all.total).toBe(other.tasksRetained);
    for (const t of all.rows) {
      const o = other.getTask(t.uuid)!;
      expect({ id: t.uuid, state: o.state, name: o.name, retries: o.retries, result: o.result }).toEqual({
        id: t.uuid,
        state: t.state,
        name: t.name,
        retries: t.retries,
        result: t.result,
      });
    }
  });

  it("tracks the workers: all three went offline at the end", () => {
    const s = replay(events);
    expect(s.workers().map((w) => [w.hostname, w.online])).toEqual([
      ["w1@host1", false],
      ["w2@host1", false],
      ["w3@host1", false],
    ]);
    const w2 = s.getWorker("w2@host1")!;
    expect(w2.succeeded).toBeGreaterThan(0);
    expect(w2.by_task["demo.add"].succeeded).toBeGreaterThan(0);
    expect(w2.sw_ver).toBe("5.2.6");
    expect(s.getWorker("gen8505@host1")).toBeUndefined();
    expect(s.metricsText()).toContain('flower_worker_online{worker="w1@host1"} 0.0');
  });
});

describe("ClusterState", () => {
  it("validates, counts rejects and stamps the receiver clock like Celery's EventReceiver", () => {
    const s = new ClusterState({ now: () => 500 });
    const sent = taskEv("task-sent", "t1", { clock: 9999 });
    const r = s.ingest([taskEv("task-received", "t1", { clock: 40 }), sent, { type: "task-received" }, "junk", null, { type: "nope", hostname: "x" }]);
    expect(r).toEqual({ accepted: 2, rejected: 4 });
    expect(s.eventsRejected).toBe(4);
    expect(s.eventsTotal).toBe(2);
    // Receiver clock is 41 after the first event; task-sent's own clock is replaced by 40.
    expect((sent as { clock: number }).clock).toBe(40);
    expect((sent as { local_received?: number }).local_received).toBe(500);
    expect(s.getTask("t1")).toMatchObject({ state: "RECEIVED", clock: 40, sent: 1000 });
    expect(s.metricsText()).toContain("petal_events_rejected_total 4.0");
  });

  it("drops a retry_of that is not a string instead of trusting it", () => {
    const s = new ClusterState();
    s.ingest([taskEv("task-sent", "t1", {}, { retry_of: { evil: true } })]);
    expect(s.getTask("t1")?.retry_of).toBeUndefined();
  });

  it("marks workers offline after 3 intervals via tick, and back online on the next event", () => {
    let now = 1000;
    const s = new ClusterState({ now: () => now });
    s.ingest([workerEv("worker-online", "w1@h", { timestamp: 1 })]);
    const v = s.workersVersion;
    s.tick(1005);
    expect(s.getWorker("w1@h")?.online).toBe(true);
    expect(s.workersVersion).toBe(v);
    s.tick(1006.5);
    expect(s.getWorker("w1@h")?.online).toBe(false);
    expect(s.workersVersion).toBeGreaterThan(v);
    expect(s.overview().workers_online).toBe(0);
    expect(s.metricsText()).toContain('flower_worker_online{worker="w1@h"} 0.0');
    now = 1010;
    s.ingest([taskEv("task-started", "t1", { hostname: "w1@h", timestamp: 2 })]);
    expect(s.getWorker("w1@h")?.online).toBe(true);
    expect(s.metricsText()).toContain('flower_worker_online{worker="w1@h"} 1.0');
  });

  it("tracks versions per task and lists changed tasks", () => {
    const s = new ClusterState({ changeLogSize: 4 });
    s.ingest([taskEv("task-received", "a"), taskEv("task-received", "b")]);
    const v1 = s.version;
    expect(s.taskVersion("a")).toBe(v1 - 1);
    expect(s.taskVersion("b")).toBe(v1);
    s.ingest([workerEv("worker-heartbeat", "w@h")]);
    expect(s.tasksVersion).toBe(v1);
    expect(s.workersVersion).toBe(v1 + 1);
    s.ingest([taskEv("task-started", "a", { clock: 2 })]);
    expect(s.changedTasksSince(v1)).toEqual(["a"]);
    expect(s.changedTasksSince(s.version)).toEqual([]);
    // The log holds 4 changes: older versions can no longer be answered.
    s.ingest([taskEv("task-received", "c"), taskEv("task-received", "d"), taskEv("task-received", "e")]);
    expect(s.changedTasksSince(0)).toBeNull();
    expect(s.changedTasksSince(v1)?.sort()).toEqual(["a", "c", "d", "e"]);
  });

  it("reports evictions as task changes", () => {
    const s = new ClusterState({ maxTasks: 2 });
    s.ingest([taskEv("task-succeeded", "a"), taskEv("task-received", "b")]);
    const v = s.version;
    s.ingest([taskEv("task-received", "c")]);
    expect(s.getTask("a")).toBeUndefined();
    expect(s.changedTasksSince(v)?.sort()).toEqual(["a", "c"]);
    expect(s.tasksRetained).toBe(2);
    expect(s.tasksEvicted).toEqual({ total: 1, unfinished: 0 });
  });

  it("links retries from the API before the new task's events arrive", () => {
    const s = new ClusterState();
    s.ingest([taskEv("task-failed", "old")]);
    s.linkRetry("old", "new");
    expect(s.getTask("old")?.retried_as).toEqual(["new"]);
    expect(s.changedTasksSince(s.version - 1)).toEqual(["old", "new"]);
    s.ingest([taskEv("task-sent", "new")]);
    expect(s.getTask("new")?.retry_of).toBe("old");
  });

  it("builds the overview and charts from the same events", () => {
    let now = 10_000;
    const s = new ClusterState({ now: () => now });
    s.ingest([workerEv("worker-online", "w1@host1"), workerEv("worker-offline", "w2@h")]);
    s.ingest([
      taskEv("task-sent", "a", { timestamp: 1 }),
      taskEv("task-received", "b"),
      taskEv("task-started", "c"),
      taskEv("task-received", "d"),
      taskEv("task-succeeded", "d", { clock: 2 }, { runtime: 0.5 }),
      taskEv("task-failed", "e"),
      taskEv("task-retried", "f"),
    ]);
    now = 10_030;
    const o = s.overview();
    expect(o).toMatchObject({
      workers_online: 1,
      workers_total: 2,
      active: 1,
      queued: 2,
      tasks_retained: 6,
      events_total: 9,
      events_rejected: 0,
      task_names: ["proj.add"],
    });
    expect(o.totals).toEqual({ received: 2, succeeded: 1, failed: 1, retried: 1, revoked: 0, rejected: 0 });
    expect(o.last_minute).toEqual(o.totals);
    expect(o.failure_rate).toBe(0.5);
    now = 10_100; // over a minute later
    expect(s.overview().last_minute.received).toBe(0);
    expect(s.overview().failure_rate).toBe(0);
    const c = s.charts("10s", { range: 120 });
    expect(c.throughput.find((p) => p.t === 10_000)).toEqual({ t: 10_000, received: 2, succeeded: 1, failed: 1, retried: 1 });
    expect(c.runtime["proj.add"].find((p) => p.t === 10_000)?.count).toBe(1);
    expect(s.charts("1s", { worker: "w1@host1", range: 200 }).throughput.reduce((n, p) => n + p.received, 0)).toBe(2);
  });

  it("queries with Flower's search and reports syntax errors", () => {
    const s = new ClusterState();
    s.ingest([taskEv("task-received", "abc-1", {}, { name: "proj.alpha" }), taskEv("task-received", "abc-2", {}, { name: "proj.beta" })]);
    expect(s.queryTasks({ search: "name:alpha" }).rows.map((r) => r.uuid)).toEqual(["abc-1"]);
    expect(() => s.queryTasks({ search: "ab" })).toThrow(SearchSyntaxError);
  });
});

describe("history hooks", () => {
  it("tells change listeners the uuid, and evict listeners the last record before it is dropped", () => {
    const a = new ClusterState({ now: () => 1000, maxTasks: 1 });
    const changed: string[] = [];
    const evicted: { uuid: string; state: string; result: string | null }[] = [];
    a.onTaskChange((id) => changed.push(id));
    a.onTaskEvict((rec) => evicted.push(rec));
    a.ingest([taskEv("task-received", "t1", { timestamp: 1 }), taskEv("task-succeeded", "t1", { timestamp: 2 }, { result: "7" })]);
    a.ingest([taskEv("task-received", "t2", { timestamp: 3 })]);
    expect(changed).toEqual(["t1", "t1", "t2"]);
    expect(evicted.map((r) => [r.uuid, r.state, r.result])).toEqual([["t1", "SUCCESS", "7"]]);
    expect(a.getTask("t1")).toBeUndefined();
    expect(a.getTask("t2")).not.toBe(a.getTask("t2"));
  });

  it("tells listeners about every task change and restores records without counting them", () => {
    const a = new ClusterState({ now: () => 1000 });
    const seen: string[] = [];
    a.onTaskChange((id) => seen.push(`${id}:${a.getTask(id)?.state}`));
    a.ingest([taskEv("task-received", "t1", { timestamp: 1 }, { name: "x" }), taskEv("task-succeeded", "t1", { timestamp: 2 }, { runtime: 1 })]);
    expect(seen).toEqual(["t1:RECEIVED", "t1:SUCCESS"]);

    const b = new ClusterState({ now: () => 1000, maxTasks: 2 });
    b.ingest([taskEv("task-started", "t1", { timestamp: 5 })]);
    const copy = (id: string) => ({ ...a.getTask("t1")!, uuid: id });
    expect(b.restoreTasks([copy("t1"), copy("old1"), copy("old2")])).toBe(2);
    // live t1 wins over the restored copy; the cap still holds
    expect(b.getTask("t1")?.state).toBe("STARTED");
    expect(b.tasksRetained).toBe(2);
    expect(b.overview().totals.succeeded).toBe(0);
    b.restoreTotals({ succeeded: 7 });
    expect(b.overview().totals.succeeded).toBe(7);
  });
});

describe("replayed events", () => {
  it("places old replayed events at their own time, live ones at the receiver's clock", () => {
    const now = 10_000;
    const s = new ClusterState({ now: () => now });
    const old = [
      workerEv("worker-heartbeat", "w@h", { timestamp: now - 600 }),
      taskEv("task-received", "r1", { hostname: "w@h", timestamp: now - 600 }, { name: "x" }),
    ];
    markReplayed(old);
    s.ingest(old);
    // a recent replayed event and a live one both count now
    const recent = [taskEv("task-received", "r2", { hostname: "w@h", timestamp: now - 2 }, { name: "x" })];
    markReplayed(recent);
    s.ingest([...recent, taskEv("task-received", "l1", { hostname: "w@h", timestamp: now - 600 }, { name: "x" })]);
    const charts = s.charts("1m");
    const at = (t: number) => charts.throughput.find((p) => p.t === Math.floor(t / 60) * 60)?.received ?? 0;
    expect(at(now - 600)).toBe(1);
    expect(at(now)).toBe(2);
    expect(s.getTask("r1")?.state).toBe("RECEIVED");
  });
});
