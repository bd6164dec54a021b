/** Recovery, events and remote control on a real redis-server, including Celery's captured payloads. */
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { controlRequest, matchesDestination, ok } from "../../protocol/control";
import { uuid4 } from "../../protocol/envelope";
import { buildTaskMessage } from "../../protocol/task-message";
import { HAVE_VECTORS, loadLines, type VectorLine } from "../../protocol/test-vectors";
import { requireRedis } from "../../testing/redis-server";
import type { Delivery, IncomingControl, RawEventBatch } from "../types";
import { sleep, useRedis, waitFor } from "./test-helpers";

const skip = requireRedis();
const q = (tag: string) => `interop.${tag}.${uuid4().slice(0, 8)}`;

describe.skipIf(skip)("redis:// recovery, events and control", () => {
  const fx = useRedis();

  it("restores a delivery whose consumer died without ack, once older than the visibility timeout", async () => {
    const name = q("restore");
    const env = buildTaskMessage("demo.add", { args: [1], queue: name });
    const dead = await fx.broker();
    await dead.publish(name, env);
    const got: Delivery[] = [];
    dead.consume([name], { prefetch: 1 }, (d) => got.push(d));
    await waitFor(() => got.length === 1, "first delivery");
    await dead.close(); // never acked: it stays in unacked
    const tag = env.properties.delivery_tag;
    expect(await fx.raw.hexists("unacked", tag)).toBe(1);

    const b = await fx.broker({ visibilityTimeout: 0.3, restoreIntervalMs: 0 });
    expect(await b.restoreUnacked()).toBe(0); // not stale yet
    // Delivery times are whole seconds rounded up (unackedScore): stale within 1.3 s, never sooner.
    await sleep(1300);
    // Someone else holding kombu's lock stops us, as it stops a Celery worker.
    await fx.raw.set("unacked_mutex", "other", "PX", 5000);
    expect(await b.restoreUnacked()).toBe(0);
    await fx.raw.del("unacked_mutex");
    expect(await b.restoreUnacked()).toBe(1);
    expect(await fx.raw.get("unacked_mutex")).toBeNull();
    expect(await fx.raw.hexists("unacked", tag)).toBe(0);
    const again: Delivery[] = [];
    b.consume([name], { prefetch: 1 }, (d) => again.push(d));
    await waitFor(() => again.length === 1, "redelivery");
    expect(again[0].deliveryTag).toBe(tag);
    expect(again[0].redelivered).toBe(true);
    expect(again[0].envelope.headers.id).toBe(env.headers.id);
    await again[0].ack();
  });

  it("fans events out across brokers: ours, Celery's raw task.multi, and counts malformed payloads", async () => {
    const [a, b] = [await fx.broker(), await fx.broker()];
    const host = q("w") + "@test";
    const got: RawEventBatch[][] = [[], []];
    await a.subscribeEvents((batch) => got[0].push(batch));
    await b.subscribeEvents((batch) => got[1].push(batch));
    const hb = { hostname: host, clock: 1, freq: 2, timestamp: Date.now() / 1000, type: "worker-heartbeat" };
    await a.publishEvent(host, hb);
    await waitFor(() => got[0].length === 1 && got[1].length === 1, "the heartbeat on both");
    expect(got[1][0]).toEqual({ routingKey: "worker.heartbeat", events: [hb] });

    await fx.raw.publish("/0.celeryev/task.multi", "{broken");
    await fx.raw.publish("/0.celeryev/task.multi", JSON.stringify({ body: "!!", "content-type": "application/json", "content-encoding": "utf-8", headers: {}, properties: { body_encoding: "base64" } }));
    if (HAVE_VECTORS) {
      const multi = loadLines<VectorLine>("events").find((l) => l.channel_or_key === "/0.celeryev/task.multi" && Array.isArray(l.decoded) && l.decoded.length >= 2)!;
      await fx.raw.publish(multi.channel_or_key, multi.raw);
      await waitFor(() => got[0].length === 2 && got[1].length === 2, "the captured batch on both");
      for (const g of got) expect(g[1]).toEqual({ routingKey: "task.multi", events: multi.decoded });
      expect(got[0][1].events[0]).not.toBe(got[1][1].events[0]);
    }
    await waitFor(() => a.rejectedEvents === 2 && b.rejectedEvents === 2, "malformed payloads counted");
  });

  it("publishes events as kombu does: /{db}.celeryev/<routing key>, delivery_mode 1, exchange celeryev", async () => {
    const b = await fx.broker({}, fx.server.url.replace(/\/0$/, "/3"));
    const sub = new Redis(fx.server.url);
    const seen: [string, string][] = [];
    sub.on("pmessage", (_p: string, ch: string, msg: string) => seen.push([ch, msg]));
    await sub.psubscribe("/3.celeryev/*");
    const host = q("w") + "@test";
    await b.publishEvent(host, { hostname: host, type: "task-sent", uuid: "u1", clock: 1 });
    await b.publishEvent(host, [{ hostname: host, type: "task-received", uuid: "u1" }]);
    await waitFor(() => seen.length === 2, "both events");
    expect(seen.map(([ch]) => ch)).toEqual(["/3.celeryev/task.sent", "/3.celeryev/task.multi"]);
    const env = JSON.parse(seen[1][1]) as { headers: unknown; properties: Record<string, unknown> };
    expect(env.headers).toEqual({ hostname: host });
    expect(env.properties).toMatchObject({ delivery_mode: 1, delivery_info: { exchange: "celeryev", routing_key: "task.multi" }, body_encoding: "base64" });
    await sub.quit();
  });

  it("globalKeyprefix prefixes keys and channels as kombu does", async () => {
    const b = await fx.broker({ globalKeyprefix: "pfx:" });
    const name = q("prefixed");
    await b.publish(name, buildTaskMessage("demo.add", { queue: name }));
    expect(await fx.raw.llen(`pfx:${name}`)).toBe(1);
    expect(await fx.raw.llen(name)).toBe(0);
    expect(await fx.raw.exists(`pfx:_kombu.binding.${name}`)).toBe(1);
    const got: RawEventBatch[] = [];
    await b.subscribeEvents((x) => got.push(x));
    await fx.raw.publish("/0.celeryev/worker.heartbeat", "unprefixed: never seen");
    await b.publishEvent("h@x", { hostname: "h@x", type: "worker-heartbeat" });
    await waitFor(() => got.length === 1, "prefixed event");
    expect(b.rejectedEvents).toBe(0);
  });

  it("pidbox round trip between brokers, with kombu's reply binding set and cleanup", async () => {
    const [client, w1, w2] = [await fx.broker(), await fx.broker(), await fx.broker()];
    const seen: IncomingControl[] = [];
    const bindingDuring: string[][] = [];
    const listen = (node: string) => (c: IncomingControl) => {
      if (!matchesDestination(c.request, node)) return;
      seen.push(c);
      void fx.raw.smembers("_kombu.binding.reply.celery.pidbox").then((m) => bindingDuring.push(m));
      void c.reply({ [node]: ok("pong") });
    };
    await w1.listenControl(listen("w1@test"));
    await w2.listenControl(listen("w2@test"));
    const replies = await client.broadcast(controlRequest("ping", {}), { timeout: 2000, limit: 2 });
    expect(replies.map((r) => Object.keys(r)[0]).sort()).toEqual(["w1@test", "w2@test"]);
    const oid = seen[0].request.reply_to!.routing_key;
    expect(bindingDuring[0]).toContain(`${oid}\x06\x16\x06\x16${oid}.reply.celery.pidbox`);
    expect(await fx.raw.sismember("_kombu.binding.reply.celery.pidbox", `${oid}\x06\x16\x06\x16${oid}.reply.celery.pidbox`)).toBe(0);
    expect(await fx.raw.exists(`${oid}.reply.celery.pidbox`)).toBe(0);
  });

  it("broadcast keeps only replies with its ticket (a captured Celery reply on the same list is skipped)", async () => {
    const client = await fx.broker();
    const w = await fx.broker();
    const captured = HAVE_VECTORS ? loadLines<VectorLine>("control").find((l) => l.command === "LPUSH")?.raw : undefined;
    const stale =
      captured ??
      JSON.stringify({ body: Buffer.from('{"old@test": {"ok": "pong"}}').toString("base64"), "content-encoding": "utf-8", "content-type": "application/json", headers: { ticket: "other", clock: 1 }, properties: { body_encoding: "base64", delivery_tag: "t", delivery_info: { exchange: "reply.celery.pidbox", routing_key: "x" } } });
    await w.listenControl((c) => {
      if (!matchesDestination(c.request, "w@test")) return;
      const oid = c.request.reply_to!.routing_key;
      void fx.raw.lpush(`${oid}.reply.celery.pidbox`, stale).then(() => c.reply({ "w@test": ok("pong") }));
    });
    const replies = await client.broadcast(controlRequest("ping", {}, { destination: ["w@test"] }), { timeout: 2000 });
    expect(replies).toEqual([{ "w@test": { ok: "pong" } }]);
  });
});
