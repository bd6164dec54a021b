/**
 * Interop with real Celery 5 (Debian's python3-celery) on a private redis-server:
 * Python client -> TS worker, TS client -> Python worker, and a Python worker monitored and
 * controlled through Petal's HTTP API (revoke, terminate, retry, rate_limit, pool grow).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker, RedisResultBackend } from "../lib/broker/redis/index";
import { Client, TaskRegistry, Worker } from "../lib/engine";
import { useRedisServer } from "../lib/testing/redis-fixture";
import { requireCelery, requireRedis } from "../lib/testing/redis-server";
import { startTestServer, type TestServer } from "../server/realtime/testing";
import { celerySend, startCeleryWorker, until, type CeleryWorker } from "./celery";

const skip = requireRedis() || requireCelery();
if (skip) console.log(`interop skipped: ${skip}`);


describe.skipIf(!!skip)("Celery interop on redis://", () => {
  const redis = useRedisServer();
  let url: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    url = redis.url;
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }, 60_000);

  it("a Python Celery client's send_task runs on a TS worker", async () => {
    const broker = new RedisBroker(url);
    const results = new RedisResultBackend(url);
    const registry = new TaskRegistry();
    registry.register("images.resize", (ctx) => ({ width: ctx.args[0], format: ctx.kwargs.format ?? "jpeg" }));
    const worker = new Worker({ broker, results, registry, hostname: "ts1@interop", concurrency: 2, queues: ["images"], heartbeatInterval: 0.5 });
    await broker.connect();
    await worker.start();
    closers.push(async () => {
      await worker.stop({ graceful: false });
      await broker.close();
      await results.close();
    });
    const r = await celerySend(url, "images.resize", [640], { format: "webp" }, "images");
    expect(r).toMatchObject({ state: "SUCCESS", result: { width: 640, format: "webp" } });
  }, 40_000);

  describe("with a Python Celery worker", () => {
    let py: CeleryWorker;
    let server: TestServer;
    const api = (path: string, init?: RequestInit) => fetch(server.url + path, init);
    const post = async (path: string, body?: unknown) => {
      const res = await api(path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const info = async (id: string) => {
      const res = await api(`/api/task/info/${id}`);
      return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
    };
    const stateIs = (id: string, state: string, ms = 20_000) => until(async () => (await info(id))?.state === state && (await info(id)), ms, `${id} ${state}`);

    beforeAll(async () => {
      py = await startCeleryWorker(url, { name: "py1@interop", concurrency: 2 });
      closers.push(() => py.stop());
      server = await startTestServer({ broker: url, demo: false });
      closers.push(() => server.close());
      await until(async () => {
        const res = await api("/api/workers?status=1");
        return ((await res.json()) as Record<string, boolean>)["py1@interop"];
      }, 20_000, "py1 online in Petal");
    }, 60_000);

    it("a TS client's task runs on the Python worker, and Petal sees every state", async () => {
      const broker = new RedisBroker(url);
      const results = new RedisResultBackend(url);
      await broker.connect();
      closers.push(async () => {
        await broker.close();
        await results.close();
      });
      const client = new Client({ broker, results });
      const res = await client.sendTask("proj.add", [2, 3]);
      expect(await res.get({ timeout: 15_000 })).toBe(5);
      const t = await stateIs(res.id, "SUCCESS");
      expect(t).toMatchObject({ name: "proj.add", args: "(2, 3)", result: "5", worker: "py1@interop" });
    }, 30_000);

    it("revokes a countdown task: it never runs", async () => {
      const sent = await post("/api/task/async-apply/proj.add", { args: [1, 1], countdown: 3 });
      expect(sent.status).toBe(200);
      const id = sent.body["task-id"] as string;
      await stateIs(id, "RECEIVED");
      expect((await post(`/api/task/revoke/${id}`)).status).toBe(200);
      const t = await stateIs(id, "REVOKED", 15_000);
      expect(t.started).toBeNull();
      expect(t.succeeded).toBeNull();
    }, 30_000);

    it("terminates a running task", async () => {
      const id = (await post("/api/task/send-task/proj.slow", { args: [30] })).body["task-id"] as string;
      await stateIs(id, "STARTED");
      expect((await post(`/api/task/revoke/${id}?terminate=true&signal=SIGTERM`)).status).toBe(200);
      const t = await stateIs(id, "REVOKED", 15_000);
      expect(t).toMatchObject({ terminated: true, succeeded: null });
    }, 40_000);

    it("aborts a running AbortableTask: it sees ABORTED and stops", async () => {
      const id = (await post("/api/task/send-task/proj.abortable", { args: [30] })).body["task-id"] as string;
      await stateIs(id, "STARTED");
      const r = await post(`/api/task/abort/${id}`);
      expect([r.status, r.body]).toEqual([200, { message: `Aborted '${id}'` }]);
      const t = await stateIs(id, "SUCCESS", 15_000);
      expect(t.result).toMatch(/^'aborted after \d+ checks'$/);
    }, 40_000);

    it("retries a failed task: the new run succeeds and is linked", async () => {
      const key = `k${Date.now()}`;
      const id = (await post("/api/task/send-task/proj.flaky", { args: [key] })).body["task-id"] as string;
      await stateIs(id, "FAILURE");
      const r = await post(`/api/task/retry/${id}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const newId = r.body["task-id"] as string;
      expect(newId).not.toBe(id);
      const t = await stateIs(newId, "SUCCESS");
      expect(t).toMatchObject({ name: "proj.flaky", retry_of: id, worker: "py1@interop" });
      expect((await info(id))?.retried_as).toContain(newId);
    }, 40_000);

    it("sets a rate limit and grows the pool, reporting the worker's replies", async () => {
      const rl = await post("/api/task/rate-limit/proj.add?workername=py1@interop&ratelimit=10/m");
      expect(rl.status, JSON.stringify(rl.body)).toBe(200);
      expect(rl.body.message).toBe("new rate limit set successfully");
      const grow = await post("/api/worker/pool/grow/py1@interop?n=1");
      expect(grow.status, JSON.stringify(grow.body)).toBe(200);
      expect(grow.body.message).toBe("Growing 'py1@interop' worker's pool by 1");
      expect(grow.body.replies).toMatchObject({ "py1@interop": { ok: "pool will grow" } });
    }, 30_000);
  });
});
