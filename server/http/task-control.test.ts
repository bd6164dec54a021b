import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Delivery } from "../../lib/broker/types";
import { decodeBody } from "../../lib/protocol/envelope";
import { parseArgsRepr } from "../../lib/protocol/pyliteral";
import { parseTaskMessage } from "../../lib/protocol/task-message";
import { taskEv } from "../../lib/state/test-events";
import { createTestContext, type TestContext } from "./test-context";
import { startTestServer, type TestServer } from "./test-http";

let t: TestContext;
let srv: TestServer;

beforeAll(async () => {
  t = await createTestContext();
  srv = await startTestServer(t.ctx);
});

afterAll(async () => {
  await srv?.close();
  await t?.close();
});

let seq = 0;
/** A finished task known only from events, as a Celery worker without result_extended leaves it. */
function celeryTask(fields: Record<string, unknown>, final: "task-failed" | "task-succeeded" = "task-failed"): string {
  const id = `00000000-0000-4000-8000-${String(++seq).padStart(12, "0")}`;
  const now = Date.now() / 1000;
  t.ctx.state.ingest([
    taskEv("task-sent", id, { timestamp: now }, fields),
    taskEv("task-received", id, { hostname: "w9@celery", timestamp: now }, fields),
    taskEv(final, id, { hostname: "w9@celery", timestamp: now }),
  ]);
  expect(t.ctx.state.getTask(id)?.state).toBe(final === "task-failed" ? "FAILURE" : "SUCCESS");
  return id;
}

/** The next message published to `queue` (no worker consumes it), acked. */
async function takeOne(queue: string): Promise<Delivery> {
  let got: Delivery | null = null;
  const consumer = t.broker.consume([queue], { prefetch: 1 }, (d) => {
    got ??= d;
  });
  try {
    const d = await t.waitFor(() => got, 5000, `a message on ${queue}`);
    await d.ack();
    return d;
  } finally {
    await consumer.cancel();
  }
}

