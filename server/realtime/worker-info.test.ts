import { afterEach, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../http/test-context";
import { WorkerInspector } from "./worker-info";

let t: TestContext | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

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
    await new Promise((r) => setTimeout(r, 300));
    expect(inspector.version).toBe(1);
  });
});
