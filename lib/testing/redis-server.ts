/**
 * Test helper (node only): a private `redis-server` per test file on a free port, so tests
 * never touch the shared 6379 nor anyone else's data. Nothing is persisted (--save "",
 * --appendonly no). requireRedis()/requireCelery() turn a missing system package into a
 * skip reason locally and into a hard failure under CI=true (nothing may be skipped in CI).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";

export interface RedisServerHandle {
  url: string;
  port: number;
  /** stops the process (SIGTERM, then SIGKILL after 2 s); resolves once it exited */
  stop(): Promise<void>;
  /** stop, wait `downMs` (default: 0), then start a fresh, empty server on the same port */
  restart(downMs?: number): Promise<void>;
  /** start again on the same port after stop() (a no-op stop first if it still runs) */
  start(): Promise<void>;
}

export interface StartRedisOptions {
  /** listen on this port, e.g. to restart a server on the port it had (default: a free port) */
  port?: number;
  /** how long to wait for PING to answer, ms (default: 10000) */
  readyTimeoutMs?: number;
}

export const REDIS_MISSING = "redis-server not installed (apt-get install -y redis-server)";
export const CELERY_MISSING = "python3-celery/python3-redis not installed (apt-get install -y python3-celery python3-redis)";
/** Debian's interpreter: the python3 first on PATH may lack celery (STACK.md). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

function inCi(): boolean {
  return process.env.CI === "true" || process.env.CI === "1";
}

/** false when ok, else `reason` as a skip reason locally; throws under CI=true. */
export function check(ok: boolean, reason: string): string | false {
  if (ok) return false;
  if (inCi()) throw new Error(`${reason}; required under CI=true`);
  return reason;
}

let redisChecked: boolean | undefined;
let celeryChecked: boolean | undefined;

/** false when redis-server can run, else the skip reason (throws under CI). For describe.skipIf. */
export function requireRedis(): string | false {
  redisChecked ??= spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
  return check(redisChecked, REDIS_MISSING);
}

/** false when Debian's python3 imports celery and redis, else the skip reason (throws under CI). */
export function requireCelery(): string | false {
  celeryChecked ??= spawnSync(SYSTEM_PYTHON, ["-c", "import celery, redis"], { stdio: "ignore" }).status === 0;
  return check(celeryChecked, CELERY_MISSING);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Send one inline command over a fresh socket; resolves with the reply text (an array reply,
 * such as SENTINEL get-master-addr-by-name, read whole), or null on error or timeout.
 */
export function askRedis(open: () => net.Socket, command: string, readyEvent: "connect" | "secureConnect", timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = open();
    let buf = "";
    const done = (v: string | null) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.once("error", () => done(null));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      // Array replies are read whole: three lines per element.
      const arr = /^\*(\d+)\r\n/.exec(buf);
      const need = arr ? 1 + 2 * Number(arr[1]) : 1;
      if (buf.split("\r\n").length > need) done(buf);
    });
    sock.once(readyEvent, () => sock.write(`${command}\r\n`));
  });
}

/** One raw PING over TCP: true when the server answers +PONG. */
async function ping(port: number): Promise<boolean> {
  return (await askRedis(() => net.connect({ port, host: "127.0.0.1" }), "PING", "connect", 500))?.startsWith("+PONG") ?? false;
}

interface RunningRedis {
  stop(): Promise<void>;
}

/** Spawn one redis-server on `port` and wait for PING. */
async function spawnRedis(port: number, readyTimeoutMs: number): Promise<RunningRedis> {
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await ping(port))) {
    if (exitedEarly) throw new Error(`redis-server on port ${port} exited at start: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not answer PING in time`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopping: Promise<void> | null = null;
  return {
    stop: () => {
      stopping ??= (async () => {
        if (exitedEarly) return;
        child.kill("SIGTERM");
        const kill = setTimeout(() => child.kill("SIGKILL"), 2000);
        await exited;
        clearTimeout(kill);
      })();
      return stopping;
    },
  };
}

export async function startRedisServer(opts: StartRedisOptions = {}): Promise<RedisServerHandle> {
  const port = opts.port ?? (await freePort());
  if (port === 6379) throw new Error("refusing to start a test redis-server on the shared port 6379");
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  let current = await spawnRedis(port, readyTimeoutMs);
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    stop: () => current.stop(),
    restart: async (downMs = 0) => {
      await current.stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      // Nothing was persisted: the new server starts empty, like a Redis restarted without AOF/RDB.
      current = await spawnRedis(port, readyTimeoutMs);
    },
    start: async () => {
      await current.stop();
      current = await spawnRedis(port, readyTimeoutMs);
    },
  };
}
