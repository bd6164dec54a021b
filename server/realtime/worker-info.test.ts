import { afterEach, describe, expect, it, vi } from "vitest";
import { createTestContext, type TestContext } from "../http/test-context";
import { toWorkerInspect, WorkerInspector } from "./worker-info";

let t: TestContext | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.close();
  t = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("WorkerInspector", () => {
  it("fills a worker's pool size and queues from its inspect replies", async () => {
    t = await createTestContext({ workers: [{ hostname: "w7@test", concurrency: 3, queues: ["celery", "images"] }] });
    const inspector = new WorkerInspector(t.ctx);
    const rec = t.ctx.state.getWorker("w7@test")!;
    expect(inspector.enrich(rec).concurrency ?? null).toBeNull(); // events alone do not say
    await t.waitFor(() => inspector.version > 0, 3000, "inspect reply");
    const w = inspector.enrich(t.ctx.state.getWorker("w7@test")!);
    expect(w.concurrency).toBe(3);
    expect(w.queues).toEqual(["celery", "images"]);
    // a second look within maxAge does not ask again
    inspector.enrich(rec);
    await sleep(300);
    expect(inspector.version).toBe(1);
  });

  it("attaches the live inspect answer: registered, active, scheduled, stats, no missing calls", async () => {
    t = await createTestContext({ workers: [{ hostname: "w8@test", concurrency: 2 }] });
    const slow = await t.ctx.client.sendTask("test.slow", [30]);
    const later = await t.ctx.client.sendTask("test.add", [1, 2], {}, { countdown: 60 });
    await t.waitFor(() => t!.ctx.state.getTask(slow.id)?.state === "STARTED", 3000, "slow started");
    await t.waitFor(() => t!.ctx.state.getTask(later.id)?.state === "RECEIVED", 3000, "countdown received");
    const inspector = new WorkerInspector(t.ctx);
    inspector.enrich(t.ctx.state.getWorker("w8@test")!);
    await t.waitFor(() => inspector.version > 0, 3000, "inspect reply");
    const i = inspector.enrich(t.ctx.state.getWorker("w8@test")!).inspect!;
    expect(i.missing).toEqual([]);
    expect(i.timestamp).toBeGreaterThan(Date.now() / 1000 - 5);
    expect(i.registered).toEqual(expect.arrayContaining(["test.add", "test.slow"]));
    expect(i.active?.map((r) => [r.id, r.name])).toEqual([[slow.id, "test.slow"]]);
    expect(i.scheduled?.map((s) => s.request.id)).toEqual([later.id]);
    expect(typeof i.scheduled?.[0]?.eta).toBe("string");
    expect((i.stats?.pool as Record<string, unknown>)["max-concurrency"]).toBe(2);
    expect(i.active_queues?.map((q) => q.name)).toEqual(["celery"]);
    expect(Array.isArray(i.reserved)).toBe(true);
    expect(Array.isArray(i.revoked)).toBe(true);
    expect(i.conf).toBeTypeOf("object");
  });

  it("refreshes again once maxAge has passed and lists calls that did not answer as missing", async () => {
    t = await createTestContext({ workers: [{ hostname: "w9@test" }] });
    const client = t.ctx.client;
    const real = client.control.bind(client);
    let dropConf = false;
    // A worker too busy to answer one call in time: the others still land, the answer is partial.
    vi.spyOn(client, "control").mockImplementation(async (method, args, opts) =>
      dropConf && method === "conf" ? {} : real(method, args, opts),
    );
    const inspector = new WorkerInspector(t.ctx, 100);
    inspector.enrich(t.ctx.state.getWorker("w9@test")!);
    await t.waitFor(() => inspector.version === 1, 3000, "first reply");
    expect(inspector.enrich(t.ctx.state.getWorker("w9@test")!).inspect?.missing).toEqual([]);
    dropConf = true;
    await sleep(150);
    inspector.enrich(t.ctx.state.getWorker("w9@test")!);
    await t.waitFor(() => inspector.version === 2, 3000, "second reply");
    const i = inspector.enrich(t.ctx.state.getWorker("w9@test")!).inspect!;
    expect(i.missing).toEqual(["conf"]);
    expect(i.conf).toBeTypeOf("object"); // the older answer stays
  });

  it("does not ask offline workers, and keeps untrusted replies to the expected shapes", async () => {
    t = await createTestContext({ workers: [{ hostname: "w10@test" }] });
    const inspector = new WorkerInspector(t.ctx);
    inspector.enrich({ ...t.ctx.state.getWorker("w10@test")!, online: false });
    await sleep(200);
    expect(inspector.version).toBe(0);

    const i = toWorkerInspect(
      { timestamp: 5, active: [{ id: "a", name: "x" }, { nope: 1 }, "junk"], scheduled: [{ eta: 3, request: { id: "b", type: "y" } }], registered: ["ok", 7], stats: [1] },
      ["conf"],
    );
    expect(i.active?.map((r) => r.id)).toEqual(["a"]);
    expect(i.scheduled).toEqual([{ eta: null, priority: null, request: { id: "b", type: "y", name: "y" } }]);
    expect(i.registered).toEqual(["ok"]);
    expect(i.stats).toBeUndefined();
    expect(i.missing).toEqual(["conf"]);
  });
});
