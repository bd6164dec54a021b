/**
 * Celery's global_keyprefix (kombu's broker_transport_options) from the command line: the
 * dashboard started with --global-keyprefix monitors and drives a real Celery worker that uses
 * one, and `petal worker --global-keyprefix` runs a Python client's task. Result keys stay
 * unprefixed, as Celery 5.2's backend writes them.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useRedisServer } from "../lib/testing/redis-fixture";
import { requireCelery, requireRedis } from "../lib/testing/redis-server";
import { startTestServer, type TestServer } from "../server/realtime/testing";
import { parseWorkerCli, startWorker } from "../server/worker-cli";
import { celerySend, startCeleryWorker, until, type CeleryWorker } from "./celery";

const skip = requireRedis() || requireCelery();
if (skip) console.log(`interop skipped: ${skip}`);

const PREFIX = "pfx:";
const ENV = { GLOBAL_KEYPREFIX: PREFIX };

describe.skipIf(!!skip)("global_keyprefix from the command line, with real Celery", () => {
  const redis = useRedisServer();
  const closers: (() => Promise<unknown>)[] = [];
  let py: CeleryWorker;
  let server: TestServer;
  const api = (p: string, init?: RequestInit) => fetch(server.url + p, init);

  beforeAll(async () => {
    py = await startCeleryWorker(redis.url, { name: "pfx1@interop", concurrency: 2, env: ENV });
    closers.push(() => py.stop());
    server = await startTestServer({ broker: redis.url, demo: false, globalKeyprefix: PREFIX });
    closers.push(() => server.close());
  }, 60_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }, 60_000);

  it("the dashboard sees the prefixed worker and its tasks, and sends tasks it runs", async () => {
    await until(async () => ((await (await api("/api/workers?status=1")).json()) as Record<string, boolean>)["pfx1@interop"], 20_000, "pfx1 online in Petal");
    // Inspect goes through the prefixed pidbox: the worker answers (and names its tasks, which
    // async-apply checks).
    const live = (await (await api("/api/workers?refresh=1")).json()) as Record<string, { stats?: unknown; registered?: string[] }>;
    expect(live["pfx1@interop"]?.stats).toBeTruthy();
    expect(live["pfx1@interop"]?.registered).toContain("proj.add");
    const res = await api("/api/task/async-apply/proj.add", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ args: [20, 22] }) });
    expect(res.status).toBe(200);
    const { "task-id": id } = (await res.json()) as { "task-id": string };
    const t = await until(async () => {
      const r = await api(`/api/task/info/${id}`);
      const body = r.status === 200 ? ((await r.json()) as Record<string, unknown>) : null;
      return body?.state === "SUCCESS" && body;
    }, 20_000, "proj.add SUCCESS");
    expect(t).toMatchObject({ name: "proj.add", result: "42", worker: "pfx1@interop" });
    // The queue and its binding live under the prefix; the result where Celery 5.2 writes it.
    expect(await redis.raw.exists(`${PREFIX}_kombu.binding.celery`)).toBe(1);
    expect(await redis.raw.exists("_kombu.binding.celery")).toBe(0);
    expect(await redis.raw.exists(`celery-task-meta-${id}`)).toBe(1);
  }, 60_000);

  it("`petal worker --global-keyprefix` runs a prefixed Python client's task", async () => {
    const cli = parseWorkerCli(
      ["--broker", redis.url, "-A", "lib/engine/pool/fixtures/tasks.ts", "-n", "tspfx@interop", "-Q", "pfxq", "--global-keyprefix", PREFIX],
      {},
      path.resolve(import.meta.dirname, ".."),
    );
    if (cli.kind !== "run") throw new Error("expected a config");
    const w = await startWorker(cli.config, { logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    closers.push(() => w.stop({ graceful: false }));
    const r = await celerySend(redis.url, "pool.add", [2, 3], {}, "pfxq", 20, ENV);
    expect(r).toMatchObject({ state: "SUCCESS", result: 5 });
    expect(await redis.raw.exists(`${PREFIX}_kombu.binding.pfxq`)).toBe(1);
  }, 60_000);
});
