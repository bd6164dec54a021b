import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Delivery } from "../broker/types";
import { parseTaskMessage } from "../protocol/task-message";
import { ResultTimeoutError } from "./client";
import { harness, until, type Harness } from "./test-harness";

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

async function takeOne(queue: string): Promise<Delivery> {
  let got: Delivery | null = null;
  const c = h.broker.consume([queue], { prefetch: 1 }, (d) => (got = d));
  await until(() => got, 1000, "delivery");
  await c.cancel();
  return got!;
}

describe("Client.sendTask", () => {
  it("publishes a protocol v2 message a Celery worker accepts, with eta, expires and lineage", async () => {
    const t0 = Date.now();
    const r = await h.client.sendTask("demo.add", [2, 3], { z: 1 }, {
      countdown: 10,
      expires: 60,
      priority: 6,
      parentId: "p-1",
      rootId: "root-1",
      retryOf: "old-1",
      timelimit: [5, 10],
      queue: "q1",
    });
    const d = await takeOne("q1");
    const msg = parseTaskMessage(d.envelope);
    expect(msg.args).toEqual([2, 3]);
    expect(msg.kwargs).toEqual({ z: 1 });
    expect(msg.headers).toMatchObject({
      task: "demo.add",
      id: r.id,
      retries: 0,
      root_id: "root-1",
      parent_id: "p-1",
      argsrepr: "(2, 3)",
      kwargsrepr: "{'z': 1}",
      origin: "gen1@test",
      timelimit: [5, 10],
      retry_of: "old-1",
    });
    const eta = Date.parse(msg.headers.eta as string);
    expect(eta - t0).toBeGreaterThanOrEqual(9_900);
    expect(eta - t0).toBeLessThan(11_000);
    expect(msg.headers.expires).toMatch(/\+00:00$/);
    expect(d.envelope.properties).toMatchObject({ correlation_id: r.id, expiration: "60000", priority: 6 });

    const sent = h.eventsOf("task-sent", r.id);
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0])).toEqual([
      "hostname", "utcoffset", "pid", "clock", "uuid", "root_id", "parent_id", "name", "args", "kwargs",
      "retries", "eta", "expires", "queue", "exchange", "routing_key", "retry_of", "timestamp", "type",
    ]);
    expect(sent[0]).toMatchObject({ queue: "q1", routing_key: "q1", retry_of: "old-1", eta: msg.headers.eta });
  });

  it("writes task-sent exactly as taskEvent builds it, with and without retry_of", async () => {
    const { taskEvent } = await import("../protocol/events");
    for (const opts of [{}, { retryOf: "old-2", countdown: 5, expires: 30, parentId: "p", queue: "q2" }]) {
      const r = await h.client.sendTask("demo.add", [1, "é"], { k: [null] }, opts);
      await until(() => h.eventsOf("task-sent", r.id).length > 0, 1000, "task-sent");
      const [sent] = h.eventsOf("task-sent", r.id) as unknown as Record<string, unknown>[];
      const { hostname, utcoffset, pid, clock, timestamp, type: _type, ...fields } = sent;
      const ref = taskEvent("task-sent", fields as never, { hostname: hostname as string, pid: pid as number, clock: clock as number, utcoffset: utcoffset as number, now: () => timestamp as number });
      expect(Object.keys(sent)).toEqual(Object.keys(ref));
      expect(sent).toEqual(ref);
      expect(sent.args).toBe("(1, 'é')");
    }
  });

  it("routes to the registered task's queue and can skip task-sent", async () => {
    h.registry.register("demo.fast", () => 1, { queue: "fast" });
    const { Client } = await import("./client");
    const quiet = new Client({ broker: h.broker, results: h.results, registry: h.registry, sendSentEvents: false });
    const r = await quiet.task("demo.fast").delay(1);
    const d = await takeOne("fast");
    expect(d.envelope.headers.id).toBe(r.id);
    expect(h.eventsOf("task-sent", r.id)).toEqual([]);
    expect(quiet.hostname).toMatch(/^gen\d+@/);
  });

  it("rejects bad input early", async () => {
    await expect(h.client.sendTask("")).rejects.toThrow(TypeError);
    await expect(h.client.sendTask("x", [], {}, { eta: "not a date" })).rejects.toThrow(/invalid eta/);
  });
});

describe("AsyncResult", () => {
  it("times out with ResultTimeoutError while PENDING", async () => {
    const r = h.client.asyncResult("never");
    const t0 = Date.now();
    await expect(r.get({ timeout: 50 })).rejects.toBeInstanceOf(ResultTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(await r.state()).toBe("PENDING");
    expect(await r.ready()).toBe(false);
  });

  it("control returns {} when nobody answers, and revoke sends no reply request", async () => {
    expect(await h.client.control("ping", {}, { timeout: 50 })).toEqual({});
    await h.client.revoke(["a", "b"], { terminate: true });
  });
});
