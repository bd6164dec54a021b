/**
 * Event builders for lib/state tests: complete, valid Celery event bodies (PROTOCOL.md §5.4
 * shapes) with only the interesting fields given.
 */
import type { TaskEvent, TaskEventType, WorkerEvent, WorkerEventType } from "../protocol/types";

export interface Stamp {
  hostname?: string;
  timestamp?: number;
  clock?: number;
}

export function taskEv(type: TaskEventType, uuid: string, stamp: Stamp = {}, fields: Record<string, unknown> = {}): TaskEvent {
  const base = {
    hostname: stamp.hostname ?? (type === "task-sent" ? "gen1@client" : "w1@host1"),
    utcoffset: 0,
    pid: 100,
    clock: stamp.clock ?? 1,
    timestamp: stamp.timestamp ?? 1000,
    type,
    uuid,
  };
  const own: Record<string, unknown> = {};
  switch (type) {
    case "task-sent":
      Object.assign(own, {
        root_id: uuid,
        parent_id: null,
        name: "proj.add",
        args: "(2, 3)",
        kwargs: "{}",
        retries: 0,
        eta: null,
        expires: null,
        queue: "celery",
        exchange: "",
        routing_key: "celery",
      });
      break;
    case "task-received":
      Object.assign(own, {
        name: "proj.add",
        args: "(2, 3)",
        kwargs: "{}",
        root_id: uuid,
        parent_id: null,
        retries: 0,
        eta: null,
        expires: null,
      });
      break;
    case "task-succeeded":
      Object.assign(own, { result: "5", runtime: 0.01 });
      break;
    case "task-failed":
      Object.assign(own, { exception: "ValueError('boom')", traceback: "Traceback ..." });
      break;
    case "task-retried":
      Object.assign(own, { exception: "None", traceback: "" });
      break;
    case "task-revoked":
      Object.assign(own, { terminated: false, signum: null, expired: false });
      break;
    case "task-rejected":
      Object.assign(own, { requeue: false });
      break;
    default:
      break;
  }
  return { ...base, ...own, ...fields } as unknown as TaskEvent;
}

export function workerEv(type: WorkerEventType, hostname: string, stamp: Omit<Stamp, "hostname"> = {}, fields: Record<string, unknown> = {}): WorkerEvent {
  return {
    hostname,
    utcoffset: 0,
    pid: 200,
    clock: stamp.clock ?? 1,
    freq: 2.0,
    active: 0,
    processed: 0,
    loadavg: [0.1, 0.2, 0.3],
    sw_ident: "py-celery",
    sw_ver: "5.2.6",
    sw_sys: "Linux",
    timestamp: stamp.timestamp ?? 1000,
    type,
    ...fields,
  } as WorkerEvent;
}
