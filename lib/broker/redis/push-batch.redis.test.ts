/**
 * Publishes of one loop turn share one multi-value LPUSH per list: consumers still get them in
 * publish order, each priority list gets its own call, a failed call fails every send in it,
 * and close() lets publishes issued just before it land.
 */
import { describe, expect, it } from "vitest";
import { uuid4 } from "../../protocol/envelope";
import { buildTaskMessage } from "../../protocol/task-message";
import { requireRedis } from "../../testing/redis-server";
import { RedisBroker } from "./index";
import { MAX_PUSH_VALUES } from "./push-batch";
import { useRedis } from "./test-helpers";

const skip = requireRedis();
const q = (tag: string) => `push.${tag}.${uuid4().slice(0, 8)}`;

async function lpushCalls(raw: import("ioredis").Redis): Promise<number> {
  const info = await raw.info("commandstats");
  return Number(/cmdstat_lpush:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe.skipIf(skip)("redis:// publish batching", () => {
  const fx = useRedis();

  it("one turn's publishes go out as one LPUSH per list, consumed in publish order", async () => {
    const b = await fx.broker();
    const name = q("order");
    await b.declare(name);
    const before = await lpushCalls(fx.raw);
    const msgs = Array.from({ length: 20 }, (_, i) => buildTaskMessage("demo.add", { args: [i], queue: name }));
    const high = buildTaskMessage("demo.add", { args: ["urgent"], queue: name, priority: 9 });
    await Promise.all([...msgs.map((m) => b.publish(name, m)), b.publish(name, high, { priority: 9 })]);
    expect((await lpushCalls(fx.raw)) - before).toBe(2);
    // RPOP is the consumer's end: first published, first served.
    const popped = await fx.raw.rpop(name, 20);
    expect(popped!.map((r) => (JSON.parse(r) as { headers: { id: string } }).headers.id)).toEqual(msgs.map((m) => m.headers.id));
    const highKey = b.keys.lists(name).find((k) => k !== name && /9$/.test(k));
    expect(highKey).toBeDefined();
    expect(await fx.raw.llen(highKey!)).toBe(1);
  });

  it("a turn with more than MAX_PUSH_VALUES sends starts another call and keeps the order", async () => {
    const b = await fx.broker();
    const name = q("many");
    await b.declare(name);
    const before = await lpushCalls(fx.raw);
    const n = MAX_PUSH_VALUES + 10;
    const msgs = Array.from({ length: n }, (_, i) => buildTaskMessage("demo.add", { args: [i], queue: name }));
    await Promise.all(msgs.map((m) => b.publish(name, m)));
    expect((await lpushCalls(fx.raw)) - before).toBe(2);
    const popped = await fx.raw.rpop(name, n);
    expect(popped!.map((r) => (JSON.parse(r) as { headers: { id: string } }).headers.id)).toEqual(msgs.map((m) => m.headers.id));
  });

  it("a failed LPUSH fails every send it carried, and nothing of it lands", async () => {
    const b = await fx.broker();
    const name = q("fail");
    await b.declare(name);
    // A key of the wrong type makes the one LPUSH fail (WRONGTYPE).
    await fx.raw.set(name, "not a list");
    const sends = Array.from({ length: 5 }, (_, i) => b.publish(name, buildTaskMessage("demo.add", { args: [i], queue: name })));
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.every((o) => o.status === "rejected" && /WRONGTYPE/.test(String(o.reason)))).toBe(true);
    expect(await fx.raw.get(name)).toBe("not a list");
  });

  it("close() right after publishing still delivers every message", async () => {
    const b = new RedisBroker(fx.server.url, { onError: () => undefined });
    await b.connect();
    const name = q("close");
    await b.declare(name);
    const sends = Array.from({ length: 10 }, (_, i) => b.publish(name, buildTaskMessage("demo.add", { args: [i], queue: name })));
    await b.close();
    await Promise.all(sends);
    expect(await fx.raw.llen(name)).toBe(10);
  });
});
