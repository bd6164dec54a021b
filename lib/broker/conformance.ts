/**
 * The one conformance suite every Broker transport must pass (BullMQ-style: same tests per
 * adapter). Call it from a transport's test file:
 *
 *   runBrokerConformance("memory", async () => new MemoryBroker());
 *
 * The suite calls connect() on each broker it gets and closes every one after each test. It
 * uses unique queue names and host names per test and never relies on timing below ~100 ms, so
 * a networked transport (redis://, with its 1 s BRPOP loop) passes it unchanged.
 * After close() a broker must reject further operations (publish/publishEvent/broadcast…) and
 * treat a second close() and late ack/reject/requeue calls as no-ops.
 */
import { afterEach, describe, expect, it } from "vitest";
import { controlRequest, matchesDestination, ok } from "../protocol/control";
import type { ControlReply } from "../protocol/types";
import { activeTimers, argOf, heartbeat, idOf, sleep, task, taskStarted, unique, waitFor } from "./conformance-helpers";
import type { Broker, Delivery, IncomingControl, RawEventBatch } from "./types";

export function runBrokerConformance(name: string, factory: () => Promise<Broker>): void {
  describe(`Broker conformance: ${name}`, () => {
    const open: Broker[] = [];
    const make = async (): Promise<Broker> => {
      const b = await factory();
      open.push(b);
      await b.connect();
      return b;
    };
    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((b) => b.close()));
    });

    describe("queues", () => {
      it("publish then consume is FIFO", async () => {
        const b = await make();
        const q = unique("fifo");
        for (let i = 0; i < 5; i++) await b.publish(q, task(q, i));
        const got: string[] = [];
        b.consume([q], { prefetch: 10 }, (d) => {
          got.push(argOf(d));
          void d.ack();
        });
        await waitFor(() => got.length === 5, "5 deliveries");
        expect(got).toEqual(["0", "1", "2", "3", "4"]);
      });

      it("serves lower priority steps first (0/3/6/9), FIFO within a step", async () => {
        const b = await make();
        const q = unique("prio");
        const plan: [string, number][] = [["a", 9], ["b", 0], ["c", 5], ["d", 0], ["e", 6], ["f", 3], ["g", 12]];
        for (const [tag, priority] of plan) await b.publish(q, task(q, tag), { priority });
        const got: string[] = [];
        b.consume([q], { prefetch: 1 }, (d) => {
          got.push(argOf(d).replace(/'/g, ""));
          void d.ack();
        });
        await waitFor(() => got.length === plan.length, "all deliveries");
        expect(got).toEqual(["b", "d", "c", "f", "e", "a", "g"]);
      });

      it("honours prefetch and frees a slot on ack", async () => {
        const b = await make();
        const q = unique("prefetch");
        for (let i = 0; i < 5; i++) await b.publish(q, task(q, i));
        const got: Delivery[] = [];
        b.consume([q], { prefetch: 2 }, (d) => got.push(d));
        await waitFor(() => got.length === 2, "2 deliveries");
        await sleep(150);
        expect(got).toHaveLength(2);
        await got[0].ack();
        await waitFor(() => got.length === 3, "a third delivery after ack");
        await sleep(150);
        expect(got).toHaveLength(3);
        expect(new Set(got.map(idOf)).size).toBe(3);
      });

      for (const how of ["ack", "reject"] as const) {
        it(`${how} removes the message for good`, async () => {
          const b = await make();
          const q = unique(how);
          await b.publish(q, task(q, 1));
          const got: Delivery[] = [];
          const c = b.consume([q], { prefetch: 1 }, (d) => got.push(d));
          await waitFor(() => got.length === 1, "the delivery");
          await got[0][how]();
          await got[0].requeue(); // already settled: a no-op
          await c.cancel();
          const [len] = await b.queueLengths([q]);
          expect(len).toMatchObject({ name: q, messages: 0, unacked: 0 });
          const again: Delivery[] = [];
          b.consume([q], { prefetch: 1 }, (d) => again.push(d));
          await sleep(200);
          expect(again).toHaveLength(0);
        });
      }

      it("requeue puts the message back to be consumed next, marked redelivered", async () => {
        const b = await make();
        const q = unique("requeue");
        const first = task(q, "A");
        await b.publish(q, first);
        await b.publish(q, task(q, "B"));
        const got: Delivery[] = [];
        b.consume([q], { prefetch: 1 }, (d) => got.push(d));
        await waitFor(() => got.length === 1, "first delivery");
        expect(got[0].redelivered).toBe(false);
        expect(idOf(got[0])).toBe(first.headers.id);
        await got[0].requeue();
        await waitFor(() => got.length === 2, "redelivery");
        const again = got[1];
        expect(idOf(again)).toBe(first.headers.id);
        expect(again.redelivered).toBe(true);
        expect(again.deliveryTag).toBe(got[0].deliveryTag);
        expect(again.envelope.headers.redelivered).toBe(true);
        expect(again.envelope.properties.delivery_info.redelivered).toBe(true);
        await again.ack();
        await waitFor(() => got.length === 3, "the second message");
        expect(argOf(got[2])).toBe("'B'");
        expect(got[2].redelivered).toBe(false);
      });

      it("two consumers share the work with no duplicates", async () => {
        const b = await make();
        const q = unique("share");
        for (let i = 0; i < 20; i++) await b.publish(q, task(q, i));
        const seen: string[][] = [[], []];
        for (const k of [0, 1]) {
          b.consume([q], { prefetch: 2 }, (d) => {
            seen[k].push(idOf(d));
            setTimeout(() => void d.ack(), 10);
          });
        }
        await waitFor(() => seen[0].length + seen[1].length === 20, "20 deliveries");
        await sleep(100);
        const all = [...seen[0], ...seen[1]];
        expect(all).toHaveLength(20);
        expect(new Set(all).size).toBe(20);
        expect(seen[0].length).toBeGreaterThan(0);
        expect(seen[1].length).toBeGreaterThan(0);
      });

      it("addQueue and removeQueue change what a consumer receives", async () => {
        const b = await make();
        const qa = unique("qa");
        const qb = unique("qb");
        const got: Delivery[] = [];
        const c = b.consume([qa], { prefetch: 5 }, (d) => {
          got.push(d);
          void d.ack();
        });
        c.addQueue(qb);
        expect(c.queues).toEqual([qa, qb]);
        await b.publish(qb, task(qb, 1));
        await waitFor(() => got.length === 1, "delivery from the added queue");
        expect(got[0].queue).toBe(qb);
        c.removeQueue(qa);
        expect(c.queues).toEqual([qb]);
        await b.publish(qa, task(qa, 2));
        await sleep(200);
        expect(got).toHaveLength(1);
        expect((await b.queueLengths([qa]))[0].messages).toBe(1);
      });

      it("cancel stops delivery", async () => {
        const b = await make();
        const q = unique("cancel");
        const got: Delivery[] = [];
        const c = b.consume([q], { prefetch: 5 }, (d) => {
          got.push(d);
          void d.ack();
        });
        await b.publish(q, task(q, 1));
        await waitFor(() => got.length === 1, "first delivery");
        await c.cancel();
        await b.publish(q, task(q, 2));
        await sleep(200);
        expect(got).toHaveLength(1);
        expect((await b.queueLengths([q]))[0].messages).toBe(1);
      });

      it("queueLengths counts ready messages per priority step and unacked ones", async () => {
        const b = await make();
        const q = unique("lengths");
        for (const p of [0, 4, 9, 9]) await b.publish(q, task(q, p), { priority: p });
        expect(await b.queues()).toContain(q);
        const got: Delivery[] = [];
        b.consume([q], { prefetch: 1 }, (d) => got.push(d));
        await waitFor(() => got.length === 1, "one delivery");
        await sleep(50);
        const [len] = await b.queueLengths([q]);
        expect(len.name).toBe(q);
        expect(len.messages).toBe(3);
        expect(len.byPriority).toEqual({ 0: 0, 3: 1, 6: 0, 9: 2 });
        expect(len.unacked).toBe(1);
        const missing = unique("missing");
        expect((await b.queueLengths([missing]))[0]).toMatchObject({ name: missing, messages: 0 });
        await got[0].ack();
        await waitFor(() => got.length === 2, "next delivery");
      });

      it("purge drops ready messages, leaves unacked ones, returns the count", async () => {
        const b = await make();
        const q = unique("purge");
        for (let i = 0; i < 4; i++) await b.publish(q, task(q, i));
        const got: Delivery[] = [];
        b.consume([q], { prefetch: 1 }, (d) => got.push(d));
        await waitFor(() => got.length === 1, "one delivery");
        await sleep(50);
        expect(await b.purge(q)).toBe(3);
        expect((await b.queueLengths([q]))[0]).toMatchObject({ messages: 0, unacked: 1 });
        expect(await b.purge(q)).toBe(0);
        await got[0].ack();
        await sleep(150);
        expect(got).toHaveLength(1);
      });

      it("a consumer's changes never reach the publisher's object or a redelivery", async () => {
        const b = await make();
        const q = unique("copy");
        const env = task(q, 1);
        const before = JSON.stringify(env);
        await b.publish(q, env);
        env.headers.task = "changed.after.publish";
        const got: Delivery[] = [];
        b.consume([q], { prefetch: 1 }, (d) => got.push(d));
        await waitFor(() => got.length === 1, "delivery");
        expect(got[0].envelope.headers.task).toBe("conformance.task");
        got[0].envelope.headers.task = "changed.by.consumer";
        await got[0].requeue();
        await waitFor(() => got.length === 2, "redelivery");
        expect(got[1].envelope.headers.task).toBe("conformance.task");
        expect(JSON.parse(before).headers.task).toBe("conformance.task");
        await got[1].ack();
      });
    });

    describe("events", () => {
      const collect = (host: string, into: RawEventBatch[]) => (batch: RawEventBatch) => {
        const mine = batch.events.filter((e) => (e as { hostname?: unknown }).hostname === host);
        if (mine.length > 0) into.push({ events: mine, routingKey: batch.routingKey });
      };

      it("fans out to every subscriber in order, single events and task.multi batches", async () => {
        const b = await make();
        const host = unique("w") + "@test";
        const got: RawEventBatch[][] = [[], []];
        await b.subscribeEvents(collect(host, got[0]));
        await b.subscribeEvents(collect(host, got[1]));
        await b.publishEvent(host, heartbeat(host, 1));
        await b.publishEvent(host, heartbeat(host, 2));
        await b.publishEvent(host, [taskStarted(host, "t1"), taskStarted(host, "t2")]);
        await b.publishEvent(host, heartbeat(host, 3));
        await waitFor(() => got[0].length === 4 && got[1].length === 4, "4 batches each");
        for (const batches of got) {
          expect(batches.map((x) => x.routingKey)).toEqual(["worker.heartbeat", "worker.heartbeat", "task.multi", "worker.heartbeat"]);
          expect(batches.map((x) => x.events.length)).toEqual([1, 1, 2, 1]);
          expect(batches.map((x) => (x.events[0] as { clock: number }).clock)).toEqual([1, 2, 1, 3]);
          expect((batches[2].events[1] as { uuid: string }).uuid).toBe("t2");
        }
        expect(got[0][0].events[0]).not.toBe(got[1][0].events[0]);
      });

      it("delivers asynchronously, and a throwing subscriber harms nobody", async () => {
        const b = await make();
        const host = unique("w") + "@test";
        let thrown = 0;
        const got: RawEventBatch[] = [];
        await b.subscribeEvents((batch) => {
          if (batch.events.some((e) => (e as { hostname?: unknown }).hostname === host)) {
            thrown++;
            throw new Error("subscriber failure (expected by the conformance suite)");
          }
        });
        await b.subscribeEvents(collect(host, got));
        const p = b.publishEvent(host, heartbeat(host, 1));
        expect(got).toHaveLength(0);
        await p;
        await b.publishEvent(host, heartbeat(host, 2));
        await waitFor(() => got.length === 2, "both events despite the thrower");
        expect(thrown).toBe(2);
      });

      it("a closed subscription receives nothing more", async () => {
        const b = await make();
        const host = unique("w") + "@test";
        const closedOne: RawEventBatch[] = [];
        const live: RawEventBatch[] = [];
        const sub = await b.subscribeEvents(collect(host, closedOne));
        await b.subscribeEvents(collect(host, live));
        await sub.close();
        await b.publishEvent(host, heartbeat(host, 1));
        await waitFor(() => live.length === 1, "live subscriber");
        await sleep(150);
        expect(closedOne).toHaveLength(0);
      });
    });

    describe("remote control", () => {
      /** a worker-like listener: filters by destination, replies `{node: ok(pong)}` to ping */
      const worker = (node: string, seen: IncomingControl[], replyToPing = true) => (c: IncomingControl) => {
        if (!matchesDestination(c.request, node)) return;
        seen.push(c);
        if (replyToPing && c.request.method === "ping") void c.reply({ [node]: ok("pong") });
      };
      const nodes = (replies: ControlReply[]) => replies.map((r) => Object.keys(r)[0]).sort();

      it("broadcast reaches every listener and collects their replies", async () => {
        const b = await make();
        const [na, nb] = [unique("a") + "@test", unique("b") + "@test"];
        const seenA: IncomingControl[] = [];
        const seenB: IncomingControl[] = [];
        await b.listenControl(worker(na, seenA));
        await b.listenControl(worker(nb, seenB));
        const replies = await b.broadcast(controlRequest("ping", {}), { timeout: 400 });
        expect(nodes(replies)).toEqual([na, nb].sort());
        expect(replies.find((r) => na in r)).toEqual({ [na]: { ok: "pong" } });
        const req = seenA[0].request;
        expect(typeof req.ticket).toBe("string");
        expect(req.reply_to?.exchange).toBe("reply.celery.pidbox");
        expect(seenB[0].request.ticket).toBe(req.ticket);
      });

      it("stops as soon as `limit` replies arrived (default: the destination count)", async () => {
        const b = await make();
        const [na, nb] = [unique("a") + "@test", unique("b") + "@test"];
        await b.listenControl(worker(na, []));
        await b.listenControl(worker(nb, []));
        let t0 = Date.now();
        const one = await b.broadcast(controlRequest("ping", {}), { timeout: 5000, limit: 1 });
        expect(one).toHaveLength(1);
        expect(Date.now() - t0).toBeLessThan(2500);
        t0 = Date.now();
        const toA = await b.broadcast(controlRequest("ping", {}, { destination: [na] }), { timeout: 5000 });
        expect(nodes(toA)).toEqual([na]);
        expect(Date.now() - t0).toBeLessThan(2500);
      });

      it("the timeout bounds the wait when nobody replies", async () => {
        const b = await make();
        const seen: IncomingControl[] = [];
        await b.listenControl(worker(unique("quiet") + "@test", seen, false));
        const t0 = Date.now();
        const replies = await b.broadcast(controlRequest("ping", {}), { timeout: 300 });
        const took = Date.now() - t0;
        expect(replies).toEqual([]);
        expect(took).toBeGreaterThanOrEqual(250);
        expect(took).toBeLessThan(2500);
        expect(seen).toHaveLength(1);
      });

      it("without a reply requested it resolves [] at once and sends no ticket", async () => {
        const b = await make();
        const node = unique("a") + "@test";
        const seen: IncomingControl[] = [];
        await b.listenControl(worker(node, seen));
        const t0 = Date.now();
        const replies = await b.broadcast(controlRequest("ping", {}), { reply: false, timeout: 5000 });
        expect(replies).toEqual([]);
        expect(Date.now() - t0).toBeLessThan(1000);
        await waitFor(() => seen.length === 1, "the request");
        expect("ticket" in seen[0].request).toBe(false);
        expect("reply_to" in seen[0].request).toBe(false);
        await expect(seen[0].reply({ [node]: ok("ignored") })).resolves.toBeUndefined();
      });

      it("a closed control listener receives nothing more", async () => {
        const b = await make();
        const seenClosed: IncomingControl[] = [];
        const seenLive: IncomingControl[] = [];
        const sub = await b.listenControl(worker(unique("a") + "@test", seenClosed));
        await b.listenControl(worker(unique("b") + "@test", seenLive));
        await sub.close();
        const replies = await b.broadcast(controlRequest("ping", {}), { timeout: 300 });
        expect(replies).toHaveLength(1);
        expect(seenLive).toHaveLength(1);
        expect(seenClosed).toHaveLength(0);
      });
    });

    describe("lifecycle", () => {
      it("close() settles pending work, leaves no timers, and later use rejects", async () => {
        await sleep(30);
        const timersBefore = activeTimers();
        const b = await factory();
        await b.connect();
        const q = unique("close");
        await b.publish(q, task(q, 1));
        const got: Delivery[] = [];
        b.consume([q], { prefetch: 1 }, (d) => got.push(d));
        await b.subscribeEvents(() => {});
        await b.listenControl(() => {});
        await waitFor(() => got.length === 1, "delivery");
        const pending = b.broadcast(controlRequest("ping", {}), { timeout: 10_000 });
        await sleep(20);
        const t0 = Date.now();
        await b.close();
        await expect(pending).resolves.toEqual([]);
        expect(Date.now() - t0).toBeLessThan(2000);
        await expect(b.close()).resolves.toBeUndefined();
        await expect(got[0].ack()).resolves.toBeUndefined();
        await expect(b.publish(q, task(q, 2))).rejects.toThrow();
        await expect(b.publishEvent("x@test", heartbeat("x@test", 1))).rejects.toThrow();
        await expect(b.broadcast(controlRequest("ping", {}))).rejects.toThrow();
        await sleep(30);
        expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
      });
    });
  });
}
