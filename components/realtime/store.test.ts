import { describe, expect, it, vi } from "vitest";
import type { Overview, RealtimeUpdate, TaskPage, WorkerRecord } from "@/lib/protocol/api";
import { RealtimeStore, connectionStatus } from "./store";

function overview(active: number): Overview {
  const zero = { received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0, rejected: 0 };
  return {
    workers_online: 1,
    workers_total: 1,
    active,
    queued: 0,
    totals: zero,
    last_minute: zero,
    failure_rate: 0,
    tasks_retained: 0,
    events_total: 0,
    events_rejected: 0,
    task_names: [],
  };
}

function page(ids: string[]): TaskPage {
  return { total: ids.length, offset: 0, rows: ids.map((uuid) => ({ uuid }) as TaskPage["rows"][number]) };
}

const worker = { hostname: "w1@h" } as WorkerRecord;

function upd(seq: number, full: boolean, rest: Partial<RealtimeUpdate> = {}): RealtimeUpdate {
  return { seq, full, now: 1000, ...rest };
}

describe("RealtimeStore", () => {
  it("replaces everything on a snapshot and merges parts of a diff", () => {
    const st = new RealtimeStore();
    expect(st.apply(upd(1, true, { overview: overview(1), workers: [worker], config: { readOnly: true, broker: "memory://", version: "0.1.0" } }), 5)).toBe("applied");
    const first = st.getSnapshot();
    expect(first.data.overview?.active).toBe(1);
    expect(first.config?.readOnly).toBe(true);

    expect(st.apply(upd(2, false, { overview: overview(7) }), 6)).toBe("applied");
    const second = st.getSnapshot();
    expect(second).not.toBe(first);
    expect(second.data.overview?.active).toBe(7);
    // untouched parts keep their identity so memoised rows do not re-render
    expect(second.data.workers).toBe(first.data.workers);
    expect(second.config?.readOnly).toBe(true);
    expect(second.lastUpdateAt).toBe(6);

    // a new snapshot drops what it does not carry
    st.apply(upd(3, true, { overview: overview(0) }), 7);
    expect(st.getSnapshot().data.workers).toBeUndefined();
  });

  it("reports a gap but keeps the newer data, and drops stale messages", () => {
    const st = new RealtimeStore();
    st.apply(upd(10, true, { overview: overview(1) }), 0);
    expect(st.apply(upd(12, false, { overview: overview(3) }), 0)).toBe("gap");
    expect(st.getSnapshot().data.overview?.active).toBe(3);
    expect(st.apply(upd(12, false, { overview: overview(9) }), 0)).toBe("stale");
    expect(st.apply(upd(11, false, { overview: overview(9) }), 0)).toBe("stale");
    expect(st.getSnapshot().data.overview?.active).toBe(3);
    expect(st.apply(upd(13, false, {}), 0)).toBe("applied");
  });

  it("treats a diff before any snapshot as a gap", () => {
    const st = new RealtimeStore();
    expect(st.apply(upd(4, false, { overview: overview(2) }), 0)).toBe("gap");
  });

  it("ignores question-dependent parts of diffs until the new snapshot arrives", () => {
    const st = new RealtimeStore();
    st.apply(upd(1, true, { tasks: page(["a"]), overview: overview(1) }), 0);
    st.resubscribed(["tasks"], 0);
    expect(st.getSnapshot().data.tasks).toBeUndefined();
    expect(st.getSnapshot().awaitingSnapshot).toBe(true);
    st.apply(upd(2, false, { tasks: page(["old-filter"]), overview: overview(2) }), 0);
    expect(st.getSnapshot().data.tasks).toBeUndefined();
    expect(st.getSnapshot().data.overview?.active).toBe(2);
    st.apply(upd(1, true, { tasks: page(["new"]) }), 0);
    expect(st.getSnapshot().data.tasks?.rows[0]?.uuid).toBe("new");
    expect(st.getSnapshot().awaitingSnapshot).toBe(false);
  });

  it("stops waiting for a snapshot that never comes", () => {
    const st = new RealtimeStore();
    st.apply(upd(1, true, {}), 0);
    st.resubscribed(["tasks"], 1000);
    st.apply(upd(2, false, { tasks: page(["early"]) }), 1500);
    expect(st.getSnapshot().data.tasks).toBeUndefined();
    st.apply(upd(3, false, { tasks: page(["late"]) }), 1000 + 3001);
    expect(st.getSnapshot().data.tasks?.rows[0]?.uuid).toBe("late");
  });

  it("records a refused subscription and stops waiting for its snapshot", () => {
    const st = new RealtimeStore();
    st.apply(upd(1, true, {}), 0);
    st.resubscribed(["tasks"], 0);
    st.subscribeResult("invalid task query: bad search");
    expect(st.getSnapshot().subscribeError).toBe("invalid task query: bad search");
    expect(st.getSnapshot().awaitingSnapshot).toBe(false);
    st.apply(upd(2, false, { tasks: page(["old-query"]) }), 10);
    expect(st.getSnapshot().data.tasks?.rows[0]?.uuid).toBe("old-query");
    st.subscribeResult(null);
    expect(st.getSnapshot().subscribeError).toBeNull();
  });

  it("notifies listeners and derives the connection status", () => {
    const st = new RealtimeStore();
    const l = vi.fn();
    const off = st.subscribe(l);
    expect(connectionStatus(st.getSnapshot())).toBe("connecting");
    st.setConnected(true);
    expect(connectionStatus(st.getSnapshot())).toBe("live");
    st.apply(upd(1, true, { broker: { url: "redis://x", transport: "redis", status: "reconnecting", queues: [] } }), 0);
    expect(connectionStatus(st.getSnapshot())).toBe("broker-down");
    st.setConnected(false);
    expect(connectionStatus(st.getSnapshot())).toBe("reconnecting");
    // after a reconnect any first message re-bases the sequence
    expect(st.getSnapshot().seq).toBeNull();
    expect(l).toHaveBeenCalledTimes(3);
    off();
    st.setConnected(true);
    expect(l).toHaveBeenCalledTimes(3);
  });
});

