import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEnvelope } from "../../lib/protocol/envelope";
import { taskEv } from "../../lib/state/test-events";
import { createTestContext, ValueError, type TestContext } from "./test-context";
import { startTestServer, type TestServer } from "./test-http";

let t: TestContext;
let srv: TestServer;
let flakyCalls = 0;

beforeAll(async () => {
  t = await createTestContext({
    workers: [
      { hostname: "w1@test", concurrency: 2 },
      { hostname: "w2@test", autoscale: { max: 3, min: 1 } },
    ],
    tasks: {
      // Fails on its first run only, so a retry visibly succeeds.
      "test.flaky": (c) => {
        if (flakyCalls++ === 0) throw new ValueError("first run fails");
        return c.args[0];
      },
    },
  });
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

const waitState = (id: string, state: string) =>
  t.waitFor(() => t.ctx.state.getTask(id)?.state === state, 5000, `${id} ${state}`);

describe("GET /api/workers", () => {
  it("maps every worker to its inspect info plus Petal's record", async () => {
    const r = await srv.get("/api/workers");
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(["w1@test", "w2@test"]);
    const w1 = r.json["w1@test"];
    for (const k of ["scheduled", "timestamp", "stats", "active_queues", "active", "registered", "reserved", "revoked", "conf"]) {
      expect(w1, k).toHaveProperty(k);
    }
    expect(w1.registered).toEqual(expect.arrayContaining(["test.add", "test.fail", "test.slow"]));
    expect(w1.active_queues.map((q: { name: string }) => q.name)).toEqual(["celery"]);
    expect(w1.petal).toMatchObject({ hostname: "w1@test", online: true });
  });

  it("filters by workername, refreshes, and 404s unknown names", async () => {
    const before = (await srv.get("/api/workers?workername=w1@test")).json["w1@test"].timestamp as number;
    await new Promise((r) => setTimeout(r, 20));
    const r = await srv.get("/api/workers?workername=w1@test&refresh=1");
    expect(Object.keys(r.json)).toEqual(["w1@test"]);
    expect(r.json["w1@test"].timestamp).toBeGreaterThan(before);
    const nope = await srv.get("/api/workers?workername=nope@host1");
    expect(nope.status).toBe(404);
    expect(nope.json.error.message).toBe("Unknown worker 'nope@host1'");
  });

  it("answers status=1 with name → online and 400s a bad bool", async () => {
    expect((await srv.get("/api/workers?status=1")).json).toEqual({ "w1@test": true, "w2@test": true });
    expect((await srv.get("/api/workers?status=true&workername=w2@test")).json).toEqual({ "w2@test": true });
    const bad = await srv.get("/api/workers?status=maybe");
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe("Invalid argument 'maybe' of type 'bool'");
  });
});

describe("worker control", () => {
  it("grows and shrinks the pool with Flower's texts and the replies", async () => {
    const grow = await srv.post("/api/worker/pool/grow/w1@test?n=1");
    expect(grow.status).toBe(200);
    expect(grow.json).toEqual({ message: "Growing 'w1@test' worker's pool by 1", replies: { "w1@test": { ok: "pool will grow" } } });
    expect(t.workers[0]!.stats().concurrency).toBe(3);
    const shrink = await srv.post("/api/worker/pool/shrink/w1@test", "n=1", { "content-type": "application/x-www-form-urlencoded" });
    expect(shrink.json.message).toBe("Shrinking 'w1@test' worker's pool by 1");
    expect(t.workers[0]!.stats().concurrency).toBe(2);
    const tooMuch = await srv.post("/api/worker/pool/shrink/w1@test?n=50");
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.json.error).toEqual({
      code: "worker_error",
      message: `Failed to shrink 'w1@test' worker's pool: ValueError("Can't shrink pool. All processes busy!")`,
    });
    expect(tooMuch.json.replies["w1@test"]).toHaveProperty("error");
    const bad = await srv.post("/api/worker/pool/grow/w1@test?n=abc");
    expect([bad.status, bad.json.error.message]).toEqual([400, "Invalid argument 'abc' of type 'int'"]);
    const unknown = await srv.post("/api/worker/pool/grow/nope@host1?n=1");
    expect([unknown.status, unknown.json.error.message]).toEqual([404, "Unknown worker 'nope@host1'"]);
  });

  it("autoscales only workers that allow it", async () => {
    const ok = await srv.post("/api/worker/pool/autoscale/w2@test?min=1&max=3");
    expect([ok.status, ok.json.message]).toEqual([200, "Autoscaling 'w2@test' worker (min=1, max=3)"]);
    const off = await srv.post("/api/worker/pool/autoscale/w1@test?min=1&max=3");
    expect([off.status, off.json.error.message]).toEqual([403, "Failed to autoscale 'w1@test' worker: ValueError('Autoscale not enabled')"]);
    expect((await srv.post("/api/worker/pool/autoscale/w2@test?min=x&max=3")).json.error.message).toBe("Invalid argument 'x' of type 'int'");
    expect((await srv.post("/api/worker/pool/autoscale/w2@test")).json.error.message).toBe("Invalid argument '[]' of type 'int'");
  });

  it("adds and cancels consumers, refusing a missing queue", async () => {
    const add = await srv.post("/api/worker/queue/add-consumer/w1@test?queue=extra");
    expect([add.status, add.json.message]).toEqual([200, "add consumer extra"]);
    expect(t.workers[0]!.stats().queues).toContain("extra");
    const missing = await srv.post("/api/worker/queue/add-consumer/w1@test");
    expect([missing.status, missing.json.error.message]).toEqual([400, "Missing argument 'queue'"]);
    const cancel = await srv.post("/api/worker/queue/cancel-consumer/w1@test", { queue: "extra" });
    expect([cancel.status, cancel.json.message]).toEqual([200, "no longer consuming from extra"]);
    expect(t.workers[0]!.stats().queues).not.toContain("extra");
  });

  it("restarts the pool", async () => {
    const r = await srv.post("/api/worker/pool/restart/w1@test");
    expect([r.status, r.json.message]).toEqual([200, "Restarting 'w1@test' worker's pool"]);
  });

  it("sets rate limits and time limits", async () => {
    const rl = await srv.post("/api/task/rate-limit/test.add?workername=w1@test&ratelimit=10/m");
    expect([rl.status, rl.json.message]).toEqual([200, "new rate limit set successfully"]);
    const badRate = await srv.post("/api/task/rate-limit/test.add?workername=w1@test&ratelimit=abc");
    expect(badRate.status).toBe(403);
    expect(badRate.json.error.message).toMatch(/^Failed to set rate limit: '.+'$/);
    await srv.post("/api/task/rate-limit/test.add?workername=w1@test&ratelimit=0");
    const noTask = await srv.post("/api/task/rate-limit/test.nope?workername=w1@test&ratelimit=10/m");
    expect([noTask.status, noTask.json.error.message]).toEqual([404, "Unknown task 'test.nope'"]);
    const noWorker = await srv.post("/api/task/rate-limit/test.add?workername=nope@host1&ratelimit=10/m");
    expect([noWorker.status, noWorker.json.error.message]).toEqual([404, "Unknown worker 'nope@host1'"]);
    const tl = await srv.post("/api/task/timeout/test.slow?workername=w1@test&soft=10&hard=20");
    expect([tl.status, tl.json.message]).toEqual([200, "time limits set successfully"]);
    const badTl = await srv.post("/api/task/timeout/test.slow?workername=w1@test&soft=abc&hard=20");
    expect([badTl.status, badTl.json.error.message]).toEqual([400, "Invalid argument 'abc' of type 'float'"]);
  });
});

describe("revoke", () => {
  it("revokes a countdown task before it runs", async () => {
    const id = await send("test.add", { args: [5, 5], countdown: 60 });
    await waitState(id, "RECEIVED");
    const r = await srv.post(`/api/task/revoke/${id}`);
    expect(r.text).toBe(`{"message": "Revoked '${id}'"}`);
    await waitState(id, "REVOKED");
    const res = await srv.get(`/api/task/result/${id}`);
    expect(res.json).toEqual({ "task-id": id, state: "REVOKED", result: "TaskRevokedError('revoked')" });
  });

  it("terminates a running task", async () => {
    const id = await send("test.slow", { args: [30] });
    await waitState(id, "STARTED");
    const r = await srv.post(`/api/task/revoke/${id}?terminate=true&signal=SIGKILL`);
    expect(r.json).toEqual({ message: `Revoked '${id}'` });
    await waitState(id, "REVOKED");
    expect(t.ctx.state.getTask(id)?.terminated).toBe(true);
    const res = await srv.get(`/api/task/result/${id}?timeout=2`);
    expect(res.json.result).toBe("TaskRevokedError('terminated')");
  });

  it("validates the signal and terminate flag", async () => {
    const sig = await srv.post("/api/task/revoke/x?terminate=1&signal=SIGSEGV");
    expect(sig.status).toBe(400);
    expect(sig.json.error.message).toContain("'SIGSEGV'");
    expect((await srv.post("/api/task/revoke/x?terminate=maybe")).json.error.message).toBe("Invalid argument 'maybe' of type 'bool'");
  });
});

describe("retry", () => {
  it("re-sends a failed task, links both ids, and the new one runs", async () => {
    const old = await send("test.flaky", { args: ["again"] });
    await waitState(old, "FAILURE");
    const r = await srv.post(`/api/task/retry/${old}`);
    expect(r.status, r.text).toBe(200);
    const fresh = r.json["task-id"] as string;
    expect(r.text).toBe(`{"task-id": "${fresh}", "retry_of": "${old}", "state": "PENDING"}`);
    expect(fresh).not.toBe(old);
    // Linked by the time the answer arrives, before any event of the new task is ingested.
    expect(t.ctx.state.getTask(old)?.retried_as).toEqual([fresh]);
    await waitState(fresh, "SUCCESS");
    const oldInfo = (await srv.get(`/api/task/info/${old}`)).json;
    const newInfo = (await srv.get(`/api/task/info/${fresh}`)).json;
    expect(oldInfo.retried_as).toEqual([fresh]);
    expect(newInfo.retry_of).toBe(old);
    expect(newInfo.args).toBe("('again',)");
    expect((await srv.get(`/api/task/result/${fresh}`)).json.result).toBe("again");
  });

  it("refuses unfinished, unknown and argument-less tasks", async () => {
    const running = await send("test.slow", { args: [30] });
    await waitState(running, "STARTED");
    const busy = await srv.post(`/api/task/retry/${running}`);
    expect(busy.status).toBe(409);
    expect(busy.json.error.code).toBe("conflict");
    expect(busy.json.error.message).toContain("STARTED");
    await srv.post(`/api/task/revoke/${running}?terminate=1`);

    expect((await srv.post("/api/task/retry/00000000-0000-0000-0000-000000000000")).status).toBe(404);

    // Known only from events whose message carried no argsrepr (the minimal form, PROTOCOL.md
    // §3.3): nothing to recover. Reprs that parse are retried (task-control.test.ts).
    const ghost = "11111111-2222-3333-4444-555555555555";
    t.ctx.state.ingest([
      taskEv("task-received", ghost, { hostname: "w1@test", timestamp: Date.now() / 1000 }, { args: "", kwargs: "" }),
      taskEv("task-failed", ghost, { hostname: "w1@test", timestamp: Date.now() / 1000 }),
    ]);
    expect(t.ctx.state.getTask(ghost)?.state).toBe("FAILURE");
    const noArgs = await srv.post(`/api/task/retry/${ghost}`);
    expect([noArgs.status, noArgs.json.error.message]).toEqual([409, `no arguments recorded for ${ghost}`]);
  });
});

describe("broker, dead letters, metrics", () => {
  it("describes the broker and its queues with consumers", async () => {
    const r = await srv.get("/api/broker");
    expect(r.json).toMatchObject({ url: "memory://", transport: "memory", status: "connected" });
    const celery = (r.json.queues as { name: string; consumers: string[] }[]).find((q) => q.name === "celery");
    expect(celery?.consumers.sort()).toEqual(["w1@test", "w2@test"]);
  });

  it("lists dead-lettered messages newest first", async () => {
    const empty = await srv.get("/api/dead-letters");
    expect(empty.json).toEqual({ total: 0, dead_letters: [] });
    const junk = encodeEnvelope("not a task body", {}, { deliveryInfo: { exchange: "", routing_key: "celery" } });
    await t.broker.publish("celery", junk);
    await t.waitFor(() => t.ctx.deadLetters.length === 1, 5000, "dead letter");
    const r = await srv.get("/api/dead-letters?limit=5");
    expect(r.json.total).toBe(1);
    expect(r.json.dead_letters[0]).toMatchObject({ queue: "celery" });
    expect(typeof r.json.dead_letters[0].reason).toBe("string");
  });

  it("exposes Flower's metric names", async () => {
    const m = (await srv.get("/metrics")).text;
    expect(m).toMatch(/flower_events_total\{task="test\.flaky",type="task-succeeded",worker="w[12]@test"\} \d/);
    expect(m).toContain("# TYPE flower_task_runtime_seconds histogram");
    expect(m).toContain('flower_worker_online{worker="w1@test"} 1.0');
    expect(m).toContain("flower_worker_number_of_currently_executing_tasks");
  });
});

describe("shutdown", () => {
  it("shuts a worker down and reports it offline", async () => {
    const r = await srv.post("/api/worker/shutdown/w2@test");
    expect([r.status, r.json.message]).toEqual([200, "Shutting down!"]);
    await t.waitFor(() => t.ctx.state.getWorker("w2@test")?.online === false, 5000, "w2 offline");
    expect((await srv.get("/api/workers?status=1")).json).toEqual({ "w1@test": true, "w2@test": false });
    expect((await srv.post("/api/worker/shutdown/nope@host1")).status).toBe(404);
  });
});

