/**
 * Bad input never crashes anything and nothing is lost (issue #3 item 9), on a real
 * redis-server: every poison message of PROTOCOL.md §3.3 pushed raw onto a queue a TS worker
 * consumes ends in the shared dead-letter list (seen by a server in another "process": its own
 * broker connection), and malformed events only move petal_events_rejected_total.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker, RedisResultBackend } from "../lib/broker/redis/index";
import { TaskRegistry, Worker } from "../lib/engine";
import { base64Encode, serializeEnvelope } from "../lib/protocol/envelope";
import { buildTaskMessage } from "../lib/protocol/task-message";
import type { Envelope } from "../lib/protocol/types";
import { useRedisServer } from "../lib/testing/redis-fixture";
import { requireRedis } from "../lib/testing/redis-server";
import { waitFor } from "../lib/testing/wait";
import { startTestServer, type TestServer } from "../server/realtime/testing";

const skip = requireRedis();
if (skip) console.log(`bad-input skipped: ${skip}`);

const QUEUE = "edge";

function message(id: string, mutate: (e: Envelope & Record<string, unknown>) => void = () => undefined): string {
  const env = buildTaskMessage("demo.add", { id, args: [2, 3], queue: QUEUE }) as Envelope & Record<string, unknown>;
  mutate(env);
  return serializeEnvelope(env);
}

describe.skipIf(!!skip)("bad input on redis://", () => {
  const redis = useRedisServer();
  let server: TestServer;
  let wbroker: RedisBroker;
  let results: RedisResultBackend;
  let worker: Worker;
  const workerErrors: unknown[] = [];

  beforeAll(async () => {
    server = await startTestServer({ broker: redis.url, demo: false });
    wbroker = new RedisBroker(redis.url, { onError: () => undefined });
    results = new RedisResultBackend(redis.url);
    const registry = new TaskRegistry();
    registry.register("demo.add", (ctx) => (ctx.args[0] as number) + (ctx.args[1] as number));
    worker = new Worker({
      broker: wbroker,
      results,
      registry,
      hostname: "ts-edge@bad",
      queues: [QUEUE],
      heartbeatInterval: 0.5,
      logger: { info: () => undefined, warn: () => undefined, error: (...a: unknown[]) => workerErrors.push(a) },
    });
    await wbroker.connect();
    await worker.start();
  }, 30_000);

  afterAll(async () => {
    await worker?.stop({ graceful: false }).catch(() => undefined);
    await wbroker?.close();
    await results?.close();
    await server?.close();
  }, 30_000);

  const api = async (path: string) => {
    const res = await fetch(server.url + path);
    return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
  };

  it("dead-letters every poison message, rejects those with an id, runs the rest, and keeps working", async () => {
    const ids = { noCt: "bad-noct-1", twoElems: "bad-two-1", notList: "bad-notlist-1", noDi: "ok-nodi-1", noTag: "ok-notag-1", unknown: "bad-unknown-1", good: "good-after-1" };
    const poison: { raw: string; code: string; id: string | null }[] = [
      { raw: message(ids.noCt, (e) => delete (e as Record<string, unknown>)["content-type"]), code: "no_content_type", id: ids.noCt },
      { raw: message(ids.twoElems, (e) => (e.body = base64Encode(JSON.stringify([[2, 3], {}])))), code: "bad_body", id: ids.twoElems },
      { raw: message(ids.notList, (e) => (e.body = base64Encode(JSON.stringify("just a string")))), code: "bad_body", id: ids.notList },
      { raw: message("bad-b64-1", (e) => (e.body = "%%% not base64 at all %%%")), code: "bad_json", id: "bad-b64-1" },
      { raw: "this is not JSON {", code: "bad_json", id: null },
      { raw: JSON.stringify([1, 2, 3]), code: "bad_envelope", id: null },
      { raw: JSON.stringify({ body: 42, properties: {} }), code: "bad_envelope", id: null },
    ];
    for (const p of poison) await redis.raw.lpush(QUEUE, p.raw);
    // Celery crashes on these two (PROTOCOL.md §3.3); the transport fills them in, so they run.
    await redis.raw.lpush(QUEUE, message(ids.noDi, (e) => delete (e.properties as Record<string, unknown>).delivery_info));
    await redis.raw.lpush(QUEUE, message(ids.noTag, (e) => delete (e.properties as Record<string, unknown>).delivery_tag));
    await redis.raw.lpush(QUEUE, message(ids.unknown, (e) => ((e.headers as Record<string, unknown>).task = "demo.nope")));
    await redis.raw.lpush(QUEUE, message(ids.good));

    // The good one after all the poison still runs: the worker did not die.
    expect(await results.wait(ids.good, 10_000)).toMatchObject({ status: "SUCCESS", result: 5 });
    expect(await results.wait(ids.noDi, 5_000)).toMatchObject({ status: "SUCCESS", result: 5 });
    expect(await results.wait(ids.noTag, 5_000)).toMatchObject({ status: "SUCCESS", result: 5 });
    expect(await results.wait(ids.unknown, 5_000)).toMatchObject({ status: "FAILURE" });
    expect(worker.state).toBe("running");

    // Every poison message is in the shared list the server (its own connection) reads.
    const dl = await waitFor(async () => {
      const body = await api("/api/dead-letters");
      return body && (body.total as number) >= poison.length ? body : null;
    }, "dead letters", 5_000, 50);
    expect(dl.total).toBe(poison.length);
    const letters = dl.dead_letters as { queue: string; code: string; reason: string; worker: string | null; task_id: string | null; raw: string }[];
    for (const p of poison) {
      // The worker stores the envelope it parsed (re-serialized); the transport the bytes it popped.
      const hit = letters.find((l) => l.code === p.code && (p.id ? l.task_id === p.id : l.raw === p.raw));
      expect(hit, `dead letter ${p.code} ${p.raw.slice(0, 60)}`).toBeDefined();
      expect(hit!.queue).toBe(QUEUE);
      expect(hit!.reason.length).toBeGreaterThan(p.code.length);
      // The worker refused the ones it could read as envelopes; the transport the rest.
      expect(hit!.worker).toBe(p.id ? "ts-edge@bad" : null);
      expect(hit!.task_id).toBe(p.id);
    }

    // task-rejected reached Petal for each one with an id.
    for (const p of poison.filter((x) => x.id)) {
      await waitFor(async () => (await api(`/api/task/info/${p.id}`))?.state === "REJECTED", `${p.id} REJECTED`, 5_000, 50);
    }
    await waitFor(async () => (await api(`/api/task/info/${ids.good}`))?.state === "SUCCESS", "good task in Petal", 5_000, 50);

    // Nothing waits, nothing is stuck unacked (no poison loop), nothing vanished.
    await waitFor(async () => (await redis.raw.llen(QUEUE)) === 0 && (await redis.raw.hlen("unacked")) === 0, "queue and unacked empty", 5_000, 50);
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.raw.llen(QUEUE)).toBe(0);
    expect(await redis.raw.llen("petal.dead-letters")).toBe(poison.length);
  }, 40_000);

  it("counts malformed events in petal_events_rejected_total and still ingests a good one", async () => {
    const metric = async () => {
      const text = await (await fetch(server.url + "/metrics")).text();
      const m = /^petal_events_rejected_total (\S+)$/m.exec(text);
      return m ? Number(m[1]) : NaN;
    };
    const before = await metric();
    expect(Number.isFinite(before)).toBe(true);
    const envelope = (body: unknown, hostname = "junk@bad") =>
      JSON.stringify({
        body: base64Encode(JSON.stringify(body)),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        headers: { hostname },
        properties: { delivery_mode: 1, delivery_info: { exchange: "celeryev", routing_key: "x" }, priority: 0, body_encoding: "base64", delivery_tag: "t" },
      });
    const garbage: [string, string, number][] = [
      // transport level: undecodable payloads
      ["task.multi", "not json at all", 1],
      ["worker.heartbeat", "[1, 2, 3]", 1],
      ["task.multi", JSON.stringify({ body: "%%%garbage-base64%%%", "content-type": "application/json", properties: { body_encoding: "base64" } }), 1],
      // state level: decodable but not events (a task.multi body counts each element)
      ["worker.heartbeat", envelope(17), 1],
      ["task.multi", envelope([1, "two", null]), 3],
      ["worker.heartbeat", envelope({ type: "worker-heartbeat" }), 1],
      ["task.multi", envelope([{ type: "task-succeeded", hostname: "junk@bad" }, { uuid: "x" }]), 2],
    ];
    for (const [rk, payload] of garbage) await redis.raw.publish(`/0.celeryev/${rk}`, payload);
    const expected = before + garbage.reduce((n, g) => n + g[2], 0);
    await waitFor(async () => (await metric()) >= expected, `petal_events_rejected_total ${expected}`, 5_000, 50);
    await new Promise((r) => setTimeout(r, 1200)); // one more ingest tick: nothing counted twice
    expect(await metric()).toBe(expected);

    const now = Date.now() / 1000;
    const good = { hostname: "good@bad", utcoffset: 0, pid: 1, clock: 1, freq: 2, active: 0, processed: 0, loadavg: [0, 0, 0], sw_ident: "py-celery", sw_ver: "5.2.6", sw_sys: "Linux", timestamp: now, type: "worker-heartbeat" };
    await redis.raw.publish("/0.celeryev/worker.heartbeat", envelope(good, "good@bad"));
    await waitFor(async () => ((await api("/api/workers?status=1")) as Record<string, boolean> | null)?.["good@bad"] === true, "good@bad online", 5_000, 50);
    expect(await metric()).toBe(expected);
  }, 20_000);
});
