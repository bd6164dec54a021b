/** The exact kombu layout on a real redis-server: keys, bytes, unacked plumbing, Celery's own messages. */
import { describe, expect, it } from "vitest";
import { parseEnvelope, uuid4 } from "../../protocol/envelope";
import { parseTaskMessage, buildTaskMessage } from "../../protocol/task-message";
import { HAVE_VECTORS, loadLines, type VectorLine } from "../../protocol/test-vectors";
import { requireRedis } from "../../testing/redis-server";
import type { Delivery } from "../types";
import { useRedis, waitFor } from "./test-helpers";

const skip = requireRedis();
const q = (tag: string) => `layout.${tag}.${uuid4().slice(0, 8)}`;

describe.skipIf(skip)("redis:// byte layout (kombu 5.2)", () => {
  const fx = useRedis();

  it("LPUSHes the envelope unchanged to the queue list or its \\x06\\x16<step> sibling and declares the binding", async () => {
    const b = await fx.broker();
    const name = q("publish");
    const env = buildTaskMessage("demo.add", { args: [2, 3], queue: name });
    await b.publish(name, env);
    await b.publish(name, buildTaskMessage("demo.add", { args: [1], queue: name }), { priority: 7 });
    const raw = await fx.raw.lrange(name, 0, -1);
    expect(raw).toHaveLength(1);
    expect(raw[0]).toBe(JSON.stringify(env));
    expect(parseEnvelope(raw[0])).toEqual(env);
    expect(await fx.raw.llen(`${name}\x06\x166`)).toBe(1);
    expect(await fx.raw.llen(`${name}\x06\x169`)).toBe(0);
    const members = await fx.raw.smembersBuffer(`_kombu.binding.${name}`);
    expect(members.map((m) => m.toString("latin1"))).toEqual([`${name}\x06\x16\x06\x16${name}`]);
    expect(await b.queues()).toContain(name);
  });

  it("records a delivery in unacked (JSON [message, exchange, routing_key]) and unacked_index, and ack removes both", async () => {
    const b = await fx.broker();
    const name = q("unacked");
    const env = buildTaskMessage("demo.add", { args: [1], queue: name });
    await b.publish(name, env);
    const got: Delivery[] = [];
    b.consume([name], { prefetch: 1 }, (d) => got.push(d));
    await waitFor(() => got.length === 1, "delivery");
    const tag = env.properties.delivery_tag;
    expect(got[0].deliveryTag).toBe(tag);
    const value = await fx.raw.hget("unacked", tag);
    expect(JSON.parse(value!)).toEqual([env, "", name]);
    const score = Number(await fx.raw.zscore("unacked_index", tag));
    expect(Math.abs(score - Date.now() / 1000)).toBeLessThan(5);
    expect((await b.queueLengths([name]))[0]).toMatchObject({ messages: 0, unacked: 1 });
    await got[0].ack();
    expect(await fx.raw.hexists("unacked", tag)).toBe(0);
    expect(await fx.raw.zscore("unacked_index", tag)).toBeNull();
  });

  it.skipIf(!HAVE_VECTORS)("consumes Celery's own captured task messages LPUSHed raw", async () => {
    const lines = loadLines<VectorLine>("task-messages").filter((l) => l.command === "LPUSH" && l.channel_or_key === "celery").slice(0, 6);
    expect(lines.length).toBeGreaterThan(0);
    const b = await fx.broker();
    for (const l of lines) await fx.raw.lpush("celery", l.raw);
    const got: Delivery[] = [];
    b.consume(["celery"], { prefetch: 10 }, (d) => got.push(d));
    await waitFor(() => got.length === lines.length, "all captured messages");
    for (let i = 0; i < lines.length; i++) {
      const want = JSON.parse(lines[i].raw) as { headers: { id: string; task: string } };
      expect(got[i].envelope).toEqual(want);
      const msg = parseTaskMessage(got[i].envelope);
      expect(msg.headers.id).toBe(want.headers.id);
      expect(msg.headers.task).toBe(want.headers.task);
      expect([msg.args, msg.kwargs]).toEqual((lines[i].decoded as unknown[]).slice(0, 2));
      // The unacked value embeds the message exactly as Celery wrote it.
      expect(JSON.parse((await fx.raw.hget("unacked", got[i].deliveryTag))!)).toEqual([want, "", "celery"]);
      await got[i].ack();
    }
  });

  it("a message that is not an envelope is dropped and counted, and the consumer carries on", async () => {
    const b = await fx.broker();
    const name = q("poison");
    await fx.raw.lpush(name, "{not json");
    await b.publish(name, buildTaskMessage("demo.add", { args: [1], queue: name }));
    const got: Delivery[] = [];
    b.consume([name], { prefetch: 5 }, (d) => got.push(d));
    await waitFor(() => got.length === 1, "the good message");
    expect(b.rejectedMessages).toBe(1);
  });

  it("requeue RPUSHes our stored copy back, marked redelivered, with the same delivery tag", async () => {
    const b = await fx.broker();
    const name = q("requeue");
    const env = buildTaskMessage("demo.add", { args: [1], queue: name });
    await b.publish(name, env);
    const got: Delivery[] = [];
    const c = b.consume([name], { prefetch: 1 }, (d) => got.push(d));
    await waitFor(() => got.length === 1, "delivery");
    await c.cancel();
    await got[0].requeue();
    const [raw] = await fx.raw.lrange(name, 0, -1);
    const back = JSON.parse(raw) as typeof env;
    expect(back.headers.redelivered).toBe(true);
    expect(back.properties.delivery_info.redelivered).toBe(true);
    expect(back.properties.delivery_tag).toBe(env.properties.delivery_tag);
    expect(await fx.raw.hexists("unacked", env.properties.delivery_tag)).toBe(0);
  });
});
