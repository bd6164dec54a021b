import { describe, expect, it, vi } from "vitest";
import { buildTaskMessage } from "../../protocol/task-message";
import { runBrokerConformance } from "../conformance";
import { runDeadLetterConformance } from "../conformance-dead-letters";
import { BrokerClosedError } from "../errors";
import type { Delivery } from "../types";
import { Deque } from "./deque";
import { MemoryBroker, priorityStep } from "./index";

runBrokerConformance("memory", async () => new MemoryBroker({ onError: () => {} }));
runDeadLetterConformance("memory", async () => new MemoryBroker({ onError: () => {} }));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const task = (n: number) => buildTaskMessage("mem.task", { args: [n] });

describe("MemoryBroker specifics", () => {
  it("describes itself", () => {
    const b = new MemoryBroker();
    expect(b.url).toBe("memory://");
    expect(b.capabilities).toEqual({ durable: false, crossProcess: false, priority: true });
  });

  it("rounds priorities down to kombu's steps and clamps to 0..9", () => {
    expect([-1, 0, 2, 3, 4, 5, 6, 8, 9, 12, NaN, "7"].map(priorityStep)).toEqual([0, 0, 0, 3, 3, 3, 6, 6, 9, 9, 0, 0]);
  });

  it("takes the envelope's priority when PublishOptions has none", async () => {
    const b = new MemoryBroker();
    await b.publish("q", buildTaskMessage("t", { priority: 7 }));
    expect((await b.queueLengths(["q"]))[0].byPriority).toEqual({ 0: 0, 3: 0, 6: 1, 9: 0 });
    await b.close();
  });

  it("serves consumers of one queue strictly round-robin", async () => {
    const b = new MemoryBroker();
    const order: string[] = [];
    for (const name of ["a", "b", "c"]) {
      b.consume(["rr"], { prefetch: 0 }, (d) => {
        order.push(name);
        void d.ack();
      });
    }
    for (let i = 0; i < 6; i++) await b.publish("rr", task(i));
    await vi.waitFor(() => expect(order).toHaveLength(6));
    expect(order).toEqual(["a", "b", "c", "a", "b", "c"]);
    await b.close();
  });

  it("alternates between the queues of one consumer", async () => {
    const b = new MemoryBroker();
    for (let i = 0; i < 3; i++) await b.publish("x", task(i));
    for (let i = 0; i < 3; i++) await b.publish("y", task(i));
    const got: string[] = [];
    b.consume(["x", "y"], { prefetch: 0 }, (d) => got.push(d.queue));
    await vi.waitFor(() => expect(got).toHaveLength(6));
    expect(got).toEqual(["x", "y", "x", "y", "x", "y"]);
    await b.close();
  });

  it("never delivers inside publish, and isolates a throwing consumer", async () => {
    const errors: string[] = [];
    const b = new MemoryBroker({ onError: (_e, where) => errors.push(where) });
    const got: Delivery[] = [];
    b.consume(["t"], { prefetch: 2 }, (d) => {
      got.push(d);
      throw new Error("boom");
    });
    const p = b.publish("t", task(1));
    expect(got).toHaveLength(0);
    await p;
    await b.publish("t", task(2));
    await vi.waitFor(() => expect(got).toHaveLength(2));
    expect(errors).toEqual(["consumer handler", "consumer handler"]);
    expect((await b.queueLengths(["t"]))[0].unacked).toBe(2);
    await b.close();
  });

  it("raises the limit with setPrefetch and treats 0 as unlimited", async () => {
    const b = new MemoryBroker();
    for (let i = 0; i < 10; i++) await b.publish("p", task(i));
    const got: Delivery[] = [];
    const c = b.consume(["p"], { prefetch: 1 }, (d) => got.push(d));
    await vi.waitFor(() => expect(got).toHaveLength(1));
    c.setPrefetch(3);
    await vi.waitFor(() => expect(got).toHaveLength(3));
    c.setPrefetch(0);
    await vi.waitFor(() => expect(got).toHaveLength(10));
    expect(() => c.setPrefetch(-1)).toThrow(RangeError);
    await b.close();
  });

  it("refuses something that is not an envelope", async () => {
    const b = new MemoryBroker();
    await expect(b.publish("q", { body: 1 } as never)).rejects.toThrow(/kombu envelope/);
    await expect(b.publish("", task(1))).rejects.toThrow(TypeError);
    await expect(b.publishEvent("h", { no: "type" })).rejects.toThrow(TypeError);
    await b.close();
  });

  it("rejects with BrokerClosedError after close and reports disconnected once", async () => {
    const b = new MemoryBroker();
    const states: string[] = [];
    b.onStatus((s) => states.push(s));
    await b.close();
    await b.close();
    expect(states).toEqual(["disconnected"]);
    await expect(b.connect()).rejects.toBeInstanceOf(BrokerClosedError);
    await expect(b.queues()).rejects.toBeInstanceOf(BrokerClosedError);
    await expect(b.subscribeEvents(() => {})).rejects.toBeInstanceOf(BrokerClosedError);
    expect(() => b.consume(["q"], {}, () => {})).toThrow(BrokerClosedError);
  });

  it("does not deliver events published before a subscription", async () => {
    const b = new MemoryBroker();
    const p = b.publishEvent("h", { type: "worker-heartbeat", hostname: "h" });
    const got: unknown[] = [];
    await b.subscribeEvents((batch) => got.push(...batch.events));
    await p;
    await b.publishEvent("h", { type: "worker-heartbeat", hostname: "h2" });
    await vi.waitFor(() => expect(got).toHaveLength(1));
    await sleep(20);
    expect(got).toEqual([{ type: "worker-heartbeat", hostname: "h2" }]);
    await b.close();
  });

  it("keeps up with 100k messages (O(1) per operation)", async () => {
    const b = new MemoryBroker();
    const env = task(1);
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) await b.publish("big", env);
    let n = 0;
    b.consume(["big"], { prefetch: 0 }, (d) => {
      n++;
      void d.ack();
    });
    await vi.waitFor(() => expect(n).toBe(100_000), { timeout: 10_000 });
    expect(performance.now() - t0).toBeLessThan(8000);
    expect((await b.queueLengths(["big"]))[0]).toMatchObject({ messages: 0 });
    await b.close();
  });
});

describe("Deque", () => {
  it("pushes at both ends, shifts from the head and grows", () => {
    const d = new Deque<number>(2);
    for (let i = 0; i < 5; i++) d.push(i);
    d.unshift(-1);
    expect(d.length).toBe(6);
    const out: number[] = [];
    while (d.length) out.push(d.shift()!);
    expect(out).toEqual([-1, 0, 1, 2, 3, 4]);
    expect(d.shift()).toBeUndefined();
  });
});
