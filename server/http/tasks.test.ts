import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "./test-context";
import { startTestServer, type TestServer } from "./test-http";

let t: TestContext;
let srv: TestServer;

beforeAll(async () => {
  t = await createTestContext({ workers: [{ hostname: "w1@test" }, { hostname: "w2@test" }] });
  srv = await startTestServer(t.ctx);
});

afterAll(async () => {
  await srv?.close();
  await t?.close();
});

async function send(name: string, body: object = {}): Promise<string> {
  const r = await srv.post(`/api/task/async-apply/${name}`, body);
  expect(r.status, r.text).toBe(200);
  return r.json["task-id"] as string;
}

const stateOf = (id: string) => t.ctx.state.getTask(id)?.state;
const waitState = (id: string, state: string) => t.waitFor(() => stateOf(id) === state, 5000, `${id} ${state}`);

const FLOWER_KEYS = [
  "uuid", "name", "state", "received", "sent", "started", "rejected", "succeeded", "failed", "retried", "revoked",
  "args", "kwargs", "eta", "expires", "retries", "result", "exception", "timestamp", "runtime", "traceback",
  "exchange", "routing_key", "clock", "client", "root", "root_id", "parent", "parent_id", "children", "worker",
];

describe("sending tasks", () => {
  it("async-apply returns Flower's body and the task runs", async () => {
    const r = await srv.post("/api/task/async-apply/test.add", { args: [1, 2] });
    expect(r.status).toBe(200);
    const id = r.json["task-id"] as string;
    expect(r.text).toBe(`{"task-id": "${id}", "state": "PENDING"}`);
    await waitState(id, "SUCCESS");
    const res = await srv.get(`/api/task/result/${id}`);
    expect(res.text).toBe(`{"task-id": "${id}", "state": "SUCCESS", "result": 3}`);
  });

  it("checks the name on async-apply and apply, not on send-task", async () => {
    const unknown = await srv.post("/api/task/async-apply/test.nope", { args: [1, 2] });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: { code: "not_found", message: "Unknown task 'test.nope'" } });
    expect((await srv.post("/api/task/apply/test.nope", {})).status).toBe(404);
    const sent = await srv.post("/api/task/send-task/test.nope", { args: [1] });
    expect(sent.status).toBe(200);
    const id = sent.json["task-id"] as string;
    await waitState(id, "FAILURE");
    expect(t.ctx.state.getTask(id)?.exception).toContain("NotRegistered");
  });

  it("rejects bad bodies with 400", async () => {
    for (const body of ['{"args": 5}', "[1, 2]", '{"kwargs": [1]}', '{"args": [1, 2], "eta": "01/01/2030"}', '{"priority": "high"}']) {
      const r = await srv.request("POST", "/api/task/async-apply/test.add", { body, headers: { "content-type": "application/json" } });
      expect(r.status, body).toBe(400);
      expect(r.json.error.code, body).toBe("bad_request");
    }
  });

  it("accepts an empty body, kwargs, queue and Flower's eta format", async () => {
    const id = await send("test.fail");
    await waitState(id, "FAILURE");
    const kw = await send("test.add", { args: [1, 2], kwargs: { z: 10 } });
    await waitState(kw, "SUCCESS");
    expect(t.ctx.state.getTask(kw)?.result).toBe("13");
    const eta = await send("test.add", { args: [5, 5], eta: "2030-01-01 00:00:00.000000" });
    await waitState(eta, "RECEIVED");
    expect(t.ctx.state.getTask(eta)?.eta).toMatch(/^2030-01-01T00:00:00(\.0+)?\+00:00$/);
  });

  it("apply waits and answers with Flower's key order", async () => {
    const ok = await srv.post("/api/task/apply/test.add", { args: [1, 2] });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe(`{"task-id": "${ok.json["task-id"]}", "result": 3, "state": "SUCCESS"}`);
    const failed = await srv.post("/api/task/apply/test.fail", {});
    expect(Object.keys(failed.json)).toEqual(["task-id", "result", "traceback", "state"]);
    expect(failed.json.result).toBe("ValueError('boom: intentional failure')");
    expect(failed.json.state).toBe("FAILURE");
    expect(failed.json.traceback).toMatch(/^Traceback \(most recent call last\):/);
    const slow = await srv.post("/api/task/apply/test.slow?timeout=0.1", { args: [2] });
    expect(slow.status).toBe(504);
    expect(slow.json.error.code).toBe("timeout");
  });
});

