import { describe, expect, it } from "vitest";
import type { ResultMeta } from "../../protocol/types";
import { MemoryResultBackend } from "./results";

const meta = (id: string, status: ResultMeta["status"] = "SUCCESS", result: unknown = 1): ResultMeta => ({
  status,
  result,
  traceback: null,
  children: [],
  date_done: "2026-11-22T02:31:53.877310",
  task_id: id,
});

describe("MemoryResultBackend", () => {
  it("stores and returns copies", async () => {
    const b = new MemoryResultBackend();
    const m = meta("a", "SUCCESS", { x: [1] });
    await b.store(m);
    (m.result as { x: number[] }).x.push(2);
    const got = await b.get("a");
    expect(got).toEqual(meta("a", "SUCCESS", { x: [1] }));
    (got!.result as { x: number[] }).x.push(3);
    expect((await b.get("a"))!.result).toEqual({ x: [1] });
    expect(await b.get("missing")).toBeNull();
  });

  it("never overwrites a stored SUCCESS, as Celery's backends (a re-delivered task cannot undo it)", async () => {
    const b = new MemoryResultBackend();
    await b.store(meta("s", "STARTED", null));
    await b.store(meta("s", "SUCCESS", 42));
    await b.store(meta("s", "FAILURE", "boom"));
    await b.store(meta("s", "SUCCESS", 43));
    expect(await b.get("s")).toEqual(meta("s", "SUCCESS", 42));
  });

  it("expires entries after their TTL", async () => {
    let now = 1_000;
    const b = new MemoryResultBackend({ ttlSeconds: 10, now: () => now });
    await b.store(meta("a"));
    await b.store(meta("b"), { ttlSeconds: 100 });
    now += 10_001;
    expect(await b.get("a")).toBeNull();
    expect(await b.get("b")).not.toBeNull();
  });

  it("caps entries, evicting the oldest", async () => {
    const b = new MemoryResultBackend({ maxEntries: 3 });
    for (const id of ["a", "b", "c", "d"]) await b.store(meta(id));
    expect(b.size).toBe(3);
    expect(await b.get("a")).toBeNull();
    expect(await b.get("d")).not.toBeNull();
  });

  it("wait resolves on a ready result, not on RETRY, and times out with null", async () => {
    const b = new MemoryResultBackend();
    const waiting = b.wait("t", 2_000);
    await b.store(meta("t", "RETRY", null));
    await b.store(meta("t", "FAILURE", { exc_type: "ValueError", exc_message: ["x"], exc_module: "builtins" }));
    expect((await waiting)?.status).toBe("FAILURE");
    expect((await b.wait("t", 10))?.status).toBe("FAILURE"); // already there
    const t0 = Date.now();
    expect(await b.wait("never", 30)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it("close releases waiters", async () => {
    const b = new MemoryResultBackend();
    const w = b.wait("x", 60_000);
    await b.close();
    expect(await w).toBeNull();
    await expect(b.store(meta("y"))).rejects.toThrow(/closed/);
  });
});
