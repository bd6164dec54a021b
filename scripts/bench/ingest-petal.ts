/**
 * bench:ingest Petal side (a child of scripts/bench-ingest.ts, talking over IPC): the real
 * RedisBroker + Ingest + ClusterState, events decoded off the main thread (ThreadedEventSource)
 * unless `--mode main`. Run with --expose-gc so RSS is read after a full collection.
 *
 * Usage: node --expose-gc --import tsx scripts/bench/ingest-petal.ts --url redis://… [--max-tasks N] [--mode thread|main] [--persist]
 * IPC in: {cmd: "stats"} | {cmd: "gc"} (collect, then stats) | {cmd: "quit"}; out: {ok: "ready"} and the stats.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { RedisBroker } from "../../lib/broker/redis/index";
import { ClusterState } from "../../lib/state";
import { Ingest } from "../../server/ingest/index";
import { ThreadedEventSource } from "../../server/ingest/event-thread";
import type { Logger } from "../../server/context";
import { startHistory } from "../../server/history";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const url = flag("--url");
if (!url || !process.send) throw new Error("usage: fork ingest-petal.ts --url redis://… [--max-tasks N] [--mode thread|main]");
const maxTasks = Number(flag("--max-tasks") ?? 100_000);
const mode = flag("--mode") ?? "thread";
const persist = process.argv.includes("--persist");

const log: Logger = {
  debug() {},
  info() {},
  warn: (msg, extra) => console.error("petal warn:", msg, extra ?? ""),
  error: (msg, extra) => console.error("petal error:", msg, extra ?? ""),
};

const broker = new RedisBroker(url, { onError: (err, where) => console.error(`broker ${where}:`, err) });
await broker.connect();
const state = new ClusterState({ maxTasks });
// With --persist, a fresh SQLite history in a temp dir records every task, as the server does
// by default, so the bench shows what persistence costs.
const dbDir = persist ? mkdtempSync(path.join(os.tmpdir(), "petal-bench-ingest-")) : null;
const history = dbDir ? await startHistory(state, { file: path.join(dbDir, "petal.db"), retentionSec: null, maxRows: null }, maxTasks, log) : null;
const source = mode === "main" ? undefined : new ThreadedEventSource(url);
const ingest = new Ingest(broker, state, log, { source, requestHeartbeat: false });
await ingest.start();

function stats(): Record<string, unknown> {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const elu = performance.eventLoopUtilization();
  return {
    ok: "stats",
    at: performance.timeOrigin + performance.now(),
    applied: state.eventsTotal,
    rejected: state.eventsRejected,
    retained: state.tasksRetained,
    cpuUs: cpu.user + cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external + mem.arrayBuffers,
    /** main-thread event loop time, busy and idle, ms since start (for utilization over a step) */
    eluActive: elu.active,
    eluIdle: elu.idle,
    buffered: ingest.stats().buffered,
    inflight: source?.inflight ?? 0,
    dropped: source?.dropped ?? 0,
    reconnects: source?.reconnects ?? 0,
    sourceRejected: source?.rejected ?? broker.rejectedEvents,
  };
}

process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "stats") process.send?.(stats());
  else if (m.cmd === "gc") {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("run with --expose-gc");
    gc();
    gc();
    process.send?.(stats());
  } else if (m.cmd === "quit") {
    void ingest
      .stop()
      .then(() => history?.close())
      .then(() => broker.close())
      .then(() => {
        if (dbDir) rmSync(dbDir, { recursive: true, force: true });
        process.disconnect?.();
      });
  }
});
process.send({ ok: "ready", mode });
