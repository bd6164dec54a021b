import { describe, expect, it } from "vitest";
import { emptyTaskRecord, taskWorker, type TaskRecord, type WorkerRecord } from "../../lib/protocol/api";
import type { ResultMeta } from "../../lib/protocol/types";
import { ClusterState, RECONCILED_HOST } from "../../lib/state";
import { decide, decideLostPending, exceptionRepr, parseDateDone, type InspectView } from "./decide";

const NOW = 1_800_000_000;

function task(over: Partial<TaskRecord> = {}): TaskRecord {
  return { ...emptyTaskRecord("t1"), name: "proj.slow", state: "STARTED", worker: "w1@h", clock: 41, started: NOW - 100, timestamp: NOW - 100, ...over };
}

function worker(online: boolean): WorkerRecord {
  return { hostname: "w1@h", online, pid: 77, freq: 2, processed: 9, loadavg: [0.5, 0.5, 0.5], sw_ident: "py-celery", sw_ver: "5.2.6", sw_sys: "Linux" } as WorkerRecord;
}

const none: InspectView = { held: new Set(), answered: new Set() };
const meta = (status: ResultMeta["status"], result: unknown, extra: Partial<ResultMeta> = {}): ResultMeta => ({
  status,
  result,
  traceback: null,
  children: [],
  date_done: "2027-01-15T07:59:00.500000",
  task_id: "t1",
  ...extra,
});

