import { describe, expect, it } from "vitest";
import { taskEv, workerEv } from "./test-events";
import { HEARTBEAT_HISTORY, WorkerRegistry } from "./workers";

describe("WorkerRegistry liveness", () => {
  it("goes offline after 3 missed heartbeat intervals (receiver clock) and back online", () => {
    const changes: [string, boolean][] = [];
    const r = new WorkerRegistry((h, on) => changes.push([h, on]));
    r.applyWorkerEvent(workerEv("worker-online", "w1@h", { timestamp: 5 }, { freq: 2 }), 100);
    r.applyWorkerEvent(workerEv("worker-heartbeat", "w1@h", { timestamp: 7 }, { freq: 2 }), 102);
    expect(r.get("w1@h")?.online).toBe(true);
    expect(r.tick(108)).toEqual([]); // 6 s = exactly 3 intervals: still online
    expect(r.tick(108.01)).toEqual(["w1@h"]);
    expect(r.get("w1@h")?.online).toBe(false);
    expect(r.tick(200)).toEqual([]); // already offline: no repeat
    r.applyWorkerEvent(workerEv("worker-heartbeat", "w1@h", { timestamp: 9 }), 201);
    expect(r.get("w1@h")).toMatchObject({ online: true, last_heartbeat: 201 });
    expect(changes).toEqual([
      ["w1@h", true],
      ["w1@h", false],
      ["w1@h", true],
    ]);
  });

  it("uses the announced freq for the timeout", () => {
    const r = new WorkerRegistry();
    r.applyWorkerEvent(workerEv("worker-heartbeat", "slow@h", {}, { freq: 10 }), 0);
    expect(r.tick(29)).toEqual([]);
    expect(r.tick(31)).toEqual(["slow@h"]);
  });

  it("ignores the worker's own clock for liveness (skewed timestamps)", () => {
    const r = new WorkerRegistry();
    r.applyWorkerEvent(workerEv("worker-heartbeat", "skew@h", { timestamp: 1 }), 5000);
    expect(r.tick(5005)).toEqual([]);
    expect(r.get("skew@h")?.last_heartbeat).toBe(5000);
  });

  it("takes worker-offline at once, and a heartbeat sent before it does not revive", () => {
    const r = new WorkerRegistry();
    r.applyWorkerEvent(workerEv("worker-online", "w@h", { timestamp: 10 }), 10);
    r.applyWorkerEvent(workerEv("worker-offline", "w@h", { timestamp: 20 }), 20);
    expect(r.get("w@h")?.online).toBe(false);
    r.applyWorkerEvent(workerEv("worker-heartbeat", "w@h", { timestamp: 19 }), 20.5);
    expect(r.get("w@h")?.online).toBe(false);
    // A restarted worker's online (its clock may restart at 1) always counts.
    r.applyWorkerEvent(workerEv("worker-online", "w@h", { timestamp: 30, clock: 1 }), 30);
    expect(r.get("w@h")?.online).toBe(true);
  });

  it("counts task events from a worker as liveness, but not task-sent from clients", () => {
    const r = new WorkerRegistry();
    expect(r.applyTaskEvent(taskEv("task-sent", "t", { hostname: "gen1@client" }), "proj.add", 1)).toBeUndefined();
    expect(r.get("gen1@client")).toBeUndefined();
    r.applyTaskEvent(taskEv("task-received", "t", { hostname: "w9@h" }), "proj.add", 2);
    expect(r.get("w9@h")).toMatchObject({ online: true, last_heartbeat: 2, received: 1, first_seen: 2 });
  });

  it("keeps the last 60 heartbeat times", () => {
    const r = new WorkerRegistry();
    for (let i = 0; i < 75; i++) r.applyWorkerEvent(workerEv("worker-heartbeat", "w@h", { timestamp: i }), i);
    const hb = r.get("w@h")!.heartbeats;
    expect(hb.length).toBe(HEARTBEAT_HISTORY);
    expect(hb[0]).toBe(15);
    expect(hb[59]).toBe(74);
  });
});

describe("WorkerRegistry counters", () => {
  it("counts outcomes per worker and per task name", () => {
    const r = new WorkerRegistry();
    const apply = (type: Parameters<typeof taskEv>[0], name: string | null, host = "w1@h"): void => {
      r.applyTaskEvent(taskEv(type, "x", { hostname: host }), name, 1);
    };
    apply("task-received", "proj.add");
    apply("task-started", "proj.add");
    apply("task-succeeded", "proj.add");
    apply("task-succeeded", "proj.add");
    apply("task-failed", "proj.fail");
    apply("task-retried", "proj.flaky");
    apply("task-revoked", "proj.add");
    apply("task-succeeded", null);
    apply("task-failed", "proj.fail", "w2@h");
    const w1 = r.get("w1@h")!;
    expect(w1).toMatchObject({ received: 1, succeeded: 3, failed: 1, retried: 1, revoked: 1 });
    expect(w1.by_task).toEqual({
      "proj.add": { succeeded: 2, failed: 0, retried: 0 },
      "proj.fail": { succeeded: 0, failed: 1, retried: 0 },
      "proj.flaky": { succeeded: 0, failed: 0, retried: 1 },
    });
    expect(r.get("w2@h")!.failed).toBe(1);
    expect(r.list().map((w) => w.hostname)).toEqual(["w1@h", "w2@h"]);
  });

  it("is safe against a task named __proto__", () => {
    const r = new WorkerRegistry();
    r.applyTaskEvent(taskEv("task-succeeded", "x"), "__proto__", 1);
    const by = r.get("w1@host1")!.by_task;
    expect(by["__proto__"]).toEqual({ succeeded: 1, failed: 0, retried: 0 });
    expect(({} as Record<string, unknown>).succeeded).toBeUndefined();
  });

  it("copies heartbeat fields", () => {
    const r = new WorkerRegistry();
    r.applyWorkerEvent(workerEv("worker-heartbeat", "w@h", {}, { active: 3, processed: 42, loadavg: [1, 2, 3], freq: 5 }), 1);
    expect(r.get("w@h")).toMatchObject({ active: 3, processed: 42, loadavg: [1, 2, 3], freq: 5, sw_ver: "5.2.6", pid: 200 });
  });
});
