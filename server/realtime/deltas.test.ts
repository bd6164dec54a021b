import { describe, expect, it } from "vitest";
import { emptyTaskRecord, type ChartsPayload, type TaskPage, type TaskRecord } from "../../lib/protocol/api";
import { applyChartsDelta, applyTaskDelta } from "../../lib/protocol/wire";
import { SentCharts } from "./chart-delta";
import { REPR_MAX, SentPage } from "./task-rows";

function task(uuid: string, state: TaskRecord["state"] = "RECEIVED", extra: Partial<TaskRecord> = {}): TaskRecord {
  return { ...emptyTaskRecord(uuid), name: "proj.add", state, received: 1700000000.1234567, worker: "w@h", args: "(1, 2)", ...extra };
}

/** What the browser shows for a page: the fields a list row carries. */
function shown(p: TaskPage) {
  return { total: p.total, offset: p.offset, rows: p.rows.map((t) => [t.uuid, t.state, t.args, t.received === null ? null : Math.round(t.received * 1000) / 1000]) };
}

describe("task list deltas", () => {
  it("sends every row first, then only changed rows, and the browser rebuilds the same page", () => {
    const sent = new SentPage();
    const versions = new Map<string, number>();
    const ver = (id: string) => versions.get(id) ?? 0;
    let page: TaskPage = { total: 3, offset: 0, rows: [task("a"), task("b"), task("c")] };
    const d1 = sent.diff(page, ver)!;
    expect(d1.whole).toBe(true);
    expect(d1.rows).toHaveLength(3);
    let held = applyTaskDelta(undefined, d1)!;
    expect(shown(held)).toEqual(shown(page));
    expect(held.rows[0].received).toBe(1700000000.123);

    // nothing moved: nothing to send
    expect(sent.diff(page, ver)).toBeNull();

    // b finished: one row, no order
    versions.set("b", 1);
    page = { total: 3, offset: 0, rows: [task("a"), task("b", "SUCCESS"), task("c")] };
    const d2 = sent.diff(page, ver)!;
    expect(d2.whole).toBe(false);
    expect(d2.ids).toBeUndefined();
    expect(d2.rows.map((r) => r[0])).toEqual(["b"]);
    const before = held;
    held = applyTaskDelta(held, d2)!;
    expect(shown(held)).toEqual(shown(page));
    expect(held.rows[0]).toBe(before.rows[0]); // unchanged rows keep their objects

    // a new row on top pushes c out: order plus the one new row
    page = { total: 4, offset: 0, rows: [task("d"), task("a"), task("b", "SUCCESS")] };
    const d3 = sent.diff(page, ver)!;
    expect(d3.ids).toEqual(["d", "a", "b"]);
    expect(d3.rows.map((r) => r[0])).toEqual(["d"]);
    held = applyTaskDelta(held, d3)!;
    expect(shown(held)).toEqual(shown(page));

    // only the total moved
    page = { ...page, total: 5 };
    const d4 = sent.diff(page, ver)!;
    expect(d4.rows).toEqual([]);
    expect(applyTaskDelta(held, d4)!.total).toBe(5);
  });

  it("cuts long reprs and refuses a delta built on rows the browser lacks", () => {
    const sent = new SentPage();
    const d = sent.diff({ total: 1, offset: 0, rows: [task("a", "RECEIVED", { args: "x".repeat(5000) })] }, () => 0)!;
    expect(d.rows[0][10]).toHaveLength(REPR_MAX + 1);
    const d2 = sent.diff({ total: 2, offset: 0, rows: [task("z"), task("a")] }, () => 0)!;
    expect(applyTaskDelta({ total: 1, offset: 0, rows: [] }, d2)).toBeNull();
    expect(applyTaskDelta(undefined, d2)).toBeNull();
  });
});

function charts(t0: number, n: number, names: string[], f: (name: string, t: number) => number): ChartsPayload {
  const ts = Array.from({ length: n }, (_, i) => t0 + i);
  const c: ChartsPayload = { resolution: "1s", throughput: ts.map((t) => ({ t, received: f("", t), succeeded: 0, failed: 0, retried: 0 })), runtime: {}, failures: {} };
  for (const name of names) {
    c.runtime[name] = ts.map((t) => (f(name, t) ? { t, p50: 0.1, p95: 0.2, p99: f(name, t), count: 1 } : { t, p50: null, p95: null, p99: null, count: 0 }));
    c.failures[name] = ts.map((t) => ({ t, failed: f(name, t) }));
  }
  return c;
}

describe("chart deltas", () => {
  it("sends only changed buckets as the window slides, and the browser rebuilds the payload", () => {
    const sent = new SentCharts();
    const busy = (name: string, t: number) => (t % 7 === 0 || name === "b" ? t % 3 : 0);
    let c = charts(1000, 600, ["a", "b"], busy);
    const d1 = sent.diff(c)!;
    expect(d1.whole).toBe(true);
    let held = applyChartsDelta(undefined, d1);
    expect(held).toEqual(c);

    // one second later: the window slides by one and the newest bucket fills
    c = charts(1001, 600, ["a", "b"], (name, t) => (t === 1600 ? 5 : busy(name, t)));
    const d2 = sent.diff(c)!;
    expect(d2.whole).toBe(false);
    const points = d2.throughput.length + Object.values(d2.runtime).flat().length + Object.values(d2.failures).flat().length;
    expect(points).toBeLessThan(10);
    held = applyChartsDelta(held, d2);
    expect(held).toEqual(c);

    // a name appears, another disappears; another resolution starts over
    c = charts(1002, 600, ["b", "c"], busy);
    held = applyChartsDelta(held, sent.diff(c)!);
    expect(held).toEqual(c);
    c = charts(1003, 600, ["b"], busy);
    held = applyChartsDelta(held, sent.diff(c)!);
    expect(held).toEqual(c);
    const ten = { ...charts(100, 60, ["b"], busy), resolution: "10s" as const };
    const d3 = sent.diff(ten)!;
    expect(d3.whole).toBe(true);
    expect(applyChartsDelta(held, d3)).toEqual({ ...ten, throughput: ten.throughput });
  });

  it("refuses a sparse payload (sent whole instead) and keeps fields it does not know", () => {
    const sent = new SentCharts();
    const c = charts(1000, 10, ["a"], () => 1);
    const sparse = { ...c, throughput: c.throughput.filter((_, i) => i !== 3) };
    expect(sent.diff(sparse)).toBeNull();
    const extra = { ...c, range: "1h" } as ChartsPayload;
    expect(applyChartsDelta(undefined, sent.diff(extra)!)).toEqual(extra);
  });
});
