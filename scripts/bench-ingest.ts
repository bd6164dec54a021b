/**
 * npm run bench:ingest — Celery events from Redis into ClusterState: how fast, lost or not, at
 * what CPU and memory cost (issue #4, parts 1 and 6).
 *
 * A private redis-server; the Petal side in a child (scripts/bench/ingest-petal.ts: RedisBroker
 * + Ingest + ClusterState, events decoded off the main thread); 1–2 publisher children
 * (scripts/bench/ingest-publisher.ts) sending byte-exact Celery envelopes pre-serialized as RESP.
 * Phases: fill to 100k tasks → RSS per task; one row per rate step (offered vs applied events/s,
 * lost, the subscriber's largest Redis output buffer, disconnects, CPU-s per 100k events); then
 * fill to 1M tasks (`--max-tasks`) → RSS per task.
 *
 * Flags: --steps 20000,40000,60000,100000,150000,200000,max  --seconds 5 (per step)  --publishers 2
 *        --max-events 100000 (size of the unthrottled "max" burst)
 *        --max-tasks 1000000  --mode thread|main  --skip-1m  --persist (hook, see ingest-petal.ts)
 */
import { type ChildProcess, fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { startRedisServer } from "../lib/testing/redis-server";
import { type RedisProbe, probeRedis } from "./bench/ingest-redis-probe";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const steps = opt("--steps", "20000,40000,60000,100000,150000,200000,max").split(",").map((s) => (s === "max" ? 0 : Number(s)));
const seconds = Number(opt("--seconds", "5"));
const publishers = Math.max(1, Number(opt("--publishers", "2")));
const maxTasks = Number(opt("--max-tasks", "1000000"));
const mode = opt("--mode", "thread");
const skip1m = args.includes("--skip-1m");
/** events in the "max" step: an unthrottled burst, as fast as the publishers' sockets take it */
const MAX_STEP_EVENTS = Number(opt("--max-events", "100000"));
/** tasks per publisher batch while filling (bounded memory in the publishers) */
const FILL_CHUNK_TASKS = 100_000;
const RUN = 7;
const T0 = Date.now();
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)} s`;

type Msg = Record<string, unknown> & { ok?: string };

/** One request at a time per child: send, then wait for the reply with the wanted `ok`. */
function call(child: ChildProcess, msg: Record<string, unknown>, ok: string): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Msg) => {
      if (m.ok !== ok) return;
      child.off("message", onMsg);
      child.off("exit", onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) while waiting for ${ok}`));
    child.on("message", onMsg);
    child.once("exit", onExit);
    if (Object.keys(msg).length > 0) child.send(msg);
  });
}

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (b: number) => `${fmt(b / 1048576, 1)} MB`;

const redis = await startRedisServer();
const raw = new Redis(redis.url);
const tsx = ["--import", "tsx"];
const petal = fork(path.join(HERE, "bench/ingest-petal.ts"), ["--url", redis.url, "--max-tasks", String(maxTasks), "--mode", mode, ...(args.includes("--persist") ? ["--persist"] : [])], {
  execArgv: ["--expose-gc", ...tsx],
});
const pubs = Array.from({ length: publishers }, (_, k) => fork(path.join(HERE, "bench/ingest-publisher.ts"), [String(redis.port), "0", String(k), String(publishers)], { execArgv: tsx }));
const children = [petal, ...pubs];
async function cleanup(): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await raw.quit().catch(() => undefined);
  await redis.stop();
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

