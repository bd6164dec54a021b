/**
 * A TS worker as a real process (`petal worker`): Celery's own tools see it like a Python
 * worker, and a kill -9 mid-task leaves the task in kombu's unacked hash for any worker to
 * restore and run again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisBroker, RedisResultBackend } from "../lib/broker/redis/index";
import { Client, TaskRegistry, Worker } from "../lib/engine";
import { validateEvent } from "../lib/protocol/events";
import { useRedisServer } from "../lib/testing/redis-fixture";
import { requireCelery, requireRedis } from "../lib/testing/redis-server";
import { waitFor } from "../lib/testing/wait";
import { PYTHON } from "./celery";

const skip = requireRedis() || requireCelery();
if (skip) console.log(`ts-worker interop skipped: ${skip}`);
const root = path.resolve(import.meta.dirname, "..");

function startPetalWorker(url: string, name: string): Promise<{ proc: ChildProcess; log: () => string }> {
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", "server/main.ts", "worker", "--broker", url, "--app", "interop/ts-tasks.ts", "-c", "2", "-n", name, "--heartbeat-interval", "0.5"],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  proc.stdout!.on("data", (b) => (out += b));
  proc.stderr!.on("data", (b) => (out += b));
  return Promise.resolve({ proc, log: () => out });
}

function run(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout!.on("data", (b) => (out += b));
    p.stderr!.on("data", (b) => (out += b));
    p.on("exit", () => resolve(out));
  });
}

describe.skipIf(!!skip)("petal worker among Celery tools", () => {
  const redis = useRedisServer();
  let broker: RedisBroker;
  let results: RedisResultBackend;
  const events: Record<string, unknown>[] = [];
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    broker = new RedisBroker(redis.url);
    results = new RedisResultBackend(redis.url);
    await broker.connect();
    await broker.subscribeEvents((b) => {
      for (const e of b.events) {
        const v = validateEvent(e);
        if (v) events.push(v as unknown as Record<string, unknown>);
      }
    });
  }, 30_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    await broker?.close();
    await results?.close();
  }, 30_000);

  it("answers `celery inspect ping` and runs a TS client's task", async () => {
    const w = await startPetalWorker(redis.url, "tsw1@interop");
    procs.push(w.proc);
    await waitFor(() => events.some((e) => e.type === "worker-online" && e.hostname === "tsw1@interop"), "worker-online", 20_000, 50);
    const out = await run(PYTHON, ["-m", "celery", "-A", "proj", "inspect", "ping", "-d", "tsw1@interop", "--timeout", "3"], { BROKER_URL: redis.url }, path.join(root, "interop"));
    expect(out).toContain("tsw1@interop: OK");
    expect(out).toContain("pong");
    const client = new Client({ broker, results });
    const r = await client.sendTask("interop.add", [20, 22]);
    expect(await r.get({ timeout: 10_000 })).toBe(42);
    w.proc.kill("SIGTERM");
    await waitFor(() => events.some((e) => e.type === "worker-offline" && e.hostname === "tsw1@interop"), "worker-offline", 15_000, 50);
  }, 60_000);

  it("kill -9 mid-task: the task is restored and run again by another worker", async () => {
    const w = await startPetalWorker(redis.url, "tsw2@interop");
    procs.push(w.proc);
    await waitFor(() => events.some((e) => e.type === "worker-online" && e.hostname === "tsw2@interop"), "worker-online", 20_000, 50);
    const client = new Client({ broker, results });
    const r = await client.sendTask("interop.sleep", [2]);
    await waitFor(() => events.some((e) => e.type === "task-started" && e.uuid === r.id && e.hostname === "tsw2@interop"), "task-started", 15_000, 50);
    w.proc.kill("SIGKILL");
    await new Promise((res) => w.proc.once("exit", res));
    expect(await results.get(r.id)).toBeNull();

    // A fresh worker whose broker treats anything unacked for over 1 s as stale restores it.
    const b2 = new RedisBroker(redis.url, { visibilityTimeout: 1, restoreIntervalMs: 500 });
    const registry = new TaskRegistry();
    registry.register("interop.sleep", (ctx) => `restored after ${ctx.args[0]}`, { acksLate: true });
    const rescuer = new Worker({ broker: b2, results, registry, hostname: "rescuer@interop", concurrency: 1, heartbeatInterval: 0.5 });
    await b2.connect();
    await rescuer.start();
    try {
      expect(await r.get({ timeout: 15_000 })).toBe("restored after 2");
      const received = events.filter((e) => e.type === "task-received" && e.uuid === r.id).map((e) => e.hostname);
      expect(received).toEqual(["tsw2@interop", "rescuer@interop"]);
    } finally {
      await rescuer.stop({ graceful: false });
      await b2.close();
    }
  }, 60_000);
});
