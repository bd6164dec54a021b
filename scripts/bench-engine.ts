/**
 * `npm run bench:engine`: no-op task throughput of Petal's engine, Celery and BullMQ on one
 * private redis-server (never the shared 6379), task events on.
 *
 * Method, the same for every system:
 * - the worker runs in its own process (Petal and BullMQ children, Celery's prefork worker), the
 *   client in another, so producer and consumer never share an event loop;
 * - results are stored (no ignoreResult anywhere; BullMQ keeps return values on the job);
 * - time runs from the first enqueue to the moment the N-th completion is seen here, a stored
 *   result in every system, polled from Redis every POLL_MS: BullMQ's completed count; for Petal
 *   and Celery the number of `celery-task-meta-*` keys (DBSIZE less the transport's own keys,
 *   confirmed by a SCAN count once it reaches N). Task events are on for every worker, with no
 *   event consumer attached to any system. `--count events` counts Petal's and Celery's
 *   task-succeeded events instead, in a child process (count-events.ts; the method before
 *   2026-12-07): that child decodes every event batch, ~10 µs of CPU per task on Petal's side
 *   where the polls cost next to nothing;
 * - the server is flushed and the worker restarted between runs;
 * - CPU is counted too, from the first enqueue to the N-th completion, summed over every process
 *   of the system (client and poll, worker, Redis, the event counter if any): on a shared 2-core
 *   machine the rate swings with whatever else runs, CPU per task much less;
 * - Petal and BullMQ run in alternating pairs, --rounds of them per concurrency; the table shows
 *   each system's median round and the median of the pairs' ratios, the log every round.
 *
 * Flags: --tasks N (default: 30000), --only petal,celery,bullmq, --concurrency 1,16,
 * --rounds N (default: 3), --count results|events (default: results)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { Queue } from "bullmq";
import { RedisBroker, RedisResultBackend } from "../lib/broker/redis/index";
import { Client } from "../lib/engine/index";
import { requireCelery, requireRedis, startRedisServer, SYSTEM_PYTHON } from "../lib/testing/redis-server";

/** tasks per run (default: 30000) */
const DEFAULT_TASKS = 30_000;
/**
 * Petal/BullMQ pairs run per concurrency, alternating (default: 3): the VM's speed drifts by
 * ±30 % between minutes, so the verdict is the median of the pairs' ratios, not one pair's.
 */
const DEFAULT_ROUNDS = 3;
/** sends in flight at once from the TS clients (default: 64) */
const SEND_WINDOW = 64;
/** completion poll interval, ms (default: 20) */
const POLL_MS = 20;
/** a run that sees no progress this long fails instead of hanging, ms (default: 30000) */
const STALL_MS = 30_000;

const here = path.dirname(new URL(import.meta.url).pathname);
const benchDir = path.join(here, "bench");
const root = path.resolve(here, "..");

interface Row {
  system: string;
  /** which Petal/BullMQ pair (0-based; Celery runs once) */
  round?: number;
  concurrency: number;
  tasks: number;
  seconds: number;
  rate: number;
  /** CPU ms per 1000 tasks over all the system's processes (NaN when not measured) */
  cpuPer1k: number;
  /** the same by process, for the log */
  cpuParts: string;
}

/** user + system CPU of a process so far, ms (Linux /proc; NaN elsewhere) */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) start after the last ")".
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** Linux USER_HZ, the unit of /proc/<pid>/stat times (100 on every common build) */
const CLOCK_TICKS = 100;

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function redisCpuMs(raw: Redis): Promise<number> {
  const info = await raw.info("cpu");
  const num = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return (num("used_cpu_user") + num("used_cpu_sys")) * 1000;
}

/** CPU meter over named parts (readers return cumulative ms); start() then stop(tasks). */
function cpuMeter(parts: Record<string, () => number | Promise<number>>) {
  const names = Object.keys(parts);
  let start: number[] = [];
  const read = () => Promise.all(names.map((k) => parts[k]()));
  return {
    start: async () => void (start = await read()),
    stop: async (tasks: number): Promise<Pick<Row, "cpuPer1k" | "cpuParts">> => {
      const end = await read();
      const used = end.map((v, i) => v - start[i]);
      const total = used.reduce((a, b) => a + b, 0);
      return { cpuPer1k: (total * 1000) / tasks, cpuParts: names.map((k, i) => `${k} ${Math.round(used[i])}`).join(", ") + " ms" };
    },
  };
}

