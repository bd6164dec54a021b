/**
 * lib/state at scale: reducer throughput, RSS per retained task and query times (not a test:
 * numbers depend on the machine). Events are scripts/bench/celery-events.ts `lifecycle()` (4 per
 * task, "typical" reprs), JSON round-tripped per batch so strings look like a decoder's output;
 * only the ingest call is timed.
 *
 * Run: BENCH_N=1000000 node --expose-gc --import tsx lib/state/bench.ts
 *   BENCH_N    tasks ingested and retained (default: 100000); maxTasks = BENCH_N
 *   BENCH_RUNS timing runs per query (default: 7); times are wall-clock: note the machine's load
 */
import type { TaskQuery } from "../protocol/api";
import { HOSTS, lifecycle, taskId } from "../../scripts/bench/celery-events";
import { ClusterState } from "./index";

const N = Math.max(1000, Number(process.env.BENCH_N ?? 100_000));
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
const BATCH_TASKS = 500;
const gc = (globalThis as { gc?: () => void }).gc;

function settle(): number {
  if (gc !== undefined) for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().rss;
}

let clockNow = 1_800_000_000;
const s = new ClusterState({ maxTasks: N, now: () => clockNow });
const t0 = clockNow;
s.ingest(HOSTS.map((h, i) => ({ hostname: h, utcoffset: 0, pid: 1, clock: i, freq: 2, active: 0, processed: 0, loadavg: [0, 0, 0], sw_ident: "py-celery", sw_ver: "5.2.6", sw_sys: "Linux", timestamp: t0, type: "worker-online" })));
const rss0 = settle();
const heap0 = process.memoryUsage().heapUsed;

/** Ingest tasks [from, to); returns [events, ms spent inside ingest]. */
function feed(run: number, from: number, to: number): [number, number] {
  let events = 0;
  let ms = 0;
  for (let b = from; b < to; b += BATCH_TASKS) {
    const batch: Record<string, unknown>[] = [];
    const end = Math.min(to, b + BATCH_TASKS);
    // Interleave: task-sent of the whole batch, then the workers' task.multi events.
    for (let i = b; i < end; i++) batch.push(lifecycle(run, i, t0 + i * 0.002, 4 * i).sent);
    for (let i = b; i < end; i++) batch.push(...lifecycle(run, i, t0 + i * 0.002, 4 * i).worker);
    const decoded = JSON.parse(JSON.stringify(batch)) as unknown[];
    clockNow = t0 + end * 0.002;
    const c = performance.now();
    s.ingest(decoded);
    ms += performance.now() - c;
    events += decoded.length;
  }
  return [events, ms];
}

const [events, ms] = feed(1, 0, N - Math.floor(N / 10));
const [eventsTail, msTail] = feed(1, N - Math.floor(N / 10), N);
const total = events + eventsTail;
const totalMs = ms + msTail;
console.log(`node ${process.version}, N=${N}, ${gc ? "gc exposed" : "NO --expose-gc: RSS figures are rough"}`);
console.log(`ingest: ${total} events in ${totalMs.toFixed(0)} ms = ${Math.round(total / (totalMs / 1000))} events/s; last 10% (store near full): ${Math.round(eventsTail / (msTail / 1000))} events/s; retained ${s.tasksRetained}`);
const rss1 = settle();
const heap1 = process.memoryUsage().heapUsed;
console.log(`memory: RSS +${((rss1 - rss0) / 2 ** 20).toFixed(0)} MB = ${((rss1 - rss0) / N).toFixed(0)} B/task; heap +${((heap1 - heap0) / N).toFixed(0)} B/task`);

