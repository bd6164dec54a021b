/**
 * A broker that is not up yet at startup (Redis started after Petal, or restarting): the
 * transport says why it cannot connect, the dashboard serves meanwhile and shows it, and both
 * carry on once Redis answers. Real redis-server on a free port, started late. Also the other
 * end: a worker told to stop while Redis is gone still exits.
 */
import { afterAll, describe, expect, it } from "vitest";
import { BrokerConnectError } from "../lib/broker/errors";
import { RedisBroker } from "../lib/broker/redis/index";
import { waitFor } from "../lib/testing/wait";
import { freePort, requireRedis, startRedisServer, type RedisServerHandle } from "../lib/testing/redis-server";
import { spawn } from "node:child_process";
import path from "node:path";
import { parseCli } from "./cli";
import { startPetal, type RunningPetal } from "./main";
import { parseWorkerCli, startWorker, type RunningWorker } from "./worker-cli";

const ROOT = path.resolve(import.meta.dirname, "..");

const skip = requireRedis();

describe.skipIf(skip)("startup before the broker is up", () => {
  const servers: RedisServerHandle[] = [];
  const brokers: RedisBroker[] = [];
  const petals: RunningPetal[] = [];
  const workers: RunningWorker[] = [];
  afterAll(async () => {
    await Promise.allSettled(workers.map((w) => w.stop({ graceful: false })));
    await Promise.allSettled(petals.map((p) => p.close()));
    await Promise.allSettled(brokers.map((b) => b.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  it("connect() names the URL and the reason, and succeeds once Redis is up", async () => {
    const port = await freePort();
    const broker = new RedisBroker(`redis://127.0.0.1:${port}/0`, { onError: () => undefined });
    brokers.push(broker);
    const err = await broker.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BrokerConnectError);
    expect((err as Error).message).toBe(`cannot connect to redis://127.0.0.1:${port}/0: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(broker.status()).not.toBe("connected");
    servers.push(await startRedisServer({ port }));
    await broker.connect();
    expect(broker.status()).toBe("connected");
  });

  it("a password Redis refuses is not retried: its own error comes back", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const raw = new RedisBroker(server.url, { onError: () => undefined });
    brokers.push(raw);
    await raw.connect();
    await (raw as unknown as { cmd: { config(...a: string[]): Promise<unknown> } }).cmd.config("SET", "requirepass", "sekret");
    const broker = new RedisBroker(`redis://:wrong@127.0.0.1:${server.port}/0`, { onError: () => undefined });
    brokers.push(broker);
    const err = await broker.connect().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).not.toBeInstanceOf(BrokerConnectError);
    expect(err?.message).toMatch(/WRONGPASS/);
  });

  it("the dashboard serves while Redis is down, shows it, and starts monitoring once it answers", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const cli = parseCli(["--broker", url, "--port", "0", "--log-level", "error"], {});
    if (cli.kind !== "serve") throw new Error("expected a config");
    const petal = await startPetal(cli.config, { next: false });
    petals.push(petal);
    const broker = async () => (await (await fetch(`${petal.url}/api/broker`)).json()) as { status: string };
    expect((await broker()).status).not.toBe("connected");
    expect((await fetch(`${petal.url}/api/workers`)).status).toBe(200);

    servers.push(await startRedisServer({ port }));
    await waitFor(async () => (await broker()).status === "connected", "the broker page to say connected", 20_000, 100);
    // Ingest runs: a worker's event reaches the API.
    const sender = new RedisBroker(url, { onError: () => undefined });
    brokers.push(sender);
    await sender.connect();
    const now = Date.now() / 1000;
    await waitFor(
      async () => {
        await sender.publishEvent("late@host", { hostname: "late@host", utcoffset: 0, pid: 1, clock: 1, freq: 2, active: 0, processed: 0, loadavg: [0, 0, 0], sw_ident: "py-celery", sw_ver: "5.2.6", sw_sys: "Linux", timestamp: now, type: "worker-online" });
        const workers = (await (await fetch(`${petal.url}/api/workers`)).json()) as Record<string, unknown>;
        return "late@host" in workers;
      },
      "a worker-online event to reach /api/workers",
      20_000,
      200,
    );
  });

  it("close() while it still retries returns at once", async () => {
    const port = await freePort();
    const cli = parseCli(["--broker", `redis://127.0.0.1:${port}/0`, "--port", "0", "--log-level", "error"], {});
    if (cli.kind !== "serve") throw new Error("expected a config");
    const petal = await startPetal(cli.config, { next: false });
    const t0 = performance.now();
    await petal.close();
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("`petal worker` waits for the broker like Celery's worker, saying why each time", async () => {
    const port = await freePort();
    const cli = parseWorkerCli(["--broker", `redis://127.0.0.1:${port}/0`, "-A", "lib/engine/pool/fixtures/tasks.ts", "-n", "late@%h"], {}, ROOT);
    if (cli.kind !== "run") throw new Error("expected a config");
    const said: string[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: (m: string) => void said.push(m) };
    const starting = startWorker(cli.config, { logger });
    await waitFor(() => said.length > 0, "a retry message", 10_000);
    expect(said[0]).toBe(`cannot connect to redis://127.0.0.1:${port}/0: connect ECONNREFUSED 127.0.0.1:${port}. Trying again in 2 s (attempt 1)`);
    servers.push(await startRedisServer({ port }));
    const worker = await starting;
    workers.push(worker);
    expect(worker.worker.hostname).toMatch(/^late@/);
  });

  it("`petal worker` exits on Ctrl+C twice even while Redis is gone (a stop that needs Redis would wait forever)", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts", "worker", "-b", server.url, "-A", "lib/engine/pool/fixtures/tasks.ts", "-c", "1", "-n", "gone@test"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await waitFor(() => out.includes("ready"), "the worker banner", 20_000, 50);
      await server.stop();
      child.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 700)); // a second press, not a duplicate signal
      const t0 = performance.now();
      child.kill("SIGINT");
      const code = await Promise.race([exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 15_000))]);
      expect(code, out).toBe(1);
      expect(performance.now() - t0).toBeLessThan(8000);
      expect(out).toMatch(/cold shutdown/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 40_000);
});
