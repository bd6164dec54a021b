import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../protocol/api";
import type { TaskEvent } from "../protocol/types";
import { Metrics, goFloat, pyFloatRepr, renderPrometheus } from "./metrics";
import { taskEv } from "./test-events";
import { applyTaskEvent } from "./transitions";

const records = new WeakMap<Metrics, Map<string, TaskRecord>>();

function feed(m: Metrics, events: TaskEvent[]): void {
  let recs = records.get(m);
  if (recs === undefined) records.set(m, (recs = new Map()));
  for (const ev of events) {
    const rec = applyTaskEvent(recs.get(ev.uuid), ev);
    recs.set(ev.uuid, rec);
    m.onTaskEvent(ev, rec);
  }
}

describe("float spelling (prometheus_client)", () => {
  it("writes Python reprs, Go-style exponents past 6 integer digits", () => {
    expect(goFloat(5)).toBe("5.0");
    expect(goFloat(0)).toBe("0.0");
    expect(goFloat(0.005)).toBe("0.005");
    expect(goFloat(0.06307812599993667)).toBe("0.06307812599993667");
    expect(goFloat(1795315847.413646)).toBe("1.795315847413646e+09");
    expect(goFloat(10000000)).toBe("1e+07");
    expect(goFloat(123456)).toBe("123456.0");
    expect(goFloat(Infinity)).toBe("+Inf");
    expect(pyFloatRepr(1e-5)).toBe("1e-05");
    expect(pyFloatRepr(0.0001)).toBe("0.0001");
    expect(pyFloatRepr(1e16)).toBe("1e+16");
    expect(pyFloatRepr(-2.5)).toBe("-2.5");
  });
});

describe("renderPrometheus", () => {
  it("renders Flower's families with alphabetical labels", () => {
    const m = new Metrics();
    feed(m, [
      taskEv("task-sent", "t1", { hostname: "gen18277@client-host" }),
      taskEv("task-received", "t1", { timestamp: 10 }),
      taskEv("task-started", "t1", { timestamp: 10.25, clock: 2 }),
      taskEv("task-succeeded", "t1", { timestamp: 10.3, clock: 3 }, { runtime: 0.03 }),
      taskEv("task-received", "t2", { timestamp: 11 }),
      taskEv("task-started", "t2", { timestamp: 11.1, clock: 2 }),
      taskEv("task-succeeded", "t2", { timestamp: 12, clock: 3 }, { runtime: 3 }),
      taskEv("task-failed", "t3", { hostname: "w2@host1" }, { exception: "NotRegistered('proj.nope')" }),
    ]);
    m.setWorkerOnline("w1@host1", true);
    m.setWorkerOnline("w2@host1", false);
    m.setExecuting("w1@host1", 2);
    m.eventsRejected = 3;
    const text = renderPrometheus(m);
    const lines = text.split("\n");
    expect(text.endsWith("\n")).toBe(true);
    expect(lines.slice(0, 3)).toEqual([
      "# HELP flower_events_total Number of events",
      "# TYPE flower_events_total counter",
      'flower_events_total{task="proj.add",type="task-sent",worker="gen18277@client-host"} 1.0',
    ]);
    expect(lines).toContain('flower_events_total{task="proj.add",type="task-succeeded",worker="w1@host1"} 2.0');
    // A failure of a task never seen before has no name: empty label, as Flower.
    expect(lines).toContain('flower_events_total{task="",type="task-failed",worker="w2@host1"} 1.0');
    expect(lines).toContain("# TYPE flower_task_runtime_seconds histogram");
    expect(lines).toContain('flower_task_runtime_seconds_bucket{le="0.025",task="proj.add",worker="w1@host1"} 0.0');
    expect(lines).toContain('flower_task_runtime_seconds_bucket{le="0.05",task="proj.add",worker="w1@host1"} 1.0');
    expect(lines).toContain('flower_task_runtime_seconds_bucket{le="2.5",task="proj.add",worker="w1@host1"} 1.0');
    expect(lines).toContain('flower_task_runtime_seconds_bucket{le="5.0",task="proj.add",worker="w1@host1"} 2.0');
    expect(lines).toContain('flower_task_runtime_seconds_bucket{le="+Inf",task="proj.add",worker="w1@host1"} 2.0');
    expect(lines).toContain('flower_task_runtime_seconds_count{task="proj.add",worker="w1@host1"} 2.0');
    expect(lines).toContain('flower_task_runtime_seconds_sum{task="proj.add",worker="w1@host1"} 3.03');
    expect(lines.filter((l) => l.startsWith("flower_task_runtime_seconds_bucket")).length).toBe(15);
    // Prefetch: set at start (started - received), back to 0 when done; counter back to 0.
    expect(lines).toContain('flower_task_prefetch_time_seconds{task="proj.add",worker="w1@host1"} 0.0');
    expect(lines).toContain('flower_worker_prefetched_tasks{task="proj.add",worker="w1@host1"} 0.0');
    expect(lines).toContain('flower_worker_online{worker="w1@host1"} 1.0');
    expect(lines).toContain('flower_worker_online{worker="w2@host1"} 0.0');
    expect(lines).toContain('flower_worker_number_of_currently_executing_tasks{worker="w1@host1"} 2.0');
    expect(lines).toContain("# TYPE petal_events_rejected_total counter");
    expect(lines).toContain("petal_events_rejected_total 3.0");
    for (const l of lines) if (l !== "" && !l.startsWith("#")) expect(l).toMatch(/^[a-z_]+(\{[^}]*\})? \S+$/);
  });

  it("keeps the prefetch gauges while a task waits and runs", () => {
    const m = new Metrics();
    feed(m, [taskEv("task-received", "t1", { timestamp: 10 }), taskEv("task-received", "t2", { timestamp: 10 })]);
    let text = renderPrometheus(m);
    expect(text).toContain('flower_worker_prefetched_tasks{task="proj.add",worker="w1@host1"} 2.0');
    feed(m, [taskEv("task-started", "t1", { timestamp: 10.5, clock: 2 })]);
    text = renderPrometheus(m);
    expect(text).toContain('flower_worker_prefetched_tasks{task="proj.add",worker="w1@host1"} 1.0');
    expect(text).toContain('flower_task_prefetch_time_seconds{task="proj.add",worker="w1@host1"} 0.5');
    // ETA tasks are not prefetch (Flower skips them).
    feed(m, [taskEv("task-received", "t3", { timestamp: 11 }, { eta: "2030-01-01T00:00:00+00:00" })]);
    expect(renderPrometheus(m)).toContain('flower_worker_prefetched_tasks{task="proj.add",worker="w1@host1"} 1.0');
  });

  it("escapes label values", () => {
    const m = new Metrics();
    feed(m, [taskEv("task-received", "t1", {}, { name: 'we"ird\\name\n' })]);
    expect(renderPrometheus(m)).toContain('task="we\\"ird\\\\name\\n"');
  });
});