const mid = taskId(1, Math.floor(N / 2)).slice(-8);
const queries: [string, TaskQuery][] = [
  ["default page (limit 50)", { limit: 50 }],
  ["offset 5000 limit 50", { limit: 50, offset: 5000 }],
  ["state=FAILURE", { state: ["FAILURE"], limit: 50 }],
  ["state=SUCCESS", { state: ["SUCCESS"], limit: 50 }],
  ["taskname=proj.tasks.job_3", { taskname: ["proj.tasks.job_3"], limit: 50 }],
  ["workername=celery@bench-2", { workername: ["celery@bench-2"], limit: 50 }],
  ["workername + state=FAILURE", { workername: ["celery@bench-2"], state: ["FAILURE"], limit: 50 }],
  ["sort_by=-runtime", { sort_by: "-runtime", limit: 50 }],
  ["sort_by=name", { sort_by: "name", limit: 50 }],
  ["sort_by=-received", { sort_by: "-received", limit: 50 }],
  ["sort_by=worker, state=SUCCESS", { sort_by: "worker", state: ["SUCCESS"], limit: 50 }],
  ["search=job_1", { search: "job_1", limit: 50 }],
  [`search=${mid} (uuid prefix)`, { search: mid, limit: 50 }],
  ["search=true", { search: "true", limit: 50 }],
  ["search=state:failure", { search: "state:failure", limit: 50 }],
  ["search=kwargs:user=u42", { search: "kwargs:user=u42", limit: 50 }],
  ["search=args:file-42.mp4", { search: "args:file-42.mp4", limit: 50 }],
  ["search=(name:job_1 OR result:123) bench-2", { search: "(name:job_1 OR result:123) bench-2", limit: 50 }],
  ["search=nomatch-anywhere", { search: "nomatch-anywhere", limit: 50 }],
  ["received range (10% of tasks)", { received_start: t0 + N * 0.001, received_end: t0 + N * 0.0012, limit: 50 }],
];
// The first search computes every row's character mask (later ones only for changed rows).
const first = performance.now();
s.queryTasks({ search: "nomatch-anywhere", limit: 50 });
console.log(`first search (computes ${s.tasksRetained} character masks): ${(performance.now() - first).toFixed(1)} ms`);
// One untimed pass first: the first call of each query shape compiles code, and the forced GCs
// above leave background sweeping that would be charged to the first queries.
for (const [, q] of queries) s.queryTasks(q);
for (const [label, q] of queries) {
  const times: number[] = [];
  let matches = 0;
  for (let r = 0; r < RUNS; r++) {
    const c = performance.now();
    matches = s.queryTasks(q).total;
    times.push(performance.now() - c);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(48)} min ${times[0].toFixed(2).padStart(7)} ms  median ${times[times.length >> 1].toFixed(2).padStart(7)} ms  (${matches} matches)`);
}
const c1 = performance.now();
s.overview();
s.charts("1s");
s.metricsText();
console.log(`overview + charts(1s) + metrics: ${(performance.now() - c1).toFixed(2)} ms`);
const rss2 = settle();
console.log(`after queries: RSS +${((rss2 - rss0) / N).toFixed(0)} B/task`);

// Steady state: a full store evicting one finished task per new one.
const extra = Math.floor(N / 10);
const [evEvict, msEvict] = feed(2, 0, extra);
console.log(`ingest at full store (evicting): ${Math.round(evEvict / (msEvict / 1000))} events/s, evicted ${s.tasksEvicted.total}`);
// tick() refreshes changed rows' masks in the background (40 ms budget per call, 1 call/s).
const tk = performance.now();
s.tick();
const tickMs = performance.now() - tk;
const again = performance.now();
s.queryTasks({ search: "nomatch-anywhere", limit: 50 });
console.log(`after ${extra} new tasks: tick() ${tickMs.toFixed(1)} ms, then search=nomatch-anywhere ${(performance.now() - again).toFixed(1)} ms`);

// With a history listener (persistence): each change tells the listener the task's uuid.
let heard = 0;
const off = s.onTaskChange(() => heard++);
const [evL, msL] = feed(3, 0, extra);
off();
console.log(`ingest with one onTaskChange listener: ${Math.round(evL / (msL / 1000))} events/s (${heard} changes)`);