type CountBy = "results" | "events";

function parseArgs(argv: string[]): { tasks: number; only: Set<string>; conc: number[]; count: CountBy; rounds: number } {
  let tasks = DEFAULT_TASKS;
  let rounds = DEFAULT_ROUNDS;
  let only = new Set(["petal", "celery", "bullmq"]);
  let conc = [1, 16];
  let count: string = "results";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--tasks") tasks = Number(v);
    else if (a === "--only") only = new Set(v.split(","));
    else if (a === "--concurrency") conc = v.split(",").map(Number);
    else if (a === "--count") count = v;
    else if (a === "--rounds") rounds = Number(v);
    else throw new Error(`unknown flag ${a} (use --tasks N, --only petal,celery,bullmq, --concurrency 1,16, --rounds N, --count results|events)`);
    i++;
  }
  if (!Number.isInteger(tasks) || tasks < 1) throw new Error("--tasks must be a positive integer");
  if (conc.some((c) => !Number.isInteger(c) || c < 1)) throw new Error("--concurrency takes positive integers");
  if (count !== "results" && count !== "events") throw new Error("--count takes results or events");
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");
  return { tasks, only, conc, count, rounds };
}

let countBy: CountBy = "results";

let profiled = 0;
/**
 * BENCH_PROF=<dir>: CPU profiles of the Petal children, one folder per child by role
 * (<dir>/worker-1/, <dir>/counter-2/, …): tsx's loader thread writes a profile of its own, so
 * a fixed file name would be overwritten; the main thread's is the largest.
 */