try {
  await call(petal, {}, "ready");
  await Promise.all(pubs.map((p) => call(p, {}, "ready")));
  const stats = () => call(petal, { cmd: "stats" }, "stats");
  const base = await call(petal, { cmd: "gc" }, "stats");
  console.log(`bench:ingest — ${os.cpus().length} cores, node ${process.version}, ${publishers} publisher(s), mode ${mode}, --max-tasks ${fmt(maxTasks)}`);
  console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (load 1/5/15 min) at start; Petal RSS after GC, empty: ${mb(Number(base.rss))}`);

  let nextTask = 0;
  /** Publish `tasks` new tasks at `rate` (0 = max) across the publishers; resolves once Redis took them. */
  async function publish(tasks: number, rate: number): Promise<{ events: number; messages: number; ms: number; prepMs: number }> {
    const first = nextTask;
    nextTask += tasks;
    const t0 = Date.now() / 1000;
    const prep = await Promise.all(pubs.map((p) => call(p, { cmd: "prepare", run: RUN, first, tasks, t0 }, "prepared")));
    const sent = await Promise.all(pubs.map((p) => call(p, { cmd: "go", rate: rate / publishers }, "sent")));
    return {
      events: sent.reduce((a, s) => a + Number(s.events), 0),
      messages: sent.reduce((a, s) => a + Number(s.messages), 0),
      ms: Math.max(...sent.map((s) => Number(s.ms))),
      prepMs: Math.max(...prep.map((p) => Number(p.ms))),
    };
  }

  /** Wait until Petal applied `target` events, or nothing moved for 10 s; returns the last stats and when it got there. */
  async function drain(target: number): Promise<{ s: Msg; at: number }> {
    let last = await stats();
    let moved = Date.now();
    while (Number(last.applied) < target && Date.now() - moved < 10_000) {
      await new Promise((r) => setTimeout(r, 20));
      const s = await stats();
      if (Number(s.applied) > Number(last.applied)) moved = Date.now();
      last = s;
    }
    return { s: last, at: Number(last.at) };
  }

  async function rssPerTask(label: string): Promise<void> {
    const s = await call(petal, { cmd: "gc" }, "stats");
    const retained = Number(s.retained);
    const delta = Number(s.rss) - Number(base.rss);
    console.log(
      `RSS per retained task at ${label}: ${fmt(delta / Math.max(1, retained))} bytes  (RSS ${mb(Number(s.rss))} − empty ${mb(Number(base.rss))} over ${fmt(retained)} tasks; heap ${mb(Number(s.heapUsed))})`,
    );
  }

  async function fillTo(tasks: number, rate: number): Promise<void> {
    while (nextTask < tasks) {
      const before = await stats();
      const r = await publish(Math.min(FILL_CHUNK_TASKS * publishers, tasks - nextTask), rate);
      await drain(Number(before.applied) + r.events);
    }
  }

  // 1. Fill to 100k tasks (a realistic working set for the steps) and weigh them.
  const fillRate = 50_000;
  await fillTo(Math.min(100_000, maxTasks), fillRate);
  await rssPerTask(fmt(Math.min(100_000, maxTasks)));
  console.log(`(${elapsed()} since start)`);

  // 2. Rate steps.
  console.log("");
  const head = ["offered ev/s", "applied ev/s", "events", "lost", "sub max omem", "recent_max_out_buf", "disconnects", "CPU-s/100k ev", "main ELU"];
  const width = (h: string) => Math.max(h.length, 10) + 2;
  console.log(["step".padEnd(8), ...head.map((h) => h.padStart(width(h)))].join(""));
  let best = 0;
  for (const rate of steps) {
    const tasks = Math.round((rate > 0 ? rate * seconds : MAX_STEP_EVENTS) / 4);
    const before = await stats();
    const probe: RedisProbe = probeRedis(raw);
    await probe.start();
    const startAt = Date.now();
    const r = await publish(tasks, rate);
    const { s: after, at } = await drain(Number(before.applied) + r.events);
    const p = await probe.stop();
    const applied = Number(after.applied) - Number(before.applied);
    const lost = r.events - applied;
    // Applied rate over the time from the first publish to the last applied event.
    const appliedRate = applied / (Math.max(at - startAt - r.prepMs, r.ms) / 1000);
    const offered = r.events / (r.ms / 1000);
    const cpu = ((Number(after.cpuUs) - Number(before.cpuUs)) / 1e6 / Math.max(1, applied)) * 100_000;
    const disconnects = p.subscriberIdsSeen - 1 + (Number(after.reconnects) - Number(before.reconnects)) + (p.limitDisconnections ?? 0);
    if (lost === 0) best = Math.max(best, appliedRate);
    const cells = [
      fmt(offered),
      fmt(appliedRate),
      fmt(r.events),
      fmt(lost),
      mb(p.maxOmem),
      mb(p.maxRecentOutBuf),
      `${disconnects}${p.limitDisconnections === null ? "" : ` (${p.limitDisconnections} by limit)`}`,
      fmt(cpu, 2),
      fmt((Number(after.eluActive) - Number(before.eluActive)) / Math.max(1, Number(after.eluActive) + Number(after.eluIdle) - Number(before.eluActive) - Number(before.eluIdle)), 2),
    ];
    console.log([(rate > 0 ? fmt(rate) : "max").padEnd(8), ...cells.map((c, i) => c.padStart(width(head[i])))].join(""));
  }
  console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} after the steps; best zero-loss applied rate ${fmt(best)} events/s`);
  const after = await stats();
  console.log(`Redis disconnect counter in INFO stats: ${(await probeRedis(raw).limitField()) ?? "none in this Redis version (disconnects counted from the subscriber's client id and reconnects)"}; dropped by Petal's back-pressure: ${after.dropped}`);

  // 3. Fill to 1M tasks and weigh them.
  if (!skip1m && maxTasks >= 1_000_000) {
    console.log("");
    const t = Date.now();
    await fillTo(1_000_000, Math.min(Math.max(best * 0.8, 20_000), 80_000));
    console.log(`filled to ${fmt(Number((await stats()).retained))} tasks in ${fmt((Date.now() - t) / 1000, 0)} s`);
    await rssPerTask("1M");
  }
  console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} at the end`);
  await Promise.all(pubs.map((p) => p.send({ cmd: "quit" })));
} finally {
  await cleanup();
}
