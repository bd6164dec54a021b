/**
 * Redis restarts under a running cluster (issue #3 item 10): a Petal server, a TS worker and a
 * Python Celery worker all keep going. The server reports the broker as down over the socket
 * while redis-server is stopped, then, once it is back on the same port (empty: nothing was
 * persisted), new tasks from TS and Python clients complete and show up in Petal again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker, RedisResultBackend } from "../lib/broker/redis/index";
import { Client, TaskRegistry, Worker } from "../lib/engine";
import type { RealtimeUpdate } from "../lib/protocol/api";
import { useRedisServer } from "../lib/testing/redis-fixture";
import { requireCelery, requireRedis, startRedisServer } from "../lib/testing/redis-server";
import { record, startTestServer, type Recorder, type TestServer } from "../server/realtime/testing";
import { celerySend, startCeleryWorker, until, type CeleryWorker } from "./celery";

const skip = requireRedis() || requireCelery();
if (skip) console.log(`resilience skipped: ${skip}`);


const brokerStatus = (u: RealtimeUpdate): string | undefined => u.broker?.status;

describe.skipIf(!!skip)("Redis restart under a running cluster", () => {
  const redis = useRedisServer();
  let server: TestServer;
  let rec: Recorder;
  let py: CeleryWorker;
  let wbroker: RedisBroker;
  let cbroker: RedisBroker;
  let results: RedisResultBackend;
  let worker: Worker;
  let client: Client;
  const errors: unknown[] = [];

  beforeAll(async () => {
    server = await startTestServer({ broker: redis.url, demo: false });
    py = await startCeleryWorker(redis.url, { name: "py-res@resilience", concurrency: 1 });
    wbroker = new RedisBroker(redis.url, { onError: () => undefined });
    cbroker = new RedisBroker(redis.url, { onError: () => undefined });
    results = new RedisResultBackend(redis.url);
    const registry = new TaskRegistry();
    registry.register("ts.echo", (ctx) => ({ echo: ctx.args[0] }), { queue: "ts" });
    worker = new Worker({
      broker: wbroker,
      results,
      registry,
      hostname: "ts-res@resilience",
      queues: ["ts"],
      heartbeatInterval: 0.5,
      logger: { info: () => undefined, warn: () => undefined, error: (...a: unknown[]) => errors.push(a) },
    });
    await wbroker.connect();
    await cbroker.connect();
    await worker.start();
    client = new Client({ broker: cbroker, results, registry });
    rec = record(server.url);
  }, 60_000);

  afterAll(async () => {
    rec?.close();
    await worker?.stop({ graceful: false }).catch(() => undefined);
    await py?.stop();
    await cbroker?.close();
    await wbroker?.close();
    await results?.close();
    await server?.close();
  }, 60_000);

  const api = async (path: string) => {
    const res = await fetch(server.url + path);
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
  };
  const online = (name: string) => until(async () => ((await api("/api/workers?status=1")) as Record<string, boolean> | null)?.[name] === true, 30_000, `${name} online`);
  const inPetal = (id: string, state = "SUCCESS") => until(async () => (await api(`/api/task/info/${id}`))?.state === state, 20_000, `${id} ${state} in Petal`);

  async function roundTrip(tag: string): Promise<void> {
    const ts = await client.task("ts.echo").applyAsync([tag]);
    expect(await ts.get({ timeout: 20_000 })).toEqual({ echo: tag });
    await inPetal(ts.id);
    const pyRes = await celerySend(redis.url, "proj.add", [tag.length, 1]);
    expect(pyRes).toMatchObject({ state: "SUCCESS", result: tag.length + 1 });
    await inPetal(pyRes.id);
  }

  it("reports the broker down, then carries on once Redis is back on the same port", async () => {
    await online("py-res@resilience");
    await online("ts-res@resilience");
    await roundTrip("before");

    await redis.server.stop();
    const down = await rec.next((u) => brokerStatus(u) !== undefined && brokerStatus(u) !== "connected", 10_000);
    expect(["reconnecting", "disconnected"]).toContain(brokerStatus(down));
    const t0 = Date.now();
    const broker = (await api("/api/broker")) as { status?: string } | null;
    expect(broker?.status).toBe("disconnected"); // the HTTP view cannot reach Redis either...
    expect(Date.now() - t0).toBeLessThan(5000); // ...and says so instead of hanging on ioredis' retries
    const dead = await fetch(server.url + "/api/dead-letters");
    expect(dead.status).toBe(503);
    await new Promise((r) => setTimeout(r, 1500)); // everyone's reconnect loop spins a while

    await redis.server.start();
    const up = await rec.next((u) => brokerStatus(u) === "connected", 15_000);
    expect(brokerStatus(up)).toBe("connected");

    // No process crashed and both workers are back (heartbeats flow again).
    expect(py.proc.exitCode).toBeNull();
    expect(worker.state).toBe("running");
    await online("py-res@resilience");
    await online("ts-res@resilience");
    await roundTrip("after-restart");
    expect(py.proc.exitCode).toBeNull();
  }, 120_000);

  it("a server shuts down promptly while Redis is down (no wait on ioredis' retries)", async () => {
    const other = await startRedisServer();
    const s = await startTestServer({ broker: other.url, demo: false });
    await other.stop();
    await new Promise((r) => setTimeout(r, 300)); // every connection is between reconnect attempts now
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 30_000);
});
