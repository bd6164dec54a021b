import { describe, expect, it } from "vitest";
import { TaskStore } from "./store";
import { taskEv } from "./test-events";

let v = 0;
const next = (): number => ++v;

describe("TaskStore eviction", () => {
  it("drops finished tasks first, least recently updated first", () => {
    const s = new TaskStore({ maxTasks: 3 });
    const evicted: string[] = [];
    s.apply(taskEv("task-received", "a", { timestamp: 1 }), next());
    s.apply(taskEv("task-succeeded", "b", { timestamp: 2 }), next());
    s.apply(taskEv("task-failed", "c", { timestamp: 3 }), next());
    // b is touched again, so c is now the least recently updated finished task.
    s.apply(taskEv("task-received", "b", { timestamp: 4 }), next());
    s.apply(taskEv("task-received", "d", { timestamp: 5 }), next(), (id) => evicted.push(id));
    expect(evicted).toEqual(["c"]);
    expect(s.get("c")).toBeUndefined();
    expect(s.size).toBe(3);
    s.apply(taskEv("task-received", "e", { timestamp: 6 }), next(), (id) => evicted.push(id));
    expect(evicted).toEqual(["c", "b"]);
    expect(s.evicted).toBe(2);
    expect(s.evictedUnfinished).toBe(0);
  });

  it("drops the oldest unfinished task when nothing is finished, and counts it", () => {
    const s = new TaskStore({ maxTasks: 2 });
    s.apply(taskEv("task-received", "a"), next());
    s.apply(taskEv("task-started", "b"), next());
    s.apply(taskEv("task-received", "a", { clock: 9 }), next()); // a touched: b is now oldest
    s.apply(taskEv("task-received", "c"), next());
    expect(s.get("b")).toBeUndefined();
    expect(s.get("a")).toBeDefined();
    expect(s.evictedUnfinished).toBe(1);
    expect(s.countByState("STARTED")).toBe(0);
    expect(s.countByState("RECEIVED")).toBe(2);
  });

  it("stays bounded and keeps indexes consistent under churn", () => {
    const s = new TaskStore({ maxTasks: 100 });
    for (let i = 0; i < 1000; i++) {
      const id = `t${i}`;
      s.apply(taskEv("task-received", id, { hostname: `w${i % 3}@h` }, { name: `proj.n${i % 5}` }), next());
      if (i % 2 === 0) s.apply(taskEv("task-succeeded", id, { hostname: `w${i % 3}@h`, clock: 2 }), next());
    }
    expect(s.size).toBe(100);
    let byState = 0;
    for (const st of ["RECEIVED", "SUCCESS"] as const) byState += s.countByState(st);
    expect(byState).toBe(100);
    let byName = 0;
    for (let n = 0; n < 5; n++) byName += s.tasksByName(`proj.n${n}`)?.size ?? 0;
    expect(byName).toBe(100);
    for (const t of s.tasksByWorker("W1@H") ?? []) expect(s.get(t.uuid)).toEqual(t);
    expect(s.tasksByWorker("w1@h")?.size).toBeGreaterThan(0);
    // The oldest finished went first: every unfinished task from the last 100 updates is kept.
    expect(s.get("t999")).toBeDefined();
    expect(s.taskTypes()).toEqual(["proj.n0", "proj.n1", "proj.n2", "proj.n3", "proj.n4"]);
  });
});

describe("TaskStore indexes and links", () => {
  it("moves a task between state, name and worker indexes", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-sent", "a", {}, { name: "Proj.Add" }), next());
    expect([...(s.tasksByState("PENDING") ?? [])].map((t) => t.uuid)).toEqual(["a"]);
    expect(s.tasksByWorker("w1@host1")).toBeUndefined();
    s.apply(taskEv("task-started", "a", { hostname: "w2@h" }), next());
    expect(s.tasksByState("PENDING")).toBeUndefined();
    expect([...(s.tasksByState("STARTED") ?? [])].map((t) => t.uuid)).toEqual(["a"]);
    expect([...(s.tasksByName("proj.add") ?? [])].map((t) => t.uuid)).toEqual(["a"]);
    expect([...(s.tasksByWorker("w2@h") ?? [])].map((t) => t.uuid)).toEqual(["a"]);
    expect(s.taskTypes()).toEqual(["Proj.Add"]);
  });

  it("links children to parents in either arrival order", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-received", "child1", {}, { parent_id: "p", root_id: "p" }), next());
    s.apply(taskEv("task-received", "p"), next());
    s.apply(taskEv("task-received", "child2", {}, { parent_id: "p", root_id: "p" }), next());
    s.apply(taskEv("task-sent", "child2", {}, { parent_id: "p" }), next());
    expect(s.get("p")?.children).toEqual(["child1", "child2"]);
    expect(s.get("child1")?.root_id).toBe("p");
  });

  it("links Petal retries from events and from linkRetry, before or after the tasks arrive", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-sent", "new1", {}, { retry_of: "old" }), next());
    s.apply(taskEv("task-failed", "old"), next());
    expect(s.get("old")?.retried_as).toEqual(["new1"]);
    expect(s.get("new1")?.retry_of).toBe("old");

    const ver = next();
    s.linkRetry("old", "new2", ver); // new2 not seen yet
    expect(s.get("old")?.retried_as).toEqual(["new1", "new2"]);
    expect(s.taskVersion("old")).toBe(ver);
    s.apply(taskEv("task-sent", "new2"), next());
    expect(s.get("new2")?.retry_of).toBe("old");
    s.apply(taskEv("task-received", "new2", { clock: 4 }, { retry_of: "old" }), next());
    expect(s.get("old")?.retried_as).toEqual(["new1", "new2"]);
  });

  it("tracks the version that last touched each task", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-received", "a"), 7);
    s.apply(taskEv("task-received", "b"), 8);
    s.apply(taskEv("task-started", "a", { clock: 2 }), 9);
    expect(s.taskVersion("a")).toBe(9);
    expect(s.taskVersion("b")).toBe(8);
    expect(s.taskVersion("zzz")).toBe(0);
  });
});

