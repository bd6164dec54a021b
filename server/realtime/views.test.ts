import { describe, expect, it } from "vitest";
import type { ChartsPayload, Overview, TaskPage, TaskQuery, TaskRecord, WorkerRecord } from "../../lib/protocol/api";
import type { BrokerStatus } from "../../lib/broker/types";
import type { ServerContext } from "../context";
import { BrokerMonitor } from "./broker-monitor";
import { parseSubscription } from "./subscription";
import { ViewCache, Viewer, type StateReader } from "./views";

/** A hand-driven state: bump versions and count how often views are computed. */
class FakeState implements StateReader {
  v = 1;
  tv = 1;
  wv = 1;
  taskVersions = new Map<string, number>();
  rows: string[] = [];
  /** ms each task query takes (busy-waits, like a scan of many tasks) */
  queryMs = 0;
  calls = { overview: 0, workers: 0, query: 0, charts: 0 };
  version = () => this.v;
  tasksVersion = () => this.tv;
  workersVersion = () => this.wv;
  taskVersion = (id: string) => this.taskVersions.get(id) ?? 0;
  getTask = (id: string) => (this.taskVersions.has(id) ? ({ uuid: id, state: "STARTED" } as TaskRecord) : null);
  queryTasks = (q: TaskQuery): TaskPage => {
    this.calls.query++;
    const until = performance.now() + this.queryMs;
    while (performance.now() < until) {
      /* a slow scan */
    }
    return { total: this.rows.length, offset: q.offset ?? 0, rows: this.rows.map((uuid) => ({ uuid }) as TaskRecord) };
  };
  workers = () => {
    this.calls.workers++;
    return [] as WorkerRecord[];
  };
  getWorker = () => null;
  overview = () => {
    this.calls.overview++;
    return { events_total: this.v } as Overview;
  };
  charts = (): ChartsPayload => {
    this.calls.charts++;
    return { resolution: "1s", throughput: [], runtime: {}, failures: {} };
  };
  touchTask(id: string) {
    this.v++;
    this.tv = this.v;
    this.taskVersions.set(id, this.v);
  }
}

function monitor() {
  let listener: ((s: BrokerStatus) => void) | null = null;
  const ctx = { broker: { url: "redis://u:secret@h:6379/0", onStatus: (l: (s: BrokerStatus) => void) => ((listener = l), () => {}) }, queueConsumers: () => ({}) } as unknown as ServerContext;
  const m = new BrokerMonitor(ctx);
  m.start();
  return { m, setStatus: (s: BrokerStatus) => listener?.(s) };
}

const config = { readOnly: true, broker: "memory://", version: "1" };

function setup(sub: unknown) {
  const st = new FakeState();
  const cache = new ViewCache(st);
  const { m, setStatus } = monitor();
  const p = parseSubscription(sub);
  if (!p.ok) throw new Error(p.message);
  const v = new Viewer(p.value);
  let mono = 0;
  const now = 1_700_000_000_000;
  const collect = (advance = 100) => v.collect(st, cache, m, config, now + mono, (mono += advance), 1000);
  return { st, v, m, setStatus, collect, cache };
}

