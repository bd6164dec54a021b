/**
 * Real Celery 5 (Debian's python3-celery) for interop tests: workers and a client running the
 * app in interop/proj.py against the test's private redis-server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { waitFor } from "../lib/testing/wait";

export const PYTHON = process.env.PETAL_PYTHON ?? "/usr/bin/python3";
const here = path.dirname(new URL(import.meta.url).pathname);

export interface CeleryWorker {
  name: string;
  proc: ChildProcess;
  log(): string;
  /** warm shutdown (SIGTERM), then SIGKILL after 10 s */
  stop(): Promise<void>;
}

export async function startCeleryWorker(
  brokerUrl: string,
  opts: { name: string; concurrency?: number; queues?: string[]; events?: boolean; extra?: string[]; env?: Record<string, string> },
): Promise<CeleryWorker> {
  const args = ["-m", "celery", "-A", "proj", "worker", "-n", opts.name, "-c", String(opts.concurrency ?? 2), "--loglevel=info", "--without-mingle", "--without-gossip"];
  if (opts.events !== false) args.push("-E");
  if (opts.queues) args.push("-Q", opts.queues.join(","));
  if (opts.extra) args.push(...opts.extra);
  const proc = spawn(PYTHON, args, { cwd: here, env: { ...process.env, ...opts.env, BROKER_URL: brokerUrl, PYTHONUNBUFFERED: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (b) => (out += b));
  proc.stderr!.on("data", (b) => (out += b));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`celery worker ${opts.name} did not start:\n${out}`)), 30_000);
    const check = () => {
      if (/ ready\./.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stdout!.on("data", check);
    proc.stderr!.on("data", check);
    proc.on("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`celery worker ${opts.name} exited with ${code}:\n${out}`));
    });
  });
  return {
    name: opts.name,
    proc,
    log: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const k = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        proc.once("exit", () => {
          clearTimeout(k);
          resolve();
        });
        proc.kill("SIGTERM");
      }),
  };
}

/**
 * Send a task with Celery's own client and wait for its result. Async on purpose: a TS worker
 * under test runs in this same process and must keep its event loop.
 */
export function celerySend(
  brokerUrl: string,
  name: string,
  args: unknown[] = [],
  kwargs: Record<string, unknown> = {},
  queue = "celery",
  timeoutS = 20,
  env: Record<string, string> = {},
): Promise<{ id: string; state: string; result?: unknown; error?: string }> {
  const proc = spawn(PYTHON, ["send.py", name, JSON.stringify(args), JSON.stringify(kwargs), queue, String(timeoutS)], {
    cwd: here,
    env: { ...process.env, ...env, BROKER_URL: brokerUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (b) => (out += b));
  proc.stderr!.on("data", (b) => (err += b));
  const kill = setTimeout(() => proc.kill("SIGKILL"), (timeoutS + 15) * 1000);
  return new Promise((resolve, reject) => {
    proc.on("exit", (code) => {
      clearTimeout(kill);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`celery client failed (${code}): ${out}\n${err}`));
      }
    });
  });
}

/** waitFor with the interop tests' argument order and pace (every 100 ms, 20 s by default). */
export function until<T>(fn: () => Promise<T | null | undefined | false>, ms = 20_000, what = "condition"): Promise<T> {
  return waitFor(fn, what, ms, 100);
}
