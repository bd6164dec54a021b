/**
 * Worker registry: who is out there, alive or not, and what each one did.
 *
 * Liveness uses the receiver's clock (`local_received`), never the worker's `timestamp`: a worker
 * whose clock is off by minutes (or whose `utcoffset` Celery would "adjust" wrongly) must not
 * flap. `last_heartbeat` and `heartbeats` are receiver times too. The worker's own `timestamp` is
 * only used to order its own events (a heartbeat sent before its worker-offline but delivered
 * after it must not bring it back).
 *
 * Any task event from a worker proves liveness too, as in Celery's state; `task-sent` does not,
 * since clients (and pool children on retry: `gen<pid>@host`) send it.
 */
import { RECONCILED_HOST, type WorkerRecord } from "../protocol/api";
import type { TaskEvent, WorkerEvent } from "../protocol/types";

export { RECONCILED_HOST } from "../protocol/api";

/** Heartbeat times kept per worker (default: 60). */
export const HEARTBEAT_HISTORY = 60;
/** Missed heartbeat intervals after which a silent worker is offline (default: 3, issue #2). */
export const OFFLINE_AFTER_INTERVALS = 3;
/** Heartbeat period assumed until a worker announces its own, seconds (Celery's default: 2.0). */
export const DEFAULT_FREQ = 2;

/** What a task event did to a worker's counters. */
export type WorkerCounter = "received" | "succeeded" | "failed" | "retried" | "revoked";

const COUNTER_OF: Partial<Record<TaskEvent["type"], WorkerCounter>> = {
  "task-received": "received",
  "task-succeeded": "succeeded",
  "task-failed": "failed",
  "task-retried": "retried",
  "task-revoked": "revoked",
};

interface Internal {
  /** sender timestamp of its last worker-offline; older events from it do not revive it */
  offlineAt: number;
}

export class WorkerRegistry {
  private readonly byName = new Map<string, WorkerRecord>();
  private readonly internal = new Map<string, Internal>();
  private sorted: WorkerRecord[] | null = [];

  /** Called with (hostname, online) each time a worker goes online or offline. */
  constructor(private readonly onLiveness?: (hostname: string, online: boolean) => void) {}

  get size(): number {
    return this.byName.size;
  }

  get(hostname: string): WorkerRecord | undefined {
    return this.byName.get(hostname);
  }

  /** All workers sorted by hostname. Live records: do not mutate. */
  list(): WorkerRecord[] {
    if (this.sorted === null) {
      this.sorted = [...this.byName.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
    }
    return this.sorted;
  }

  onlineCount(): number {
    let n = 0;
    for (const w of this.byName.values()) if (w.online) n++;
    return n;
  }

  /** Apply worker-online / worker-heartbeat / worker-offline. `now` = receiver time, unix s. */
  applyWorkerEvent(ev: WorkerEvent, now: number): WorkerRecord {
    const w = this.getOrCreate(ev.hostname, now);
    const inner = this.internal.get(ev.hostname)!;
    w.freq = ev.freq > 0 ? ev.freq : DEFAULT_FREQ;
    w.active = ev.active;
    w.processed = ev.processed;
    w.loadavg = ev.loadavg ?? w.loadavg;
    w.sw_ident = ev.sw_ident || w.sw_ident;
    w.sw_ver = ev.sw_ver || w.sw_ver;
    w.sw_sys = ev.sw_sys || w.sw_sys;
    w.pid = ev.pid;
    if (ev.type === "worker-offline") {
      inner.offlineAt = Math.max(inner.offlineAt, ev.timestamp);
      this.setOnline(w, false);
      return w;
    }
    // worker-online always counts (a restarted worker's clock may restart at 1); a heartbeat
    // older than the last offline was in flight when it shut down.
    if (ev.type === "worker-online" || ev.timestamp > inner.offlineAt) {
      this.seen(w, now);
      if (ev.type === "worker-online") w.online_since = ev.timestamp;
      if (ev.type === "worker-heartbeat") {
        const hb = w.heartbeats;
        hb.push(now);
        if (hb.length > HEARTBEAT_HISTORY) hb.splice(0, hb.length - HEARTBEAT_HISTORY);
      }
    }
    return w;
  }

  /**
   * A task event from a worker: liveness plus counters. `taskName` is the task's name as known
   * after the event was applied (null if still unknown). No-op for task-sent.
   */
  applyTaskEvent(ev: TaskEvent, taskName: string | null, now: number): WorkerRecord | undefined {
    if (ev.type === "task-sent" || ev.hostname === RECONCILED_HOST) return undefined;
    const w = this.getOrCreate(ev.hostname, now);
    if (ev.timestamp > this.internal.get(ev.hostname)!.offlineAt) this.seen(w, now);
    const counter = COUNTER_OF[ev.type];
    if (counter !== undefined) {
      w[counter]++;
      if (taskName !== null && (counter === "succeeded" || counter === "failed" || counter === "retried")) {
        const by = (w.by_task[taskName] ??= { succeeded: 0, failed: 0, retried: 0 });
        by[counter]++;
      }
    }
    return w;
  }

  /**
   * Mark workers silent for more than 3 heartbeat intervals offline. Returns the hostnames that
   * changed. O(workers).
   */
  tick(now: number): string[] {
    const changed: string[] = [];
    for (const w of this.byName.values()) {
      if (!w.online || w.last_heartbeat === null) continue;
      if (now - w.last_heartbeat > OFFLINE_AFTER_INTERVALS * w.freq) {
        this.setOnline(w, false);
        changed.push(w.hostname);
      }
    }
    return changed;
  }

  private seen(w: WorkerRecord, now: number): void {
    if (w.last_heartbeat === null || now > w.last_heartbeat) w.last_heartbeat = now;
    this.setOnline(w, true);
  }

  private setOnline(w: WorkerRecord, online: boolean): void {
    if (w.online === online) return;
    w.online = online;
    this.onLiveness?.(w.hostname, online);
  }

  private getOrCreate(hostname: string, now: number): WorkerRecord {
    let w = this.byName.get(hostname);
    if (w !== undefined) return w;
    w = {
      hostname,
      online: false,
      last_heartbeat: null,
      freq: DEFAULT_FREQ,
      active: 0,
      processed: 0,
      loadavg: null,
      sw_ident: null,
      sw_ver: null,
      sw_sys: null,
      pid: null,
      succeeded: 0,
      failed: 0,
      retried: 0,
      revoked: 0,
      received: 0,
      // No prototype: task names are untrusted input ("__proto__").
      by_task: Object.create(null) as WorkerRecord["by_task"],
      heartbeats: [],
      first_seen: now,
    };
    this.byName.set(hostname, w);
    this.internal.set(hostname, { offlineAt: -Infinity });
    this.sorted = null;
    return w;
  }
}
