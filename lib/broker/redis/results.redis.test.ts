/** Celery's Redis result backend layout (PROTOCOL.md §4) on a real redis-server. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuid4 } from "../../protocol/envelope";
import { HAVE_VECTORS, loadLines, type VectorLine } from "../../protocol/test-vectors";
import type { ResultMeta } from "../../protocol/types";
import { requireRedis, startRedisServer, type RedisServerHandle } from "../../testing/redis-server";
import { RedisResultBackend } from "./results";
import { sleep, waitFor } from "./test-helpers";

const skip = requireRedis();

const meta = (task_id: string, status: ResultMeta["status"], result: unknown): ResultMeta => ({
  status,
  result,
  traceback: null,
  children: [],
  date_done: status === "RETRY" ? null : "2026-11-22T02:31:53.877310",
  task_id,
});

describe.skipIf(skip)("RedisResultBackend", () => {
  let server: RedisServerHandle;
  let raw: Redis;
  const backends: RedisResultBackend[] = [];
  const make = () => {
    const b = new RedisResultBackend(server.url);
    backends.push(b);
    return b;
  };
  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await raw?.quit();
    await server?.stop();
  });

  it("SETEXes celery-task-meta-<id> for 86400 s and PUBLISHes the same JSON on that channel", async () => {
    const b = make();
    const id = uuid4();
    const sub = new Redis(server.url);
    const published: string[] = [];
    sub.on("message", (_ch: string, m: string) => published.push(m));
    await sub.subscribe(`celery-task-meta-${id}`);
    const m = meta(id, "SUCCESS", 5);
    await b.store(m);
    const stored = await raw.get(`celery-task-meta-${id}`);
    expect(JSON.parse(stored!)).toEqual(m);
    expect(await raw.ttl(`celery-task-meta-${id}`)).toBeGreaterThan(86_390);
    await waitFor(() => published.length === 1, "the publish");
    expect(published[0]).toBe(stored);
    expect(await b.get(id)).toEqual(m);
    await sub.quit();
  });

  it("reads a custom state a Celery task stored (update_state PROGRESS, AbortableTask's ABORTED), not ready", async () => {
    const b = make();
    const id = uuid4();
    await raw.set(`celery-task-meta-${id}`, `{"status": "PROGRESS", "result": {"current": 3, "total": 10}, "traceback": null, "children": [], "date_done": null, "task_id": "${id}"}`);
    expect(await b.get(id)).toMatchObject({ status: "PROGRESS", result: { current: 3, total: 10 } });
    expect(await b.wait(id, 50)).toBeNull(); // not a final state: nobody waiting for the result returns yet
    await raw.set(`celery-task-meta-${id}`, `{"status": "", "result": null, "task_id": "${id}"}`);
    expect(await b.get(id)).toBeNull();
  });

  it("never overwrites a stored SUCCESS, but a RETRY is replaced", async () => {
    const b = make();
    const id = uuid4();
    await b.store(meta(id, "RETRY", null));
    await b.store(meta(id, "SUCCESS", 1));
    await b.store(meta(id, "FAILURE", { exc_type: "ValueError", exc_message: ["late"], exc_module: "builtins" }));
    expect((await b.get(id))?.status).toBe("SUCCESS");
  });

  it("wait() resolves when another process stores the result, and with null after the timeout", async () => {
    const waiter = make();
    const writer = make();
    const id = uuid4();
    const p = waiter.wait(id, 5000);
    await sleep(50);
    await writer.store(meta(id, "RETRY", null)); // not ready: keeps waiting
    await sleep(50);
    await writer.store(meta(id, "SUCCESS", 7));
    expect((await p)?.result).toBe(7);
    expect(await waiter.wait(id, 100)).toMatchObject({ status: "SUCCESS" }); // already there
    const t0 = Date.now();
    expect(await waiter.wait(uuid4(), 150)).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it.skipIf(!HAVE_VECTORS)("reads results a Celery worker wrote", async () => {
    const b = make();
    const line = loadLines<VectorLine>("results").find((l) => l.command === "SETEX")!;
    const id = line.channel_or_key.replace("celery-task-meta-", "");
    await raw.set(line.channel_or_key, line.raw);
    const got = await b.get(id);
    expect(got).toEqual(line.decoded);
  });
});