describe("RealtimeStore with task-list deltas", () => {
  const row = (uuid: string, state: "RECEIVED" | "SUCCESS") =>
    [uuid, "proj.add", state, 1, null, null, 1, null, 0, "w@h", "()", "{}", null, null] as import("@/lib/protocol/wire").WireRow;

  it("rebuilds the page from the rows it holds and asks for a resync when a delta does not fit", () => {
    const st = new RealtimeStore();
    expect(st.apply({ seq: 1, full: true, now: 1, taskRows: { whole: true, total: 2, offset: 0, rows: [row("a", "RECEIVED"), row("b", "RECEIVED")] } }, 1)).toBe("applied");
    const a = st.getSnapshot().data.tasks!.rows[0];
    expect(st.apply({ seq: 2, full: false, now: 2, taskRows: { whole: false, total: 2, offset: 0, rows: [row("b", "SUCCESS")] } }, 2)).toBe("applied");
    const p = st.getSnapshot().data.tasks!;
    expect(p.rows.map((t) => [t.uuid, t.state])).toEqual([["a", "RECEIVED"], ["b", "SUCCESS"]]);
    expect(p.rows[0]).toBe(a);
    // builds on a row this tab never got: the page stays, the caller resyncs
    expect(st.apply({ seq: 3, full: false, now: 3, taskRows: { whole: false, total: 3, offset: 0, ids: ["z", "a"], rows: [] } }, 3)).toBe("gap");
    expect(st.getSnapshot().data.tasks).toBe(p);
  });

  it("drops deltas that answer the previous question while a new snapshot is awaited", () => {
    const st = new RealtimeStore();
    st.apply({ seq: 1, full: true, now: 1, taskRows: { whole: true, total: 1, offset: 0, rows: [row("a", "RECEIVED")] } }, 1);
    st.resubscribed(["tasks"], 2);
    expect(st.apply({ seq: 2, full: false, now: 2, taskRows: { whole: false, total: 1, offset: 0, rows: [row("a", "SUCCESS")] } }, 3)).toBe("applied");
    expect(st.getSnapshot().data.tasks).toBeUndefined();
  });
});