describe("task results", () => {
  it("reports PENDING for unknown ids and waits with ?timeout", async () => {
    const none = await srv.get("/api/task/result/00000000-0000-0000-0000-000000000000");
    expect(none.text).toBe('{"task-id": "00000000-0000-0000-0000-000000000000", "state": "PENDING"}');
    const id = await send("test.slow", { args: [0.2] });
    const done = await srv.get(`/api/task/result/${id}?timeout=5`);
    expect(done.json).toEqual({ "task-id": id, state: "SUCCESS", result: 0.2 });
  });

  it("gives 504 when the wait times out and 400 on a bad timeout", async () => {
    const id = await send("test.slow", { args: [3] });
    const started = Date.now();
    const r = await srv.get(`/api/task/result/${id}?timeout=0.2`);
    expect(r.status).toBe(504);
    expect(r.json.error.code).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    const bad = await srv.get(`/api/task/result/${id}?timeout=abc`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe("Invalid argument 'abc' of type 'float'");
    await srv.post(`/api/task/revoke/${id}?terminate=1`);
  });

  it("shows failures as the exception repr plus the traceback", async () => {
    const id = await send("test.fail");
    await waitState(id, "FAILURE");
    const r = await srv.get(`/api/task/result/${id}`);
    expect(Object.keys(r.json)).toEqual(["task-id", "state", "result", "traceback"]);
    expect(r.json.result).toBe("ValueError('boom: intentional failure')");
  });
});

describe("event-state task views", () => {
  let ok: string;
  let bad: string;

  beforeAll(async () => {
    ok = await send("test.add", { args: [2, 3] });
    bad = await send("test.fail");
    await waitState(ok, "SUCCESS");
    await waitState(bad, "FAILURE");
  });

  it("task info has Flower's keys with worker after retries", async () => {
    const r = await srv.get(`/api/task/info/${ok}`);
    expect(r.status).toBe(200);
    const keys = Object.keys(r.json);
    const flowerOrder = FLOWER_KEYS.filter((k) => k !== "worker");
    flowerOrder.splice(flowerOrder.indexOf("retries") + 1, 0, "worker");
    expect(keys.slice(0, flowerOrder.length)).toEqual(flowerOrder);
    expect(r.json).toMatchObject({ uuid: ok, name: "test.add", state: "SUCCESS", args: "(2, 3)", kwargs: "{}", result: "5", root: ok });
    expect(["w1@test", "w2@test"]).toContain(r.json.worker);
    expect(r.json.runtime).toBeGreaterThanOrEqual(0);
  });

  it("task info is 404 for unknown ids", async () => {
    const r = await srv.get("/api/task/info/00000000-0000-0000-0000-000000000000");
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("not_found");
    expect((await srv.get("/api/task/info/")).status).toBe(404);
  });

  it("lists tasks as a map in query order with worker last", async () => {
    const r = await srv.get("/api/tasks?limit=2");
    expect(Object.keys(r.json)).toHaveLength(2);
    const first = Object.values(r.json)[0] as Record<string, unknown>;
    expect(Object.keys(first).slice(0, FLOWER_KEYS.length)).toEqual(FLOWER_KEYS);
    const all = await srv.get("/api/tasks");
    expect(Object.keys(all.json).length).toBe(t.ctx.state.queryTasks({}).total);
    const paged = await srv.get("/api/tasks?limit=2&offset=1");
    expect(Object.keys(paged.json)[0]).toBe(Object.keys(all.json)[1]);
  });

  it("filters by state (any case, All = none), name, worker and search", async () => {
    const failures = await srv.get("/api/tasks?state=failure");
    expect(Object.keys(failures.json)).toContain(bad);
    expect(Object.values(failures.json).every((x) => (x as { state: string }).state === "FAILURE")).toBe(true);
    expect(Object.keys((await srv.get("/api/tasks?state=All")).json).length).toBe(Object.keys((await srv.get("/api/tasks")).json).length);
    const adds = await srv.get("/api/tasks?taskname=test.add&sort_by=-received");
    expect(Object.values(adds.json).every((x) => (x as { name: string }).name === "test.add")).toBe(true);
    expect(await srv.get("/api/tasks?workername=nobody@x").then((r) => r.json)).toEqual({});
    const searched = await srv.get("/api/tasks?search=state:FAILURE");
    expect(Object.keys(searched.json)).toContain(bad);
    expect(Object.keys(searched.json)).not.toContain(ok);
    const future = new Date(Date.now() + 3600_000);
    const p = (n: number) => String(n).padStart(2, "0");
    const stamp = `${future.getFullYear()}-${p(future.getMonth() + 1)}-${p(future.getDate())} ${p(future.getHours())}:${p(future.getMinutes())}`;
    const late = await srv.get(`/api/tasks?received_start=${encodeURIComponent(stamp)}`);
    expect(Object.keys(late.json).filter((id) => t.ctx.state.getTask(id)?.received != null)).toEqual([]);
  });

  it("answers bad list arguments with 400 and Flower's search messages", async () => {
    const cases: [string, string, string | RegExp][] = [
      ["limit=abc", "bad_request", "Invalid argument 'abc' of type 'int'"],
      ["sort_by=foo", "bad_request", /'foo' for 'sort_by'/],
      ["received_start=22%2F11%2F2026", "bad_request", /received_start/],
      ["state=maybe", "bad_request", /'MAYBE' for 'state'/],
      ["search=ab", "bad_search", "Substring search terms must contain at least 3 characters at position 0."],
      ["search=NOT%20foo", "bad_search", "NOT is not supported at position 0."],
    ];
    for (const [q, code, message] of cases) {
      const r = await srv.get(`/api/tasks?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code, q).toBe(code);
      if (typeof message === "string") expect(r.json.error.message, q).toBe(message);
      else expect(r.json.error.message, q).toMatch(message);
    }
  });

  it("lists task types sorted", async () => {
    const r = await srv.get("/api/task/types");
    const types = r.json["task-types"] as string[];
    expect(types).toEqual([...types].sort());
    expect(types).toEqual(expect.arrayContaining(["test.add", "test.fail"]));
  });
});

describe("queues", () => {
  it("counts messages per known queue", async () => {
    const before = await srv.get("/api/queues/length");
    expect(before.json.active_queues).toContainEqual({ name: "celery", messages: 0 });
    await send("test.add", { args: [1, 1], queue: "nobody-consumes" });
    await send("test.add", { args: [1, 1], queue: "nobody-consumes" });
    const after = await srv.get("/api/queues/length");
    expect(after.json.active_queues).toContainEqual({ name: "nobody-consumes", messages: 2 });
    const names = (after.json.active_queues as { name: string }[]).map((q) => q.name);
    expect(names).toEqual([...names].sort());
  });
});
