import { describe, expect, it } from "vitest";
import { decodeBody } from "./envelope";
import {
  encodeEventEnvelope,
  EVENT_FIELDS,
  eventRoutingKey,
  LamportClock,
  localUtcOffset,
  splitEventBody,
  taskEvent,
  validateEvent,
  workerEvent,
} from "./events";
import type { EventType } from "./types";

const heartbeat = () => ({
  hostname: "w1@host1",
  utcoffset: 0,
  pid: 7815,
  clock: 2,
  freq: 2.0,
  active: 0,
  processed: 0,
  loadavg: [0.49, 0.25, 0.1],
  sw_ident: "py-celery",
  sw_ver: "5.2.6",
  sw_sys: "Linux",
  timestamp: 1795314689.0022728,
  type: "worker-heartbeat",
});

const failed = () => ({
  hostname: "w2@host1",
  utcoffset: 0,
  pid: 7817,
  clock: 398,
  uuid: "87122f58-a839-4630-ad61-11a8dadd04b2",
  exception: "NotRegistered('demo.nope')",
  timestamp: 1795314857.7675064,
  type: "task-failed",
});

describe("validateEvent", () => {
  it("accepts a Celery heartbeat and returns the same object", () => {
    const e = heartbeat();
    expect(validateEvent(e)).toBe(e);
  });

  it("accepts task-failed without traceback (NotRegistered) and does not invent one", () => {
    const e = validateEvent(failed());
    expect(e).not.toBeNull();
    expect("traceback" in e!).toBe(false);
  });

  it("keeps unknown extra fields", () => {
    const e = validateEvent({ ...failed(), custom: { a: 1 }, retry_of: "x" }) as Record<string, unknown> | null;
    expect(e?.custom).toEqual({ a: 1 });
    expect(e?.retry_of).toBe("x");
  });

  it("accepts ints where floats are expected", () => {
    expect(validateEvent({ ...heartbeat(), timestamp: 1795314689, freq: 2, loadavg: [0, 1, 2] })).not.toBeNull();
  });

  it.each([
    ["not an object", "x"],
    ["null", null],
    ["an array", [heartbeat()]],
    ["unknown type", { ...heartbeat(), type: "worker-dance" }],
    ["missing type", { ...heartbeat(), type: undefined }],
    ["missing hostname", { ...heartbeat(), hostname: undefined }],
    ["empty hostname", { ...heartbeat(), hostname: "" }],
    ["numeric hostname", { ...heartbeat(), hostname: 5 }],
    ["missing uuid", { ...failed(), uuid: undefined }],
    ["empty uuid", { ...failed(), uuid: "" }],
    ["missing timestamp", { ...failed(), timestamp: undefined }],
    ["string timestamp", { ...failed(), timestamp: "1795314857.7" }],
    ["fractional clock", { ...failed(), clock: 1.5 }],
    ["string pid", { ...failed(), pid: "7817" }],
    ["numeric exception", { ...failed(), exception: 1 }],
    ["loadavg of 2", { ...heartbeat(), loadavg: [1, 2] }],
    ["loadavg of strings", { ...heartbeat(), loadavg: ["1", "2", "3"] }],
    ["string active", { ...heartbeat(), active: "0" }],
    ["string terminated", { hostname: "w", utcoffset: 0, pid: 1, clock: 1, uuid: "u", terminated: "yes", signum: null, expired: false, timestamp: 1, type: "task-revoked" }],
    ["prototype key as type", { ...heartbeat(), type: "__proto__" }],
  ])("rejects %s", (_why, x) => {
    expect(validateEvent(x)).toBeNull();
  });

  it("fills documented fallbacks for absent non-identity fields", () => {
    const e = validateEvent({ hostname: "gen1@h", uuid: "u1", name: "demo.add", timestamp: 1, type: "task-sent", args: null }) as unknown as Record<string, unknown>;
    expect(e).toMatchObject({ clock: 0, pid: 0, utcoffset: 0, args: "", kwargs: "", retries: 0, eta: null, root_id: null, queue: "" });
  });

  it("keeps null where the field is nullable", () => {
    const e = validateEvent({ ...failed(), type: "task-revoked", terminated: true, signum: null, expired: false });
    expect(e).toMatchObject({ signum: null, terminated: true });
  });

  it("requires name on task-sent and task-received", () => {
    expect(validateEvent({ hostname: "h", uuid: "u", timestamp: 1, type: "task-received" })).toBeNull();
  });

  it("has a field table for every event type, in Celery's order", () => {
    for (const [type, specs] of Object.entries(EVENT_FIELDS)) {
      const names = specs.map((s) => s.name);
      expect(names.slice(0, 4), type).toEqual(["hostname", "utcoffset", "pid", "clock"]);
      expect(names.slice(-2), type).toEqual(["timestamp", "type"]);
    }
  });

  it("validates 100k events quickly (hot path)", () => {
    const events = Array.from({ length: 100_000 }, (_, i) => ({ ...heartbeat(), clock: i }));
    const t0 = performance.now();
    let ok = 0;
    for (const e of events) if (validateEvent(e)) ok++;
    const ms = performance.now() - t0;
    expect(ok).toBe(100_000);
    expect(ms).toBeLessThan(1000);
  });
});

