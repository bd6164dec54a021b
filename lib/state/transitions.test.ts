import { describe, expect, it } from "vitest";
import type { TaskRecord } from "../protocol/api";
import type { TaskEvent, TaskEventType, TaskState } from "../protocol/types";
import { taskEv } from "./test-events";
import { TRANSITIONS, applyTaskEvent } from "./transitions";

const TYPES: TaskEventType[] = [
  "task-sent",
  "task-received",
  "task-started",
  "task-retried",
  "task-succeeded",
  "task-failed",
  "task-revoked",
  "task-rejected",
];

/**
 * Final state for (earlier event A = row, later event B = column), whatever order they arrive
 * in. Written out by hand from the rules: rank within an attempt, ready states absorb, the later
 * of two ready events wins.
 */
const EXPECTED: Record<TaskEventType, TaskState[]> = {
  //               sent       received    started    retried  succeeded  failed     revoked    rejected
  "task-sent": ["PENDING", "RECEIVED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-received": ["RECEIVED", "RECEIVED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-started": ["STARTED", "STARTED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-retried": ["RETRY", "RETRY", "RETRY", "RETRY", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-succeeded": ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-failed": ["FAILURE", "FAILURE", "FAILURE", "FAILURE", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-revoked": ["REVOKED", "REVOKED", "REVOKED", "REVOKED", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
  "task-rejected": ["REJECTED", "REJECTED", "REJECTED", "REJECTED", "SUCCESS", "FAILURE", "REVOKED", "REJECTED"],
};

function replay(events: TaskEvent[]): TaskRecord {
  let rec: TaskRecord | undefined;
  for (const ev of events) rec = applyTaskEvent(rec, ev);
  return rec!;
}

describe("transition table", () => {
  it("maps every task event type to a state", () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...TYPES].sort());
    expect(TRANSITIONS["task-retried"].state).toBe("RETRY");
    expect(TRANSITIONS["task-sent"].state).toBe("PENDING");
  });

  for (const a of TYPES) {
    for (const b of TYPES) {
      it(`${a} then ${b}, in both arrival orders`, () => {
        const ea = (): TaskEvent => taskEv(a, "t1", { timestamp: 100, clock: 10 });
        const eb = (): TaskEvent => taskEv(b, "t1", { timestamp: 101, clock: 11 });
        const inOrder = replay([ea(), eb()]);
        const reversed = replay([eb(), ea()]);
        expect(inOrder.state).toBe(EXPECTED[a][TYPES.indexOf(b)]);
        expect(reversed.state).toBe(EXPECTED[a][TYPES.indexOf(b)]);
        // Both events leave their time whatever the order, and the name is known from either
        // sent/received.
        expect(inOrder[TRANSITIONS[a].timeField]).not.toBeNull();
        expect(reversed[TRANSITIONS[b].timeField]).not.toBeNull();
        expect(reversed.timestamp).toBe(inOrder.timestamp);
        expect(reversed.worker).toBe(inOrder.worker);
        if (a === "task-sent" || a === "task-received" || b === "task-sent" || b === "task-received") {
          expect(reversed.name).toBe("proj.add");
          expect(inOrder.name).toBe("proj.add");
        }
      });
    }
  }
});

describe("merging out-of-order events", () => {
  it("a late task-sent fills name, args and queue but leaves state and timestamp", () => {
    const rec = replay([
      taskEv("task-started", "t1", { timestamp: 10, clock: 5 }),
      taskEv("task-sent", "t1", { timestamp: 9, clock: 40 }, { name: "proj.mul", args: "(4, 5)", queue: "math", routing_key: "math" }),
    ]);
    expect(rec.state).toBe("STARTED");
    expect(rec.timestamp).toBe(10);
    expect(rec.clock).toBe(5);
    expect(rec).toMatchObject({ name: "proj.mul", args: "(4, 5)", queue: "math", routing_key: "math", sent: 9, client: "gen1@client" });
  });

  it("keeps the latest time of each event kind and never wipes fields", () => {
    const rec = replay([
      taskEv("task-succeeded", "t1", { timestamp: 20, clock: 9 }, { result: "42", runtime: 1.5 }),
      taskEv("task-received", "t1", { timestamp: 11, clock: 2 }),
      taskEv("task-started", "t1", { timestamp: 12, clock: 3 }),
    ]);
    expect(rec).toMatchObject({ state: "SUCCESS", received: 11, started: 12, succeeded: 20, result: "42", runtime: 1.5, worker: "w1@host1" });
  });

  it("orders two ready events of one worker by its clock, across workers by timestamp", () => {
    const sameHost = replay([
      taskEv("task-revoked", "t1", { timestamp: 50, clock: 7 }),
      taskEv("task-succeeded", "t1", { timestamp: 60, clock: 6 }),
    ]);
    expect(sameHost.state).toBe("REVOKED");
    const otherHost = replay([
      taskEv("task-revoked", "t1", { hostname: "w2@host1", timestamp: 50, clock: 7 }),
      taskEv("task-succeeded", "t1", { timestamp: 60, clock: 6 }),
    ]);
    expect(otherHost.state).toBe("SUCCESS");
    expect(otherHost.result).toBe("5");
  });

  it("breaks an exact tie between ready events the same way in both orders", () => {
    const a = (): TaskEvent => taskEv("task-succeeded", "t1", { hostname: "w1@h", timestamp: 5, clock: 3 });
    const b = (): TaskEvent => taskEv("task-failed", "t1", { hostname: "w2@h", timestamp: 5, clock: 3 });
    expect(replay([a(), b()]).state).toBe("FAILURE");
    expect(replay([b(), a()]).state).toBe("FAILURE");
  });

  it("shows the new worker when a redelivered task starts again elsewhere", () => {
    const rec = replay([
      taskEv("task-received", "t1", { hostname: "w1@h", timestamp: 1, clock: 1 }),
      taskEv("task-started", "t1", { hostname: "w1@h", timestamp: 2, clock: 2 }),
      // w1 died without events; the message was restored and w2 took it.
      taskEv("task-received", "t1", { hostname: "w2@h", timestamp: 60, clock: 7 }),
    ]);
    expect(rec).toMatchObject({ state: "STARTED", worker: "w1@h" });
    applyTaskEvent(rec, taskEv("task-started", "t1", { hostname: "w2@h", timestamp: 61, clock: 8 }));
    expect(rec).toMatchObject({ state: "STARTED", worker: "w2@h", started: 61, received: 60, timestamp: 61 });
  });

  it("records revoke flags and keeps the traceback absent for NotRegistered failures", () => {
    const rev = replay([taskEv("task-revoked", "t1", {}, { terminated: true, signum: 15, expired: false })]);
    expect(rev).toMatchObject({ state: "REVOKED", terminated: true, signum: 15, expired: false });
    const nr = taskEv("task-failed", "t2", {}, { exception: "NotRegistered('proj.nope')" });
    delete (nr as { traceback?: string }).traceback;
    expect(replay([nr])).toMatchObject({ state: "FAILURE", name: null, received: null, traceback: null, exception: "NotRegistered('proj.nope')" });
  });

  it("does not take a retry's parent_id (its own id) as a parent", () => {
    const rec = replay([
      taskEv("task-received", "t1", {}, { parent_id: null }),
      taskEv("task-received", "t1", { clock: 5 }, { retries: 1, parent_id: "t1" }),
    ]);
    expect(rec.parent_id).toBeNull();
    expect(rec.retries).toBe(1);
  });
});

describe("retries: the next attempt of the same uuid", () => {
  // From the captured demo.flaky run (PROTOCOL.md §5.4): w2 runs attempt 0, calls retry(), its
  // pool child publishes attempt 1 (task-sent, retries 1), w1 receives and runs it. Events of one
  // host arrive in order; the streams interleave arbitrarily.
  const streams = (): TaskEvent[][] => [
    [taskEv("task-sent", "f", { hostname: "gen8505@host1", timestamp: 1.0, clock: 1 })],
    [
      taskEv("task-received", "f", { hostname: "w2@host1", timestamp: 1.1, clock: 57 }),
      taskEv("task-started", "f", { hostname: "w2@host1", timestamp: 1.2, clock: 58 }),
      taskEv("task-retried", "f", { hostname: "w2@host1", timestamp: 1.4, clock: 59 }, { exception: "Retry in 1s" }),
    ],
    [taskEv("task-sent", "f", { hostname: "gen7821@host1", timestamp: 1.3, clock: 2 }, { retries: 1, parent_id: "f", eta: "2026-01-01T00:00:01+00:00" })],
    [
      taskEv("task-received", "f", { hostname: "w1@host1", timestamp: 1.35, clock: 58 }, { retries: 1, eta: "2026-01-01T00:00:01+00:00" }),
      taskEv("task-started", "f", { hostname: "w1@host1", timestamp: 2.4, clock: 59 }),
    ],
  ];

  function interleavings(lists: TaskEvent[][]): TaskEvent[][] {
    if (lists.every((l) => l.length === 0)) return [[]];
    const out: TaskEvent[][] = [];
    lists.forEach((l, i) => {
      if (l.length === 0) return;
      const rest = lists.map((x, j) => (j === i ? x.slice(1) : x));
      for (const tail of interleavings(rest)) out.push([l[0], ...tail]);
    });
    return out;
  }

  it("ends STARTED on attempt 1 at w1 for every interleaving", () => {
    const all = interleavings(streams());
    expect(all.length).toBe(420);
    for (const seq of all) {
      const rec = replay(seq.map((e) => ({ ...e }) as TaskEvent));
      expect({ state: rec.state, retries: rec.retries, worker: rec.worker }).toEqual({ state: "STARTED", retries: 1, worker: "w1@host1" });
      expect(rec.eta).toBe("2026-01-01T00:00:01+00:00");
    }
  });

  it("shows attempt 1 RECEIVED (not RETRY, not the old STARTED) before it starts, in every interleaving", () => {
    const s = streams();
    s[3] = s[3].slice(0, 1);
    for (const seq of interleavings(s)) {
      const rec = replay(seq.map((e) => ({ ...e }) as TaskEvent));
      expect(rec.state).toBe("RECEIVED");
      expect(rec.retries).toBe(1);
      expect(rec.retried).toBe(1.4);
    }
  });

  it("goes RETRY → RECEIVED → STARTED → FAILURE in arrival order without races", () => {
    let rec = replay(streams()[1]);
    expect(rec.state).toBe("RETRY");
    expect(rec.exception).toBe("Retry in 1s");
    rec = applyTaskEvent(rec, streams()[2][0]);
    expect(rec.state).toBe("PENDING");
    rec = applyTaskEvent(rec, streams()[3][0]);
    expect(rec.state).toBe("RECEIVED");
    rec = applyTaskEvent(rec, streams()[3][1]);
    expect(rec.state).toBe("STARTED");
    rec = applyTaskEvent(rec, taskEv("task-failed", "f", { timestamp: 2.5, clock: 60 }, { exception: "MaxRetriesExceededError()" }));
    expect(rec).toMatchObject({ state: "FAILURE", exception: "MaxRetriesExceededError()", retries: 1 });
    // A straggling retried of attempt 0 changes nothing any more.
    rec = applyTaskEvent(rec, taskEv("task-retried", "f", { hostname: "w2@host1", timestamp: 1.4, clock: 59 }));
    expect(rec).toMatchObject({ state: "FAILURE", exception: "MaxRetriesExceededError()" });
  });

  it("lets a worker that runs two attempts in a row order them by its clock", () => {
    // Captured: w1 receives attempt 2 (clock 60) before reporting attempt 1's retry (clock 61).
    let rec = replay([
      taskEv("task-received", "f", { timestamp: 1, clock: 58 }, { retries: 1 }),
      taskEv("task-started", "f", { timestamp: 2, clock: 59 }),
      taskEv("task-received", "f", { timestamp: 3, clock: 60 }, { retries: 2 }),
    ]);
    expect(rec.state).toBe("RECEIVED");
    // Attempt 2 has not started, so this retried ends attempt 1: it must not hide attempt 2.
    rec = applyTaskEvent(rec, taskEv("task-retried", "f", { timestamp: 3.1, clock: 61 }));
    expect(rec.state).toBe("RECEIVED");
    expect(rec.retried).toBe(3.1);
    rec = applyTaskEvent(rec, taskEv("task-started", "f", { timestamp: 4, clock: 66 }));
    expect(rec.state).toBe("STARTED");
    rec = applyTaskEvent(rec, taskEv("task-retried", "f", { timestamp: 5, clock: 67 }));
    expect(rec.state).toBe("RETRY");
    // A stale started (older clock than received(2)) of the same worker does not count:
    const stale = replay([
      taskEv("task-received", "g", { timestamp: 3, clock: 60 }, { retries: 2 }),
      taskEv("task-started", "g", { timestamp: 2, clock: 59 }),
    ]);
    expect(stale.state).toBe("RECEIVED");
  });
});