describe("decide", () => {
  it("keeps a task some worker still reports, whatever else is known", () => {
    const d = decide({ task: task(), inspect: { held: new Set(["t1"]), answered: new Set(["w2@h"]) }, meta: meta("SUCCESS", 1), worker: worker(false), now: NOW });
    expect(d).toEqual({ action: "keep", why: "reported" });
  });

  it("takes SUCCESS, FAILURE and REVOKED from the result backend", () => {
    const ok = decide({ task: task(), inspect: none, meta: meta("SUCCESS", { a: [1, "x"] }), worker: worker(true), now: NOW });
    expect(ok).toMatchObject({ action: "apply", state: "SUCCESS", lost: false });
    const ev = (ok as { events: Record<string, unknown>[] }).events;
    expect(ev).toHaveLength(1); // worker alive: no worker-offline
    expect(ev[0]).toMatchObject({ type: "task-succeeded", uuid: "t1", hostname: "w1@h", result: "{'a': [1, 'x']}", clock: 0, timestamp: NOW - 59.5, runtime: 40.5 });

    const failed = decide({ task: task(), inspect: none, meta: meta("FAILURE", { exc_type: "ValueError", exc_message: ["boom"], exc_module: "builtins" }, { traceback: "Traceback ..." }), worker: worker(true), now: NOW });
    expect((failed as { events: Record<string, unknown>[] }).events[0]).toMatchObject({ type: "task-failed", exception: "ValueError('boom')", traceback: "Traceback ..." });

    const revoked = decide({ task: task(), inspect: none, meta: meta("REVOKED", { exc_type: "TaskRevokedError", exc_message: ["terminated"], exc_module: "celery.exceptions" }), worker: worker(true), now: NOW });
    expect((revoked as { events: Record<string, unknown>[] }).events[0]).toMatchObject({ type: "task-revoked", terminated: true, expired: false, signum: null });
  });

  it("keeps a task of a live worker with no result, and a task whose backend says RETRY", () => {
    expect(decide({ task: task(), inspect: none, meta: null, worker: worker(true), now: NOW })).toEqual({ action: "keep", why: "worker-alive" });
    // Unknown to the registry but it answered inspect: alive.
    expect(decide({ task: task(), inspect: { held: new Set(), answered: new Set(["w1@h"]) }, meta: null, worker: undefined, now: NOW })).toEqual({ action: "keep", why: "worker-alive" });
    expect(decide({ task: task(), inspect: none, meta: meta("RETRY", null), worker: worker(false), now: NOW })).toEqual({ action: "keep", why: "not-final" });
  });

  it("fails a task whose worker restarted after it and no longer holds it; keeps it while the worker has not answered", () => {
    const restarted = { ...worker(true), online_since: NOW - 50 };
    const answered: InspectView = { held: new Set(), answered: new Set(["w1@h"]) };
    const d = decide({ task: task(), inspect: answered, meta: null, worker: restarted, now: NOW });
    expect(d).toMatchObject({ action: "apply", state: "FAILURE", lost: true });
    const ev = (d as { events: Record<string, unknown>[] }).events;
    // the worker is alive: no worker-offline, only the task's failure
    expect(ev.map((e) => e.type)).toEqual(["task-failed"]);
    expect(String(ev[0].exception)).toMatch(/^WorkerLostError\('Worker w1@h restarted after the task reached it/);
    // the same worker, not answering inspect: no evidence, keep
    expect(decide({ task: task(), inspect: none, meta: null, worker: restarted, now: NOW })).toEqual({ action: "keep", why: "worker-alive" });
    // started before the task: the process that has it is still the one running
    expect(decide({ task: task(), inspect: answered, meta: null, worker: { ...worker(true), online_since: NOW - 500 }, now: NOW })).toEqual({ action: "keep", why: "worker-alive" });
  });

  it("fails a task of an offline or unknown worker that nobody reports and that has no result with WorkerLostError", () => {
    for (const w of [worker(false), undefined]) {
      const d = decide({ task: task(), inspect: none, meta: meta("STARTED", null), worker: w, now: NOW });
      expect(d).toMatchObject({ action: "apply", state: "FAILURE", lost: true });
      const [offline, failed] = (d as { events: Record<string, unknown>[] }).events;
      expect(offline).toMatchObject({ type: "worker-offline", hostname: "w1@h", timestamp: NOW, active: 0 });
      expect(failed).toMatchObject({ type: "task-failed", uuid: "t1", hostname: "w1@h", timestamp: NOW, traceback: "" });
      expect(failed.exception).toMatch(/^WorkerLostError\('Worker w1@h (is offline|is unknown to this dashboard) and no worker reports task t1 \(STARTED\)/);
    }
  });

  it("applied through the real reducer: the task ends FAILURE and the dead worker is not revived", () => {
    const state = new ClusterState({ now: () => NOW });
    const src = { hostname: "w1@h", utcoffset: 0, pid: 77 };
    state.ingest([
      { ...src, clock: 1, freq: 2, active: 0, processed: 0, sw_ident: "x", sw_ver: "1", sw_sys: "L", timestamp: NOW - 200, type: "worker-online" },
      { ...src, clock: 2, uuid: "t1", name: "proj.slow", args: "()", kwargs: "{}", root_id: "t1", parent_id: null, retries: 0, eta: null, expires: null, timestamp: NOW - 150, type: "task-received" },
      { ...src, clock: 3, uuid: "t1", timestamp: NOW - 150, type: "task-started" },
    ]);
    state.tick(NOW + 60); // silent for a minute: offline by liveness, with no worker-offline event
    expect(state.getWorker("w1@h")?.online).toBe(false);
    const rec = state.getTask("t1")!;
    const d = decide({ task: { ...rec }, inspect: none, meta: null, worker: state.getWorker("w1@h"), now: NOW + 60 });
    expect(state.ingest((d as { events: unknown[] }).events)).toEqual({ accepted: 2, rejected: 0 });
    expect(state.getTask("t1")).toMatchObject({ state: "FAILURE", worker: "w1@h" });
    expect(state.getTask("t1")!.exception).toMatch(/^WorkerLostError\(/);
    expect(state.getWorker("w1@h")).toMatchObject({ online: false, pid: 77, failed: 1 });

    // The worker's real outcome, arriving later, still wins, even from a restarted worker whose clock began again.
    state.ingest([{ ...src, clock: 1, uuid: "t1", result: "3", runtime: 1, timestamp: NOW + 61, type: "task-succeeded" }]);
    expect(state.getTask("t1")!.state).toBe("SUCCESS");
  });
});

describe("helpers", () => {
  it("parseDateDone reads naive UTC and offset-aware times", () => {
    expect(parseDateDone("2027-01-15T08:00:00")).toBe(Date.UTC(2027, 0, 15, 8) / 1000);
    expect(parseDateDone("2027-01-15T09:00:00+01:00")).toBe(Date.UTC(2027, 0, 15, 8) / 1000);
    expect(parseDateDone("nope")).toBeNull();
    expect(parseDateDone(null)).toBeNull();
  });

  it("exceptionRepr writes Python's repr of a stored exception", () => {
    expect(exceptionRepr({ exc_type: "KeyError", exc_message: ["k", 2], exc_module: "builtins" })).toBe("KeyError('k', 2)");
    expect(exceptionRepr({ exc_type: "Boom", exc_message: [] })).toBe("Boom()");
    expect(exceptionRepr("odd")).toBe("Exception('odd')");
  });

  it("a PENDING task whose memory:// queue died fails with MessageLost, unless a result says otherwise; applied, the placeholder is no worker", () => {
    const pending = task({ state: "PENDING", worker: null, started: null, sent: NOW - 50, timestamp: NOW - 50 });
    const lost = decideLostPending(pending, null, NOW);
    expect(lost).toMatchObject({ action: "apply", state: "FAILURE", lost: true });
    const failed = (lost as { events: Record<string, unknown>[] }).events.at(-1)!;
    expect(failed).toMatchObject({ type: "task-failed", uuid: "t1", clock: 0, timestamp: NOW });
    expect(String(failed.exception)).toMatch(/^MessageLost\('Task t1 was still queued when Petal restarted/);
    const done = decideLostPending(pending, meta("SUCCESS", 3), NOW);
    expect(done).toMatchObject({ action: "apply", state: "SUCCESS", lost: false });
    const s = new ClusterState({ now: () => NOW });
    s.ingest([{ hostname: "client@h", utcoffset: 0, pid: 1, clock: 1, uuid: "t1", name: "proj.slow", args: "()", kwargs: "{}", retries: 0, eta: null, expires: null, queue: "celery", exchange: "", routing_key: "celery", root_id: "t1", parent_id: null, timestamp: NOW - 50, type: "task-sent" }]);
    s.ingest((lost as { events: Record<string, unknown>[] }).events);
    expect(s.getTask("t1")?.state).toBe("FAILURE");
    expect(s.getWorker(RECONCILED_HOST)).toBeUndefined();
    // Pages show no worker (and no link to one) for it.
    expect(taskWorker(s.getTask("t1")!)).toBeNull();
    expect(s.workers()).toEqual([]);
  });
});