describe("splitEventBody / eventRoutingKey", () => {
  it("returns arrays as they are and wraps single objects", () => {
    const arr = [1, 2];
    expect(splitEventBody(arr)).toBe(arr);
    const o = { a: 1 };
    expect(splitEventBody(o)).toEqual([o]);
    expect(splitEventBody(null)).toEqual([null]);
  });

  it("turns dashes into dots", () => {
    expect(eventRoutingKey("task-sent")).toBe("task.sent");
    expect(eventRoutingKey("worker-heartbeat")).toBe("worker.heartbeat");
    expect(eventRoutingKey("task-my-custom")).toBe("task.my.custom");
  });

  it("encodes single events on their routing key and batches on task.multi", () => {
    const single = encodeEventEnvelope("w1@host1", heartbeat());
    expect(single.headers).toEqual({ hostname: "w1@host1" });
    expect(single.properties.delivery_info).toEqual({ exchange: "celeryev", routing_key: "worker.heartbeat" });
    expect(single.properties.delivery_mode).toBe(1);
    expect(decodeBody(single)).toEqual(heartbeat());
    const multi = encodeEventEnvelope("w2@host1", [failed(), failed()]);
    expect(multi.properties.delivery_info.routing_key).toBe("task.multi");
    expect(decodeBody(multi)).toEqual([failed(), failed()]);
  });
});

describe("LamportClock", () => {
  it("ticks and adjusts like kombu's clock", () => {
    const c = new LamportClock();
    expect(c.tick()).toBe(1);
    expect(c.tick()).toBe(2);
    expect(c.adjust(10)).toBe(11);
    expect(c.adjust(3)).toBe(12);
    expect(c.value).toBe(12);
  });

  it("observe() overwrites task-sent clocks and adjusts to others (EventReceiver)", () => {
    const c = new LamportClock();
    const sent = { type: "task-sent", clock: 500 };
    c.observe(sent);
    expect(sent.clock).toBe(0);
    expect(c.value).toBe(1);
    const recv = { type: "task-received", clock: 52 };
    expect(c.observe(recv)).toBe(53);
    expect(recv.clock).toBe(52);
    const sent2 = { type: "task-sent", clock: 1 };
    c.observe(sent2);
    expect(sent2.clock).toBe(52);
    expect(c.value).toBe(54);
    const noClock: { type: string; clock?: unknown } = { type: "worker-heartbeat" };
    c.observe(noClock);
    expect(noClock.clock).toBe(55);
  });
});

describe("taskEvent / workerEvent", () => {
  const base = { hostname: "w1@h", pid: 42, clock: new LamportClock(7), utcoffset: -2, now: () => 1000.5 };

  it("fills base fields in Celery's order and ticks the clock per event", () => {
    const e = taskEvent("task-started", { uuid: "u1" }, base);
    expect(Object.keys(e)).toEqual(["hostname", "utcoffset", "pid", "clock", "uuid", "timestamp", "type"]);
    expect(e).toEqual({ hostname: "w1@h", utcoffset: -2, pid: 42, clock: 8, uuid: "u1", timestamp: 1000.5, type: "task-started" });
    expect(taskEvent("task-started", { uuid: "u2" }, base).clock).toBe(9);
  });

  it("orders the type's own fields as Celery does, whatever the input order", () => {
    const e = taskEvent(
      "task-succeeded",
      { runtime: 0.5, result: "5", uuid: "u", timestamp: 12 },
      { hostname: "w", pid: 1, clock: 3, utcoffset: 0 },
    );
    expect(Object.keys(e)).toEqual(["hostname", "utcoffset", "pid", "clock", "uuid", "result", "runtime", "timestamp", "type"]);
    expect(e.timestamp).toBe(12);
    expect(e.clock).toBe(3);
  });

  it("puts extension fields after Celery's own, before timestamp, and skips undefined", () => {
    const e = taskEvent(
      "task-sent",
      {
        uuid: "u",
        root_id: "u",
        parent_id: null,
        name: "demo.add",
        args: "(1,)",
        kwargs: "{}",
        retries: 0,
        eta: null,
        expires: null,
        queue: "celery",
        exchange: "",
        routing_key: "celery",
        retry_of: "old",
      },
      base,
    );
    const keys = Object.keys(e);
    expect(keys.indexOf("retry_of")).toBe(keys.indexOf("routing_key") + 1);
    expect(keys.at(-1)).toBe("type");
    const f = taskEvent("task-failed", { uuid: "u", exception: "E()", traceback: undefined }, base);
    expect("traceback" in f).toBe(false);
    expect(validateEvent(e)).not.toBeNull();
  });

  it("builds worker events that validate", () => {
    const e = workerEvent(
      "worker-heartbeat",
      { freq: 2, active: 1, processed: 5, loadavg: [0.1, 0.2, 0.3], sw_ident: "petal", sw_ver: "0.1.0", sw_sys: "Linux" },
      base,
    );
    expect(Object.keys(e)).toEqual(EVENT_FIELDS["worker-heartbeat" as EventType].map((s) => s.name));
    expect(validateEvent(e)).toBe(e);
  });

  it("localUtcOffset uses Python's floor and POSIX sign", () => {
    const now = Date.now();
    expect(localUtcOffset(now)).toBe(Math.floor(new Date(now).getTimezoneOffset() / 60));
  });
});
