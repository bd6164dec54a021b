import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { MemoryBroker } from "../lib/broker/memory/index";
import { MemoryResultBackend } from "../lib/broker/memory/results";
import { Client } from "../lib/engine/client";
import { parseWorkerCli, startWorker, type WorkerCliConfig } from "./worker-cli";

const ROOT = path.resolve(import.meta.dirname, "..");
const FIXTURE = "lib/engine/pool/fixtures/tasks.ts";

function run(argv: string[], env: Record<string, string> = {}): { config: WorkerCliConfig; warnings: string[] } {
  const r = parseWorkerCli(argv, env, ROOT);
  if (r.kind !== "run") throw new Error(`expected run, got ${JSON.stringify(r)}`);
  return r;
}

function exit(argv: string[], env: Record<string, string> = {}) {
  const r = parseWorkerCli(argv, env, ROOT);
  if (r.kind !== "exit") throw new Error("expected an exit");
  return r;
}

describe("parseWorkerCli", () => {
  it("takes Celery's global_keyprefix from the flag or PETAL_GLOBAL_KEYPREFIX", () => {
    expect(run(["-A", FIXTURE, "--global-keyprefix", "pfx:"]).config.globalKeyprefix).toBe("pfx:");
    expect(run(["-A", FIXTURE], { PETAL_GLOBAL_KEYPREFIX: "env:" }).config.globalKeyprefix).toBe("env:");
    expect(run(["-A", FIXTURE]).config.globalKeyprefix).toBeUndefined();
  });

  it("reads Celery's flags", () => {
    const { config, warnings } = run(["--broker", "redis://h:6379/1", "-A", FIXTURE, "-c", "3", "-Q", "celery,images", "-Q", "video", "-n", "w1@%h", "-P", "threads", "-l", "WARNING"]);
    expect(config).toMatchObject({
      broker: "redis://h:6379/1",
      results: "redis://h:6379/1",
      app: pathToFileURL(path.join(ROOT, FIXTURE)).href,
      concurrency: 3,
      queues: ["celery", "images", "video"],
      hostname: "w1@%h",
      pool: "threads",
      logLevel: "warn",
      taskEvents: true,
    });
    expect(warnings).toEqual([]);
  });

  it("has Celery's defaults, and the broker from env", () => {
    const { config } = run(["--app", FIXTURE], { CELERY_BROKER_URL: "redis://env:6379/2" });
    expect(config).toMatchObject({
      broker: "redis://env:6379/2",
      concurrency: os.availableParallelism(),
      queues: ["celery"],
      hostname: "celery@%h",
      pool: "async",
      logLevel: "info",
      heartbeatInterval: 2,
      prefetchMultiplier: 4,
      shutdownTimeout: 30,
    });
    expect(run(["--app", FIXTURE], {}).config.broker).toBe("redis://127.0.0.1:6379/0");
    expect(run(["--app", FIXTURE, "-b", "redis://flag/0"], { PETAL_BROKER: "redis://env/0" }).config.broker).toBe("redis://flag/0");
  });

  it("maps Celery pool names, and can turn task events off", () => {
    expect(run(["-A", FIXTURE, "-P", "prefork"]).config.pool).toBe("threads");
    expect(run(["-A", FIXTURE, "-P", "solo"]).config.pool).toBe("async");
    expect(run(["-A", FIXTURE, "--no-task-events"]).config.taskEvents).toBe(false);
    expect(run(["-A", FIXTURE, "-E"]).config.taskEvents).toBe(true);
  });

  it("warns about memory:// and Celery flags without effect", () => {
    const { warnings } = run(["-A", FIXTURE, "-b", "memory://", "--without-gossip", "--without-heartbeat"]);
    expect(warnings.join("\n")).toMatch(/--without-heartbeat/);
    expect(warnings.join("\n")).toMatch(/--without-gossip/);
    expect(warnings.join("\n")).toMatch(/memory:\/\/ lives inside this process/);
  });

  it.each([
    [["-b", "redis://x/0"], /missing --app/],
    [["-A", FIXTURE, "-c", "0"], /invalid concurrency/],
    [["-A", FIXTURE, "-P", "gevent2"], /invalid pool/],
    [["-A", FIXTURE, "-b", "amqp://guest@h//"], /invalid broker URL/],
    [["-A", FIXTURE, "-l", "loud"], /invalid log level/],
    [["-A", FIXTURE, "-Q", ","], /no queue named/],
    [["-A", FIXTURE, "--bogus"], /unknown option '--bogus'/],
  ])("refuses %j with exit 2", (argv, message) => {
    const r = exit(argv);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(message);
  });

  it("prints help on --help", () => {
    const r = exit(["--help"]);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/--concurrency/);
  });
});

describe("startWorker", () => {
  it.each(["async", "threads"] as const)("runs the app's tasks with the %s pool and stops warm", async (pool) => {
    const broker = new MemoryBroker();
    await broker.connect();
    const results = new MemoryResultBackend();
    const { config } = run(["-A", FIXTURE, "-b", "memory://", "-P", pool, "-c", "2", "-n", "cli@test"]);
    const w = await startWorker(config, { broker, results });
    expect(w.registry.names()).toContain("pool.add");
    const client = new Client({ broker, results });
    expect(await (await client.sendTask("pool.add", [20, 22])).get({ timeout: 5000 })).toBe(42);
    await w.stop();
    expect(w.worker.state).toBe("stopped");
    await results.close();
    await broker.close();
  });

  it("fails to start on a module without the default export", async () => {
    const { config } = run(["-A", "lib/engine/pool/fixtures/broken.ts", "-b", "memory://"]);
    await expect(startWorker(config, { broker: new MemoryBroker(), results: new MemoryResultBackend() })).rejects.toThrow(/no default export/);
  });
});

describe("petal worker process", () => {
  it("starts, prints its banner and exits 0 on SIGTERM (warm shutdown)", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts", "worker", "-b", "memory://", "-A", FIXTURE, "-P", "threads", "-c", "1", "-n", "proc@test"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!stdout.includes("ready") && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(stdout).toMatch(/petal worker proc@test ready: broker memory:\/\/, pool threads × 1, queues celery, tasks .*pool\.add/);
    expect(stderr).toMatch(/warning: memory:\/\//);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/warm shutdown/);
  });
});