function profArgs(role: string): string[] {
  const dir = process.env.BENCH_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, `${role}-${++profiled}`)}`] : [];
}

interface Child {
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Spawn a child and resolve once its output matches `ready`. */
function startChild(cmd: string, args: string[], env: Record<string, string>, cwd: string, ready: RegExp): Promise<Child> {
  const proc = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(" ")} did not start:\n${out}`)), 30_000);
    const onData = (b: Buffer) => {
      if (out.length < 20_000) out += b.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ proc, stop: () => stopChild(proc) });
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}:\n${out}`));
    });
  });
}

function stopChild(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    proc.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

/**
 * --count events: counts task-succeeded events in a child process, off the client's loop;
 * expect(n) resolves with the time the n-th arrived, on our clock.
 */
async function countEvents(url: string, n: number) {
  const child = spawn(process.execPath, [...profArgs("counter"), "--import", "tsx", path.join(benchDir, "count-events.ts"), url, String(n)], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  let count = 0;
  let lastProgress = Date.now();
  const ready = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`event counter exited with ${code}`)));
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (/^ready$/m.test(out)) resolve();
    });
  });
  const done = new Promise<number>((resolve) => {
    child.stdout.on("data", () => {
      for (const m of out.matchAll(/^progress (\d+)$/gm)) {
        const c = Number(m[1]);
        if (c !== count) lastProgress = Date.now();
        count = c;
      }
      const d = /^done (\d+)$/m.exec(out);
      // Convert the child's wall clock to our monotonic clock.
      if (d) resolve(performance.now() - (Date.now() - Number(d[1])));
      if (out.length > 4096) out = out.slice(-256);
    });
  });
  await ready;
  return {
    pid: child.pid,
    expect: (): Promise<number> => withStallGuard(done, () => lastProgress, () => `${count}/${n} task-succeeded seen`),
    close: () => stopChild(child),
  };
}

/**
 * Keys of the kombu transport (and Petal's event stream) that may exist beside the results in
 * a bench run: DBSIZE less these is the result count, or a little more (a key missing here only
 * makes the exact SCAN below run early, never a finish late).
 */
const TRANSPORT_KEYS = ["celery", "unacked", "unacked_index", "unacked_mutex", "petal.events", "_kombu.binding.celery", "_kombu.binding.celeryev", "_kombu.binding.celery.pidbox", "_kombu.binding.reply.celery.pidbox"];

/** Stored results (`celery-task-meta-*` keys), counted exactly: O(keys), so only near the end. */
async function scanResults(raw: Redis): Promise<number> {
  let cursor = "0";
  let found = 0;
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", "celery-task-meta-*", "COUNT", 10_000);
    cursor = next;
    found += keys.length;
  } while (cursor !== "0");
  return found;
}

/**
 * Poll a completion count every POLL_MS until it reaches n; expect() resolves with the time of
 * the poll that saw the n-th, on our clock, and fails after STALL_MS without progress.
 */
function pollCount(read: () => Promise<number>, n: number, what: string): { expect(): Promise<number>; close(): void } {
  let done = 0;
  let closed = false;
  let lastProgress = Date.now();
  const finished = new Promise<number>((resolve, reject) => {
    const poll = async (): Promise<void> => {
      if (closed) return;
      const now = await read();
      if (now !== done) lastProgress = Date.now();
      done = now;
      if (done >= n) return resolve(performance.now());
      setTimeout(() => void poll().catch(reject), POLL_MS);
    };
    void poll().catch(reject);
  });
  return {
    expect: () => withStallGuard(finished, () => lastProgress, () => `${done}/${n} ${what}`),
    close: () => void (closed = true),
  };
}

/** Stored results (Petal, Celery), polled as BullMQ's completed count is. */
function pollResults(raw: Redis, n: number): { expect(): Promise<number>; close(): void } {
  return pollCount(
    async () => {
      const [size, plumbing] = await Promise.all([raw.dbsize(), raw.exists(...TRANSPORT_KEYS)]);
      const estimate = size - plumbing;
      return estimate >= n ? scanResults(raw) : estimate;
    },
    n,
    "results stored",
  );
}

/** The completion counter of Petal's and Celery's runs, by --count. */
async function completions(url: string, raw: Redis, n: number): Promise<{ pid?: number; expect(): Promise<number>; close(): Promise<void> | void }> {
  return countBy === "events" ? countEvents(url, n) : { pid: undefined, ...pollResults(raw, n) };
}

function withStallGuard<T>(p: Promise<T>, last: () => number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      if (Date.now() - last() > STALL_MS) reject(new Error(`no progress for ${STALL_MS} ms: ${what()}`));
    }, 500);
  });
  return Promise.race([p, stalled]).finally(() => clearInterval(timer));
}

/** Run `send(i)` for i in [0, n) with at most SEND_WINDOW in flight. */
async function windowed(n: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await send(next++);
  };
  await Promise.all(Array.from({ length: Math.min(SEND_WINDOW, n) }, lane));
}

async function benchPetal(url: string, raw: Redis, c: number, n: number): Promise<Row> {
  const worker = await startChild(process.execPath, [...profArgs("worker"), "--import", "tsx", path.join(benchDir, "petal-worker.ts"), url, String(c)], {}, root, /^ready$/m);
  const counter = await completions(url, raw, n);
  const broker = new RedisBroker(url, { onError: () => undefined });
  const results = new RedisResultBackend(url);
  await broker.connect();
  const client = new Client({ broker, results });
  const cpu = cpuMeter({ client: ownCpuMs, worker: () => procCpuMs(worker.proc.pid), redis: () => redisCpuMs(raw), ...(counter.pid ? { counter: () => procCpuMs(counter.pid) } : {}) });
  try {
    await cpu.start();
    const t0 = performance.now();
    const finished = counter.expect();
    await windowed(n, () => client.sendTask("bench.noop"));
    process.stderr.write(`(enqueued in ${((performance.now() - t0) / 1000).toFixed(2)} s) `);
    const seconds = ((await finished) - t0) / 1000;
    return { system: "Petal (TS)", concurrency: c, tasks: n, seconds, rate: n / seconds, ...(await cpu.stop(n)) };
  } finally {
    await worker.stop();
    await Promise.allSettled([counter.close(), broker.close(), results.close()]);
  }
}

async function benchCelery(url: string, raw: Redis, c: number, n: number): Promise<Row> {
  const env = { BROKER_URL: url, PYTHONUNBUFFERED: "1" };
  const args = ["-m", "celery", "-A", "celery_bench", "worker", "-c", String(c), "-E", "--loglevel=warning", "--without-mingle", "--without-gossip", "-n", `celery-c${c}@%h`];
  // --loglevel=warning hides the "ready." line, so wait for the worker-online event instead.
  const counter = await completions(url, raw, n);
  const online = await onlineWaiter(url);
  const worker = await startChild(SYSTEM_PYTHON, args, env, benchDir, /./);
  try {
    await online.seen;
    let start = 0;
    const sender = spawn(SYSTEM_PYTHON, ["celery_bench.py", "send", String(n)], { cwd: benchDir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    const started = new Promise<void>((resolve, reject) => {
      let out = "";
      sender.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /start (\d+)/.exec(out);
        if (m && start === 0) {
          // Convert the sender's wall clock to our monotonic clock.
          start = performance.now() - (Date.now() - Number(m[1]));
          resolve();
        }
      });
      sender.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`celery sender exited with ${code}`))));
    });
    const finished = counter.expect();
    await started;
    const seconds = ((await finished) - start) / 1000;
    return { system: "Celery 5 prefork", concurrency: c, tasks: n, seconds, rate: n / seconds, cpuPer1k: NaN, cpuParts: "" };
  } finally {
    await worker.stop();
    await counter.close();
  }
}

/** Wrapped in an object: an async function returning the promise itself would await it. */
async function onlineWaiter(url: string): Promise<{ seen: Promise<void> }> {
  const broker = new RedisBroker(url, { onError: () => undefined });
  await broker.connect();
  let resolve!: () => void;
  const seen = new Promise<void>((r) => (resolve = r));
  const sub = await broker.subscribeEvents(({ events }) => {
    if (events.some((e) => (e as { type?: unknown }).type === "worker-online")) resolve();
  });
  return { seen: seen.finally(() => void sub.close().then(() => broker.close())) };
}

async function benchBullmq(url: string, raw: Redis, c: number, n: number): Promise<Row> {
  const worker = await startChild(process.execPath, ["--import", "tsx", path.join(benchDir, "bullmq-worker.ts"), url, String(c)], {}, root, /^ready$/m);
  const { hostname, port } = new URL(url);
  const queue = new Queue("bench", { connection: { host: hostname, port: Number(port) } });
  const cpu = cpuMeter({ client: ownCpuMs, worker: () => procCpuMs(worker.proc.pid), redis: () => redisCpuMs(raw) });
  let poller: ReturnType<typeof pollCount> | undefined;
  try {
    await queue.waitUntilReady();
    await cpu.start();
    const t0 = performance.now();
    poller = pollCount(() => queue.getCompletedCount(), n, "completed");
    const finished = poller.expect();
    await windowed(n, () => queue.add("noop", {}));
    process.stderr.write(`(enqueued in ${((performance.now() - t0) / 1000).toFixed(2)} s) `);
    const seconds = ((await finished) - t0) / 1000;
    return { system: `BullMQ ${bullmqVersion()}`, concurrency: c, tasks: n, seconds, rate: n / seconds, ...(await cpu.stop(n)) };
  } finally {
    poller?.close();
    await worker.stop();
    await queue.close();
  }
}

function bullmqVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(path.join(root, "node_modules/bullmq/package.json"), "utf8"));
    return String((pkg as { version?: unknown }).version ?? "?");
  } catch {
    return "?";
  }
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Each system's median round by rate, per concurrency (Celery's single run as is). */
function medianRows(rows: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = `${r.system}\0${r.concurrency}`;
    const g = groups.get(k) ?? [];
    g.push(r);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => [...g].sort((a, b) => a.rate - b.rate)[(g.length - 1) >> 1]);
}

/** The Petal and BullMQ rows of each round at concurrency c. */
function pairs(rows: Row[], c: number): { petal: Row; bull: Row }[] {
  const out: { petal: Row; bull: Row }[] = [];
  for (const p of rows.filter((r) => r.system.startsWith("Petal") && r.concurrency === c)) {
    const b = rows.find((r) => r.system.startsWith("BullMQ") && r.concurrency === c && r.round === p.round);
    if (b) out.push({ petal: p, bull: b });
  }
  return out;
}

function printTable(rows: Row[]): void {
  const shown = medianRows(rows);
  const ratioAt = new Map<number, { rate: number; cpu: number }>();
  for (const c of new Set(rows.map((r) => r.concurrency))) {
    const ps = pairs(rows, c);
    if (ps.length > 0) ratioAt.set(c, { rate: median(ps.map((x) => x.petal.rate / x.bull.rate)), cpu: median(ps.map((x) => x.petal.cpuPer1k / x.bull.cpuPer1k)) });
  }
  const lines = ["| system | concurrency | tasks | seconds | tasks/s | vs BullMQ | CPU ms / 1k tasks | CPU vs BullMQ |", "|---|---:|---:|---:|---:|---:|---:|---:|"];
  for (const r of shown) {
    const q = ratioAt.get(r.concurrency);
    const isBull = r.system.startsWith("BullMQ");
    const isPetal = r.system.startsWith("Petal");
    const ratio = isBull ? "1.00x" : isPetal && q ? `${q.rate.toFixed(2)}x` : "n/a";
    const cpu = Number.isFinite(r.cpuPer1k) ? String(Math.round(r.cpuPer1k)) : "n/a";
    const cpuRatio = isBull ? "1.00x" : isPetal && q && Number.isFinite(q.cpu) ? `${q.cpu.toFixed(2)}x` : "n/a";
    lines.push(`| ${r.system} | ${r.concurrency} | ${r.tasks} | ${r.seconds.toFixed(2)} | ${Math.round(r.rate)} | ${ratio} | ${cpu} | ${cpuRatio} |`);
  }
  console.log(lines.join("\n"));
  const multi = rows.some((r) => (r.round ?? 0) > 0);
  if (multi) {
    console.log("\nmedian round per system; vs BullMQ = median of the rounds' Petal/BullMQ ratios. Every round, Petal / BullMQ tasks/s:");
    for (const c of ratioAt.keys()) {
      console.log(`  c=${c}: ` + pairs(rows, c).map((x) => `${Math.round(x.petal.rate)} / ${Math.round(x.bull.rate)} = ${(x.petal.rate / x.bull.rate).toFixed(2)}x`).join(", "));
    }
  }
  const check = (c: number, factor: number) => {
    const q = ratioAt.get(c);
    if (q === undefined) return;
    console.log(`target c=${c}: Petal >= ${factor}x BullMQ: ${q.rate >= factor ? "met" : "MISSED"} (${q.rate.toFixed(2)}x${multi ? ", median of the rounds" : ""})`);
  };
  check(1, 1);
  check(16, 1.5);
}

async function main(): Promise<void> {
  const { tasks, only, conc, count, rounds } = parseArgs(process.argv.slice(2));
  countBy = count;
  const noRedis = requireRedis();
  if (noRedis) throw new Error(noRedis);
  const server = await startRedisServer();
  const raw = new Redis(server.url);
  const rows: Row[] = [];
  try {
    const run = async (label: string, fn: () => Promise<Row>) => {
      await raw.flushall();
      process.stderr.write(`${label}... `);
      if (process.env.BENCH_STATS) await raw.config("RESETSTAT");
      const row = await fn();
      if (process.env.BENCH_STATS) {
        // Debug aid: what each run cost the server (calls per command, server CPU).
        const info = await raw.info("commandstats");
        const cpu = (await raw.info("cpu")).match(/used_cpu_(sys|user):[\d.]+/g);
        const net = (await raw.info("stats")).match(/total_net_(input|output)_bytes:\d+/g);
        process.stderr.write(`\n${info.replace(/usec_per_call=[^,]+,|rejected_calls=0,failed_calls=0/g, "")}\n${cpu?.join(" ")} ${net?.join(" ")}\n`);
      }
      process.stderr.write(`${Math.round(row.rate)} tasks/s${row.cpuParts ? ` (CPU: ${row.cpuParts})` : ""}\n`);
      rows.push(row);
    };
    for (const c of conc) {
      for (let round = 0; round < rounds; round++) {
        const tag = rounds > 1 ? ` (round ${round + 1}/${rounds})` : "";
        if (only.has("petal")) await run(`Petal c=${c}${tag}`, async () => ({ ...(await benchPetal(server.url, raw, c, tasks)), round }));
        if (only.has("bullmq")) await run(`BullMQ c=${c}${tag}`, async () => ({ ...(await benchBullmq(server.url, raw, c, tasks)), round }));
      }
    }
    if (only.has("celery")) {
      const noCelery = requireCelery();
      if (noCelery) process.stderr.write(`Celery skipped: ${noCelery}\n`);
      else await run("Celery prefork c=2", () => benchCelery(server.url, raw, 2, tasks));
    }
  } finally {
    await raw.quit();
    await server.stop();
  }
  const method = count === "events" ? "Petal and Celery counted by task-succeeded events" : "completions counted by stored results";
  console.log(`\nno-op tasks, results stored, task events on, ${method}, one private redis-server; node ${process.version}\n`);
  printTable(rows);
}

await main();
