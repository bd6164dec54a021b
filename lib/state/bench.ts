/**
 * Timing check for lib/state at 100k tasks (not a test: numbers depend on the machine).
 * Run: node --import tsx lib/state/bench.ts
 */
import type { TaskQuery } from "../protocol/api";
import { ClusterState } from "./index";
import { taskEv, workerEv } from "./test-events";

const N = 100_000;
const now = 1_800_000_000;
const s = new ClusterState({ now: () => now + performance.now() / 1000 });
const names = Array.from({ length: 20 }, (_, i) => `proj.task${i}`);
const hosts = Array.from({ length: 8 }, (_, i) => `w${i}@host`);

s.ingest(hosts.map((h) => workerEv("worker-online", h, { timestamp: now })));
const t0 = performance.now();
let events = 0;
const batch: unknown[] = [];
for (let i = 0; i < N; i++) {
  const id = `${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
  const host = hosts[i % hosts.length];
  const name = names[i % names.length];
  const ts = now + i * 0.01;
  batch.push(
    taskEv("task-sent", id, { timestamp: ts }, { name, args: `(${i}, ${i % 7})`, kwargs: `{'x': ${i % 100}, 'y': 'v${i % 13}'}` }),
    taskEv("task-received", id, { hostname: host, timestamp: ts + 0.001, clock: 3 * i + 1 }, { name, args: `(${i}, ${i % 7})`, kwargs: `{'x': ${i % 100}, 'y': 'v${i % 13}'}` }),
    taskEv("task-started", id, { hostname: host, timestamp: ts + 0.002, clock: 3 * i + 2 }),
  );
  if (i % 10 !== 0) {
    batch.push(
      i % 17 === 0
        ? taskEv("task-failed", id, { hostname: host, timestamp: ts + 0.05, clock: 3 * i + 3 }, { exception: `ValueError('bad ${i}')` })
        : taskEv("task-succeeded", id, { hostname: host, timestamp: ts + 0.05, clock: 3 * i + 3 }, { result: String(i * 2), runtime: 0.001 * (i % 500) }),
    );
  }
  if (batch.length >= 1000) {
    events += batch.length;
    s.ingest(batch.splice(0));
  }
}
events += batch.length;
s.ingest(batch.splice(0));
const ingestMs = performance.now() - t0;
console.log(`ingest: ${events} events in ${ingestMs.toFixed(0)} ms (${Math.round(events / (ingestMs / 1000))} events/s), retained ${s.tasksRetained}`);

const queries: [string, TaskQuery][] = [
  ["default page (limit 50)", { limit: 50 }],
  ["offset 5000 limit 50", { limit: 50, offset: 5000 }],
  ["state=STARTED", { state: ["STARTED"], limit: 50 }],
  ["state=SUCCESS", { state: ["SUCCESS"], limit: 50 }],
  ["taskname=proj.task3", { taskname: ["proj.task3"], limit: 50 }],
  ["workername=w2@host + state=FAILURE", { workername: ["w2@host"], state: ["FAILURE"], limit: 50 }],
  ["sort_by=-runtime", { sort_by: "-runtime", limit: 50 }],
  ["sort_by=name", { sort_by: "name", limit: 50 }],
  ["search=task1", { search: "task1", limit: 50 }],
  ["search=state:failure", { search: "state:failure", limit: 50 }],
  ["search=kwargs:y=v3", { search: "kwargs:y=v3", limit: 50 }],
  ["search=(name:task1 OR result:123) w2@host", { search: "(name:task1 OR result:123) w2@host", limit: 50 }],
  ["search=nomatch-anywhere", { search: "nomatch-anywhere", limit: 50 }],
  ["received range", { received_start: now + 100, received_end: now + 200, limit: 50 }],
];
for (const [label, q] of queries) {
  s.queryTasks(q); // warm up
  // Min and median CPU ms of several runs.
  const times: number[] = [];
  let total = 0;
  for (let r = 0; r < 9; r++) {
    // CPU time of this process, so other load on the machine does not count.
    const c = process.cpuUsage();
    total = s.queryTasks(q).total;
    const d = process.cpuUsage(c);
    times.push((d.user + d.system) / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(48)} min ${times[0].toFixed(2).padStart(6)} ms  median ${times[4].toFixed(2).padStart(6)} ms  (${total} matches)`);
}
const t1 = performance.now();
s.overview();
s.charts("1s");
s.metricsText();
console.log(`overview + charts(1s) + metrics: ${(performance.now() - t1).toFixed(2)} ms`);
