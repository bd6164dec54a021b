/**
 * The consumer's turn script (pop + record unacked + acks in one call) and the shared command
 * connection: the unacked bytes match what the client-side path writes, odd messages fall back
 * to it, and a result backend riding on the broker's connection behaves like its own.
 */
import { describe, expect, it } from "vitest";
import { serializeEnvelope, uuid4 } from "../../protocol/envelope";
import { buildTaskMessage } from "../../protocol/task-message";
import { requireRedis } from "../../testing/redis-server";
import type { Delivery } from "../types";
import { Client, TaskRegistry, Worker } from "../../engine";
import { RedisResultBackend } from "./index";
import { sleep, useRedis, waitFor } from "./test-helpers";
import { unackedValue } from "./unacked";

const skip = requireRedis();
const q = (tag: string) => `turn.${tag}.${uuid4().slice(0, 8)}`;

describe.skipIf(skip)("redis:// turn script", () => {
  const fx = useRedis();

  it("records every popped message with kombu's exact unacked value, on the script path and the fallback", async () => {
    const b = await fx.broker();
    const name = q("record");
    const plain = buildTaskMessage("demo.add", { args: [1], queue: name });
    const viaExchange = buildTaskMessage("demo.add", { args: [2], queue: name });
    viaExchange.properties.delivery_info = { exchange: "tasks.direct", routing_key: "rk.1" };
    const oddExchange = buildTaskMessage("demo.add", { args: [3], queue: name });
    oddExchange.properties.delivery_info = { exchange: 'we"ird ü', routing_key: "r/k" };
    const noTag = buildTaskMessage("demo.add", { args: [4], queue: name });
    delete (noTag.properties as { delivery_tag?: string }).delivery_tag;
    const raws = [plain, viaExchange, oddExchange, noTag].map((e) => JSON.stringify(e));
    for (const raw of raws) await fx.raw.lpush(name, raw);
    const got: Delivery[] = [];
    b.consume([name], { prefetch: 10 }, (d) => got.push(d));
    await waitFor(() => got.length === 4, "four deliveries");
    expect(got.map((d) => (d.envelope.headers as { id: string }).id)).toEqual([plain, viaExchange, oddExchange, noTag].map((e) => e.headers.id));
    const want = [
      unackedValue(raws[0], "", name),
      unackedValue(raws[1], "tasks.direct", "rk.1"),
      unackedValue(raws[2], 'we"ird ü', "r/k"),
      unackedValue(raws[3], "", name),
    ];
    for (let i = 0; i < 4; i++) expect(await fx.raw.hget("unacked", got[i].deliveryTag)).toBe(want[i]);
    expect(got[3].deliveryTag).toMatch(/^[0-9a-f-]{36}$/);
    expect(await fx.raw.zcard("unacked_index")).toBe(4);
    // Acks of one turn ride with the next pop; either way both structures empty out.
    await Promise.all(got.map((d) => d.ack()));
    await waitFor(async () => (await fx.raw.hlen("unacked")) === 0 && (await fx.raw.zcard("unacked_index")) === 0, "acks applied");
  });

  it("reads Python's spacing as well as ours, and never a key spelled inside a string", async () => {
    const b = await fx.broker();
    const name = q("spacing");
    const py = buildTaskMessage("demo.add", { args: [1], queue: name });
    const pyDirect = buildTaskMessage("demo.add", { args: [2], queue: name });
    pyDirect.properties.delivery_info = { exchange: "tasks.direct", routing_key: "rk.2" };
    // A header string holding the keys the script looks for: escaped in JSON, so never taken.
    const tricky = buildTaskMessage("demo.add", { args: [3], queue: name });
    (tricky.headers as Record<string, unknown>).kwargsrepr = '{"delivery_info": {"exchange": "evil", "routing_key": "x"}, "delivery_tag": "fake"}}';
    const raws = [serializeEnvelope(py), serializeEnvelope(pyDirect), serializeEnvelope(tricky), JSON.stringify(tricky)];
    expect(raws[0]).toContain('"delivery_info": {"exchange": "", "routing_key": ');
    for (const raw of raws) await fx.raw.lpush(name, raw);
    const got: Delivery[] = [];
    b.consume([name], { prefetch: 10 }, (d) => got.push(d));
    await waitFor(() => got.length === 4, "four deliveries");
    const envs = [py, pyDirect, tricky, tricky];
    expect(got.map((d) => d.deliveryTag)).toEqual(envs.map((e) => e.properties.delivery_tag));
    const want = [unackedValue(raws[0], "", name), unackedValue(raws[1], "tasks.direct", "rk.2"), unackedValue(raws[2], "", name), unackedValue(raws[3], "", name)];
    // The same tag twice (tricky sent twice): the hash keeps the last recorded value.
    for (let i = 0; i < 3; i++) expect(await fx.raw.hget("unacked", got[i].deliveryTag)).toBe(i === 2 ? want[3] : want[i]);
    expect(await fx.raw.zscore("unacked_index", got[0].deliveryTag)).toMatch(/^\d+$/);
    await Promise.all(got.map((d) => d.ack()));
  });

  it("two turns in flight never hold more than the prefetch window", async () => {
    const b = await fx.broker();
    const name = q("window");
    await b.declare(name);
    await Promise.all(Array.from({ length: 200 }, (_, i) => b.publish(name, buildTaskMessage("demo.add", { args: [i], queue: name }))));
    const got: Delivery[] = [];
    let outstanding = 0;
    let most = 0;
    const c = b.consume([name], { prefetch: 32 }, (d) => {
      got.push(d);
      most = Math.max(most, ++outstanding);
    });
    await waitFor(() => got.length === 32, "a full window");
    await sleep(200);
    expect(got.length).toBe(32);
    // Free ten slots: exactly ten more arrive.
    await Promise.all(got.slice(0, 10).map((d) => d.ack().then(() => outstanding--)));
    await waitFor(() => got.length === 42, "the window refilled");
    await sleep(200);
    expect(got.length).toBe(42);
    expect(most).toBe(32);
    expect(await fx.raw.hlen("unacked")).toBe(32);
    await c.cancel();
    // Leave unacked as found (the file's tests share it): the held ones go back to the queue.
    await Promise.all(got.slice(10).map((d) => d.requeue()));
    await waitFor(async () => (await fx.raw.hlen("unacked")) === 0, "unacked emptied");
  });

  it("records and acks more members than one call takes (unlimited prefetch)", async () => {
    const b = await fx.broker();
    const name = q("many");
    const n = 1200;
    await b.declare(name);
    await Promise.all(Array.from({ length: n }, (_, i) => b.publish(name, buildTaskMessage("demo.add", { args: [i], queue: name }))));
    const got: Delivery[] = [];
    // Acked as they come: acks of a whole popped batch (up to 2 x 256) ride on one turn script.
    b.consume([name], { prefetch: 0 }, (d) => {
      got.push(d);
      void d.ack();
    });
    await waitFor(() => got.length === n, `${n} deliveries`);
    expect(new Set(got.map((d) => d.deliveryTag)).size).toBe(n);
    await waitFor(async () => (await fx.raw.hlen("unacked")) === 0 && (await fx.raw.zcard("unacked_index")) === 0, "every ack applied");
  });

  it("a message the script recorded but the envelope check refuses is dead-lettered and leaves unacked", async () => {
    const b = await fx.broker();
    const name = q("refused");
    const tag = uuid4();
    await fx.raw.lpush(name, JSON.stringify({ body: "", headers: [1], properties: { delivery_tag: tag, delivery_info: { exchange: "" } } }));
    const ok = buildTaskMessage("demo.add", { args: [1], queue: name });
    await b.publish(name, ok);
    const got: Delivery[] = [];
    b.consume([name], { prefetch: 5 }, (d) => got.push(d));
    await waitFor(() => got.length === 1, "the good delivery");
    expect(b.rejectedMessages).toBe(1);
    await waitFor(async () => (await fx.raw.hexists("unacked", tag)) === 0, "refused message removed from unacked");
    expect(await fx.raw.zscore("unacked_index", tag)).toBeNull();
    await got[0].ack();
  });

  it("requeue after a script-recorded delivery restores the exact message, marked redelivered", async () => {
    const b = await fx.broker();
    const name = q("requeue");
    const env = buildTaskMessage("demo.add", { args: [5], queue: name });
    await b.publish(name, env);
    const got: Delivery[] = [];
    const c = b.consume([name], { prefetch: 1 }, (d) => got.push(d));
    await waitFor(() => got.length === 1, "first delivery");
    await got[0].requeue();
    await waitFor(() => got.length === 2, "redelivery");
    expect(got[1].redelivered).toBe(true);
    expect(got[1].deliveryTag).toBe(env.properties.delivery_tag);
    await got[1].ack();
    await c.cancel();
  });

  it("a worker on a shared connection stores each result before its task-succeeded reaches Redis, in the same write", async () => {
    const b = await fx.broker();
    const results = new RedisResultBackend(fx.server.url, { shareConnection: b });
    expect(results.orderedWith(b)).toBe(true);
    expect(new RedisResultBackend(fx.server.url).orderedWith(b)).toBe(false);
    const name = q("order");
    const registry = new TaskRegistry();
    registry.register("demo.noop", async () => 7);
    const worker = new Worker({ broker: b, results, registry, concurrency: 4, queues: [name], hostname: `order-${uuid4().slice(0, 6)}@test`, heartbeatInterval: 60, sendEvents: true });
    // MONITOR lists commands as Redis runs them, the ones inside scripts included.
    const mon = await fx.raw.monitor();
    const lines: string[] = [];
    // Client commands come lower-case, the ones a script runs upper-case.
    mon.on("monitor", (_t: string, args: string[]) => lines.push([args[0].toUpperCase(), ...args.slice(1)].join(" ")));
    await worker.start();
    const client = new Client({ broker: b, results });
    const ids = (await Promise.all(Array.from({ length: 6 }, () => client.sendTask("demo.noop", [], {}, { queue: name })))).map((r) => r.id);
    await waitFor(() => ids.every((id) => lines.some((l) => l.startsWith("XADD") && l.includes(`"uuid": "${id}"`) && l.includes("task-succeeded"))), "six task-succeeded");
    for (const id of ids) {
      const stored = lines.findIndex((l) => l.startsWith(`SETEX celery-task-meta-${id}`));
      const event = lines.findIndex((l) => l.startsWith("XADD") && l.includes(`"uuid": "${id}"`) && l.includes("task-succeeded"));
      expect(stored).toBeGreaterThanOrEqual(0);
      expect(stored).toBeLessThan(event);
    }
    mon.disconnect();
    await worker.stop({ graceful: true, timeoutMs: 2000 });
    await results.close();
  });

  it("a result backend sharing the broker's connection stores, reads, wakes waiters, and leaves the connection open on close", async () => {
    const b = await fx.broker();
    const results = new RedisResultBackend(fx.server.url, { shareConnection: b });
    const ids = [uuid4(), uuid4(), uuid4()];
    const waiting = results.wait(ids[0], 5000);
    const meta = (id: string, status: "SUCCESS" | "FAILURE") => ({ status, result: 1, traceback: null, children: [], date_done: null, task_id: id });
    // Stored in one turn: one script call for all three.
    await Promise.all(ids.map((id) => results.store(meta(id, "SUCCESS"))));
    expect((await waiting)?.status).toBe("SUCCESS");
    for (const id of ids) expect((await results.get(id))?.status).toBe("SUCCESS");
    // Never over a stored SUCCESS, also within a batch.
    await Promise.all([results.store(meta(ids[1], "FAILURE")), results.store(meta(uuid4(), "FAILURE"))]);
    expect((await results.get(ids[1]))?.status).toBe("SUCCESS");
    expect(await fx.raw.ttl(`celery-task-meta-${ids[2]}`)).toBeGreaterThan(80_000);
    await results.close();
    expect(await b.cmd.ping()).toBe("PONG");
  });

  it("a store issued right before close() still lands (its own connection quits after it)", async () => {
    const results = new RedisResultBackend(fx.server.url);
    const id = uuid4();
    const stored = results.store({ status: "SUCCESS", result: 2, traceback: null, children: [], date_done: null, task_id: id });
    await results.close();
    await stored;
    expect(JSON.parse((await fx.raw.get(`celery-task-meta-${id}`))!)).toMatchObject({ status: "SUCCESS", result: 2 });
  });
});
