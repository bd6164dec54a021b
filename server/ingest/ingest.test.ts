import { afterEach, describe, expect, it } from "vitest";
import type { Broker, RawEventBatch } from "../../lib/broker/types";
import { silentLogger } from "../log";
import { Ingest, RateMeter, type IngestTarget } from "./index";

interface FakeBroker {
  broker: Broker;
  emit(events: unknown[]): void;
  broadcasts: { method: string; reply: boolean | undefined }[];
  closed: number;
}

function fakeBroker(): FakeBroker {
  let handler: ((b: RawEventBatch) => void) | null = null;
  const fb: FakeBroker = {
    broadcasts: [],
    closed: 0,
    emit: (events) => handler?.({ events, routingKey: "task.multi" }),
    broker: {
      subscribeEvents: async (h: (b: RawEventBatch) => void) => {
        handler = h;
        return {
          close: async () => {
            handler = null;
            fb.closed++;
          },
        };
      },
      broadcast: async (req: { method: string }, opts?: { reply?: boolean }) => {
        fb.broadcasts.push({ method: req.method, reply: opts?.reply });
        return [];
      },
    } as unknown as Broker,
  };
  return fb;
}

class Target implements IngestTarget {
  calls: number[] = [];
  ticks = 0;
  throwNext = false;
  ingest(raw: unknown[]) {
    if (this.throwNext) {
      this.throwNext = false;
      throw new Error("reducer bug");
    }
    this.calls.push(raw.length);
    const rejected = raw.filter((e) => e === "bad").length;
    return { accepted: raw.length - rejected, rejected };
  }
  tick() {
    this.ticks++;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let running: Ingest[] = [];
afterEach(async () => {
  await Promise.all(running.map((i) => i.stop()));
  running = [];
});

async function setup(opts: ConstructorParameters<typeof Ingest>[3] = {}) {
  const fb = fakeBroker();
  const t = new Target();
  const ing = new Ingest(fb.broker, t, silentLogger, opts);
  running.push(ing);
  await ing.start();
  return { fb, t, ing };
}

describe("Ingest", () => {
  it("applies many small batches as one reducer call", async () => {
    const { fb, t, ing } = await setup({ flushMs: 20 });
    for (let i = 0; i < 500; i++) fb.emit([{ i }]);
    expect(t.calls).toEqual([]);
    await sleep(50);
    expect(t.calls).toEqual([500]);
    expect(ing.stats()).toMatchObject({ events: 500, accepted: 500, batches: 1, buffered: 0 });
  });

  it("flushes at once when the buffer passes maxBuffer", async () => {
    const { fb, t } = await setup({ flushMs: 10_000, maxBuffer: 1000 });
    fb.emit(new Array(600).fill({}));
    expect(t.calls).toEqual([]);
    fb.emit(new Array(600).fill({}));
    expect(t.calls).toEqual([1200]);
  });

  it("counts rejected events and survives a throwing reducer", async () => {
    const { fb, t, ing } = await setup({ flushMs: 5 });
    fb.emit([{}, "bad", {}]);
    await sleep(20);
    t.throwNext = true;
    fb.emit([{}, {}]);
    await sleep(20);
    fb.emit([{}]);
    await sleep(20);
    expect(t.calls).toEqual([3, 1]);
    expect(ing.stats()).toMatchObject({ accepted: 3, rejected: 3, events: 6 });
  });

  it("asks workers for a heartbeat without waiting for replies", async () => {
    const { fb } = await setup();
    expect(fb.broadcasts).toEqual([{ method: "heartbeat", reply: false }]);
    const quiet = await setup({ requestHeartbeat: false });
    expect(quiet.fb.broadcasts).toEqual([]);
  });

  it("ticks the state periodically", async () => {
    const { t } = await setup({ tickMs: 20 });
    await sleep(110);
    expect(t.ticks).toBeGreaterThanOrEqual(3);
  });

  it("adds the transport's undecodable payloads to the state's rejected count, as deltas", async () => {
    const { fb, t, ing } = await setup({ tickMs: 10_000 });
    const noted: number[] = [];
    (t as Target & { noteRejected(n: number): void }).noteRejected = (n) => noted.push(n);
    const counter = fb.broker as unknown as { rejectedEvents: number };
    counter.rejectedEvents = 3;
    ing.syncTransportRejects();
    ing.syncTransportRejects();
    counter.rejectedEvents = 5;
    ing.syncTransportRejects();
    expect(noted).toEqual([3, 2]);
    expect(ing.stats().rejected).toBe(5);
  });

  it("runs the poll hook at start and on its period", async () => {
    let polls = 0;
    await setup({ onPoll: async () => void polls++, pollMs: 20 });
    expect(polls).toBe(1);
    await sleep(70);
    expect(polls).toBeGreaterThanOrEqual(3);
  });

  it("applies what is buffered on stop, then ignores late events", async () => {
    const { fb, t, ing } = await setup({ flushMs: 10_000 });
    fb.emit([{}, {}, {}]);
    await ing.stop();
    expect(t.calls).toEqual([3]);
    expect(fb.closed).toBe(1);
    ing.push({ events: [{}], routingKey: "x" });
    ing.flush();
    expect(t.calls).toEqual([3]);
  });

  it("tells listeners how many events each batch applied", async () => {
    const { fb, ing } = await setup({ flushMs: 5 });
    const seen: number[] = [];
    ing.onApplied((n) => seen.push(n));
    fb.emit([{}, {}]);
    await sleep(20);
    expect(seen).toEqual([2]);
  });
});

describe("RateMeter", () => {
  it("averages complete seconds of the window", () => {
    let now = 10_000;
    const m = new RateMeter(5, () => now);
    m.add(100); // second 10
    now = 11_500;
    m.add(50); // second 11
    now = 12_000;
    expect(m.perSecond()).toBe(30); // (100 + 50) / 5
    now = 16_000; // second 10 left the window, 11 is still in
    expect(m.perSecond()).toBe(10);
    now = 30_000;
    expect(m.perSecond()).toBe(0);
  });
});