describe("POST /api/task/retry/:id from event reprs (no result meta)", () => {
  it("re-sends a Celery-shaped message with the parsed args, kwargs, name and queue", async () => {
    const args = "('héllo ☃', [1, 2.5, None], {'k': (True,)})";
    const kwargs = "{'z': 'it\\'s', 'path': 'C:\\new', 'n': 10}";
    const old = celeryTask({ name: "proj.add", args, kwargs, queue: "celerytasks", routing_key: "celerytasks" });
    expect(await t.ctx.results.get(old)).toBeNull();

    const r = await srv.post(`/api/task/retry/${old}`);
    expect(r.status, r.text).toBe(200);
    const fresh = r.json["task-id"] as string;
    expect(r.json).toEqual({ "task-id": fresh, retry_of: old, state: "PENDING" });
    expect(t.ctx.state.getTask(old)?.retried_as).toEqual([fresh]);

    const d = await takeOne("celerytasks");
    const env = d.envelope;
    // What a Celery 5.2 worker needs (PROTOCOL.md §3.3), checked on the raw envelope.
    expect(env["content-type"]).toBe("application/json");
    expect(env["content-encoding"]).toBe("utf-8");
    expect(env.properties.delivery_info).toEqual({ exchange: "", routing_key: "celerytasks" });
    expect(typeof env.properties.delivery_tag).toBe("string");
    const body = decodeBody(env) as unknown[];
    expect(body).toHaveLength(3);
    const m = parseTaskMessage(env);
    expect([m.headers.task, m.headers.id]).toEqual(["proj.add", fresh]);
    expect(m.args).toEqual(["héllo ☃", [1, 2.5, null], { k: [true] }]);
    expect(m.kwargs).toEqual({ z: "it's", path: "C:\\new", n: 10 });
    // The re-sent reprs read back to the same values, so a retry of the retry works too.
    expect(m.headers.argsrepr).toBe("('héllo ☃', [1, 2.5, None], {'k': [True]})");
  });

  it("falls back to the routing key, then to celery, and the re-sent task really runs", async () => {
    const viaKey = celeryTask({ name: "proj.mul", args: "(2,)", kwargs: "{}", queue: null, routing_key: "viakey" });
    expect((await srv.post(`/api/task/retry/${viaKey}`)).status).toBe(200);
    const d = await takeOne("viakey");
    expect(parseTaskMessage(d.envelope).args).toEqual([2]);

    // test.echo is registered with the embedded worker on "celery": the new task executes.
    const old = celeryTask({ name: "test.echo", args: "[1, 'a']", kwargs: "{'x': {'y': None}}", queue: null, routing_key: null });
    const r = await srv.post(`/api/task/retry/${old}`);
    expect(r.status, r.text).toBe(200);
    const fresh = r.json["task-id"] as string;
    await t.waitFor(() => t.ctx.state.getTask(fresh)?.state === "SUCCESS", 5000, "retried echo");
    expect((await t.ctx.results.get(fresh))?.result).toEqual({ args: [1, "a"], kwargs: { x: { y: null } } });
  });

  it.each([
    ["a truncated args repr", { args: "('" + "x".repeat(1017) + "...', ...)", kwargs: "{}" }, /args cannot be recovered.*truncated: Celery's saferepr cut this repr at about 1024 characters/],
    ["a kwargs repr cut at saferepr's depth", { args: "()", kwargs: "{'data': {'nested': {'list': [...]}}, 'flag': True}" }, /kwargs cannot be recovered.*nested deeper than the 3 levels/],
    ["an object's repr", { args: "(<object object at 0x7fa1dddb8fb0>,)", kwargs: "{}" }, /args cannot be recovered.*not a literal/],
    ["a datetime", { args: "(datetime.datetime(2020, 1, 1, 0, 0),)", kwargs: "{}" }, /not a literal: datetime\.datetime/],
  ])("answers 409 naming the reason for %s", async (_what, fields, re) => {
    const id = celeryTask({ name: "proj.add", ...fields });
    const r = await srv.post(`/api/task/retry/${id}`);
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe("conflict");
    expect(r.json.error.message).toContain(id);
    expect(r.json.error.message).toMatch(re);
    expect(t.ctx.state.getTask(id)?.retried_as ?? []).toEqual([]);
    // the dry run the Retry button asks gives the same reason, and sends nothing
    const check = await srv.get(`/api/task/retry/${id}`);
    expect(check.status).toBe(200);
    expect(check.json.retryable).toBe(false);
    expect(check.json.reason).toMatch(re);
  });

  it("keeps 'no arguments recorded' when the events carried no reprs", async () => {
    const id = celeryTask({ name: "proj.add", args: "", kwargs: "" });
    const r = await srv.post(`/api/task/retry/${id}`);
    expect([r.status, r.json.error.message]).toEqual([409, `no arguments recorded for ${id}`]);
  });

  it("prefers the backend's real arguments when the repr is truncated", async () => {
    const long = "y".repeat(2000);
    const sent = await srv.post("/api/task/async-apply/test.echo", { args: [long] });
    const old = sent.json["task-id"] as string;
    await t.waitFor(() => t.ctx.state.getTask(old)?.state === "SUCCESS", 5000, "echo");
    expect(parseArgsRepr(t.ctx.state.getTask(old)?.args).ok).toBe(false);
    // the browser cannot parse the repr, but the server can retry: the button asks first
    expect((await srv.get(`/api/task/retry/${old}`)).json).toEqual({ retryable: true, source: "result_backend" });
    const r = await srv.post(`/api/task/retry/${old}`);
    expect(r.status, r.text).toBe(200);
    const fresh = r.json["task-id"] as string;
    await t.waitFor(() => t.ctx.state.getTask(fresh)?.state === "SUCCESS", 5000, "retried echo");
    expect((await t.ctx.results.get(fresh))?.result).toEqual({ args: [long], kwargs: {} });
  });
});

describe("POST /api/task/abort/:id (Flower's path and answer)", () => {
  it("stores ABORTED in the result backend, which the result API then reports", async () => {
    const id = "abort-0000-4000-8000-000000000001";
    const r = await srv.post(`/api/task/abort/${id}`);
    expect([r.status, r.json]).toEqual([200, { message: `Aborted '${id}'` }]);
    expect(await t.ctx.results.get(id)).toMatchObject({ status: "ABORTED", result: null, traceback: null, task_id: id });
    expect((await srv.get(`/api/task/result/${id}`)).json).toEqual({ "task-id": id, state: "ABORTED" });
  });

  it("leaves a task that already succeeded as it was", async () => {
    const id = "abort-0000-4000-8000-000000000002";
    await t.ctx.results.store({ status: "SUCCESS", result: 42, traceback: null, children: [], date_done: "2026-12-07T12:00:00", task_id: id });
    expect((await srv.post(`/api/task/abort/${id}`)).status).toBe(200);
    expect(await t.ctx.results.get(id)).toMatchObject({ status: "SUCCESS", result: 42 });
  });

  it("is POST only", async () => {
    expect((await srv.get("/api/task/abort/x")).status).toBe(405);
  });
});