describe("Viewer", () => {
  it("starts with a full snapshot of what is subscribed, then stays quiet", () => {
    const { collect, m } = setup({ tasks: { limit: 5 } });
    const u = collect()!;
    expect(u).toMatchObject({ seq: 1, full: true, config, taskRows: { whole: true, total: 0, offset: 0, rows: [] } });
    expect(u.overview).toBeUndefined();
    expect(u.broker?.url).toBe("redis://u:***@h:6379/0");
    expect(collect()).toBeNull();
    m.close();
  });

  it("resends the task page only when its rows or their versions change", () => {
    const { st, collect, m } = setup({ tasks: { limit: 5 } });
    st.rows = ["a"];
    st.touchTask("a");
    collect();
    expect(collect()).toBeNull();
    // Another version bump that does not touch this page's rows or total.
    st.v++;
    st.tv = st.v;
    const q = st.calls.query;
    expect(collect()).toBeNull();
    expect(st.calls.query).toBe(q + 1);
    st.touchTask("a");
    expect(collect()?.taskRows?.rows.map((r) => r[0])).toEqual(["a"]);
    m.close();
  });

  it("refreshes a slow task query at most every 4× its cost, a cheap one every tick", () => {
    const { st, collect, m } = setup({ tasks: { limit: 5 } });
    st.queryMs = 30;
    st.rows = ["a"];
    collect();
    const q = st.calls.query;
    st.touchTask("a");
    // 100 ms later: below 4 × 30 ms, so the query waits
    expect(collect(100)).toBeNull();
    expect(st.calls.query).toBe(q);
    expect(collect(30)?.taskRows?.rows.map((r) => r[0])).toEqual(["a"]);
    expect(st.calls.query).toBe(q + 1);
    st.queryMs = 0;
    st.touchTask("a");
    // still judged by the last (slow) cost once, then by the cheap one
    collect(130);
    st.touchTask("a");
    expect(collect(100)?.taskRows).toBeDefined();
    m.close();
  });

  it("sends a task view when that task's version moves", () => {
    const { st, collect, m } = setup({ task: "t1" });
    expect(collect()?.task).toBeNull();
    st.touchTask("t2");
    expect(collect()).toBeNull();
    st.touchTask("t1");
    const u = collect()!;
    expect(u.full).toBe(false);
    expect(u.task?.uuid).toBe("t1");
    expect(u.seq).toBe(2);
    m.close();
  });

  it("throttles charts to once a second", () => {
    const { st, collect, m } = setup({ charts: { resolution: "10s" } });
    expect(collect()?.chartsDelta).toBeDefined();
    st.v++;
    expect(collect(300)).toBeNull();
    expect(collect(300)).toBeNull();
    expect(collect(500)?.chartsDelta).toBeDefined();
    m.close();
  });

  it("shares overview computation between sockets", () => {
    const st = new FakeState();
    const cache = new ViewCache(st);
    const { m } = monitor();
    const a = new Viewer({ overview: true });
    const b = new Viewer({ overview: true });
    a.collect(st, cache, m, config, 1000, 0, 1000);
    b.collect(st, cache, m, config, 1000, 0, 1000);
    expect(st.calls.overview).toBe(1);
    m.close();
  });

  it("tells every socket about broker status changes, queues only to subscribers", () => {
    const { collect, setStatus, m } = setup({ workers: true });
    collect();
    setStatus("reconnecting");
    expect(collect()?.broker?.status).toBe("reconnecting");
    expect(collect()).toBeNull();
    m.close();
  });

  it("returns to a full snapshot on resubscribe", () => {
    const { v, collect, m } = setup({ workers: true });
    collect();
    v.subscribe({ overview: true });
    const u = collect()!;
    expect(u.full).toBe(true);
    expect(u.overview).toBeDefined();
    expect(u.workers).toBeUndefined();
    m.close();
  });
});

describe("parseSubscription", () => {
  it("accepts the full shape and drops nulls", () => {
    const r = parseSubscription({ overview: true, workers: false, tasks: { state: ["FAILURE"], search: null, limit: 50 }, task: null, charts: { resolution: "1m" } });
    expect(r).toEqual({ ok: true, value: { overview: true, tasks: { state: ["FAILURE"], limit: 50 }, charts: { resolution: "1m", worker: null } } });
  });

  it.each([[null], ["x"], [{ tasks: { limit: 0 } }], [{ tasks: { state: ["DONE"] } }], [{ charts: { resolution: "5s" } }], [{ extra: true }], [{ task: "" }]])(
    "refuses %j",
    (input) => {
      const r = parseSubscription(input);
      expect(r.ok).toBe(false);
    },
  );
});