describe("TaskStore columns", () => {
  it("a reused slot starts empty: nothing leaks from the evicted task", () => {
    const s = new TaskStore({ maxTasks: 1 });
    s.apply(taskEv("task-sent", "a", {}, { name: "proj.A", eta: "2030-01-01", parent_id: "p", retry_of: "z" }), next());
    s.apply(taskEv("task-failed", "a", { clock: 2 }, { exception: "KeyError('k')" }), next());
    s.apply(taskEv("task-started", "b", { hostname: "w9@h" }), next());
    expect(s.get("a")).toBeUndefined();
    expect(s.get("b")).toMatchObject({
      uuid: "b", name: null, state: "STARTED", eta: null, parent_id: null, root_id: null, exception: null, traceback: null,
      sent: null, failed: null, worker: "w9@h", retry_of: undefined, queue: undefined, children: [],
    });
    expect(s.size).toBe(1);
  });

  it("hands out detached copies and forgets pooled strings once no task uses them", () => {
    const s = new TaskStore({ maxTasks: 2 });
    s.apply(taskEv("task-received", "a", { hostname: "w1@h" }, { name: "proj.only_a" }), next());
    const copy = s.get("a") as NonNullable<ReturnType<TaskStore["get"]>>;
    copy.name = "changed";
    copy.children.push("x");
    expect(s.get("a")).toMatchObject({ name: "proj.only_a", children: [] });
    expect(s.get("a")).not.toBe(s.get("a"));
    const pool = s.cols.pool;
    expect(pool.peek("proj.only_a")).toBeGreaterThan(0);
    s.apply(taskEv("task-succeeded", "a", { hostname: "w1@h", clock: 2 }), next());
    s.apply(taskEv("task-received", "b", { hostname: "w2@h" }, { name: "proj.b" }), next());
    s.apply(taskEv("task-received", "c", { hostname: "w2@h" }, { name: "proj.b" }), next()); // evicts a
    expect(pool.peek("proj.only_a")).toBe(-2);
    expect(pool.peek("w1@h")).toBe(-2);
    expect(pool.peek("proj.b")).toBeGreaterThan(0);
    expect(s.taskTypes()).toContain("proj.only_a"); // task types outlive their tasks, as in Flower
  });

  it("keeps root_id equal to the uuid without storing it twice, and other roots as given", () => {
    const s = new TaskStore();
    s.apply(taskEv("task-received", "t1", {}, { root_id: "t1" }), next());
    s.apply(taskEv("task-received", "t2", {}, { root_id: "r0", parent_id: "t1" }), next());
    expect(s.get("t1")).toMatchObject({ root_id: "t1", children: ["t2"] });
    expect(s.get("t2")).toMatchObject({ root_id: "r0", parent_id: "t1" });
    expect(s.cols.extra[s.slotOf("t1")]?.root_id ?? null).toBeNull();
  });

  it("restores records as copies, with every field, and evicts the oldest when over maxTasks", () => {
    const src = new TaskStore();
    src.apply(taskEv("task-sent", "r1", {}, { name: "proj.x", queue: "q1", eta: "e", expires: "x" }), next());
    src.apply(taskEv("task-revoked", "r1", { clock: 2 }, { terminated: true, signum: 15, expired: false }), next());
    src.apply(taskEv("task-succeeded", "r2", { clock: 3 }, { result: "'Ünïcode'" }), next());
    src.linkRetry("r1", "r2", next());
    const recs = [...src.values()];
    const dst = new TaskStore({ maxTasks: 1 });
    expect(dst.restore(recs, 5)).toBe(2);
    expect(dst.get("r1")).toBeUndefined();
    expect(dst.get("r2")).toEqual(src.get("r2"));
    const again = new TaskStore();
    again.restore(recs, 5);
    expect(again.get("r1")).toEqual(src.get("r1"));
    expect(again.get("r1")).toMatchObject({ state: "REVOKED", terminated: true, signum: 15, queue: "q1", eta: "e", retried_as: ["r2"] });
    expect(again.countByState("REVOKED")).toBe(1);
    expect(again.taskVersion("r2")).toBe(5);
  });
});
