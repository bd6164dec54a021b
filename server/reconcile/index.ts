/**
 * Reconciliation: no task stays RECEIVED/STARTED forever because its task-succeeded was missed
 * (dashboard down, Celery workers only publish) or its worker died under it. Runs
 * - once at start, `startDelayMs` after ingest started (history restored, workers answered the
 *   heartbeat broadcast), over every RECEIVED/STARTED task;
 * - when a worker goes offline, over its RECEIVED/STARTED tasks;
 * - every `everyMs`, over RECEIVED/STARTED tasks unchanged for `staleAfterS`.
 * Each run asks the workers (inspect active, reserved, scheduled: one broadcast each, in
 * parallel), then the result backend for the tasks no worker holds, and applies decide()'s
 * verdicts as synthetic events through ingest.inject: the single writer stays ingest, and
 * counters, series and history see the outcome like any event. Inspect is asked before the
 * backend so a task finishing in between is found in the backend rather than declared lost.
 * A task that changed while the run waited for answers is left alone.
 */
import type { Broker, ResultBackend } from "../../lib/broker/types";
import type { TaskPage, TaskQuery, TaskRecord, WorkerRecord } from "../../lib/protocol/api";
import { controlRequest } from "../../lib/protocol/control";
import type { ControlReply, ResultMeta } from "../../lib/protocol/types";
import type { Logger } from "../context";
import { decide, decideLostPending, type Decision, type InspectView } from "./decide";

export { decide, decideLostPending, exceptionRepr, finalEvent, parseDateDone, type Decision, type InspectView } from "./decide";

/** What reconciliation reads of ClusterState. */
export interface ReconcileState {
  queryTasks(q: TaskQuery): TaskPage;
  taskVersion(id: string): number;
  workers(): WorkerRecord[];
  getWorker(name: string): WorkerRecord | undefined;
}

/** Where its verdicts go: Ingest (inject feeds the normal batching; flush applies now). */
export interface ReconcileSink {
  inject(events: unknown[]): void;
  flush(): void;
}

export interface ReconcileDeps {
  state: ReconcileState;
  broker: Pick<Broker, "broadcast">;
  results: Pick<ResultBackend, "get">;
  sink: ReconcileSink;
  log: Logger;
  /** unix seconds (default: Date.now() / 1000) */
  now?: () => number;
  /**
   * Set when the broker's queues live in this process (memory://): unix seconds this process
   * started. The start-up run then also fails tasks still PENDING from before it, whose
   * messages went with the previous process (decideLostPending).
   */
  volatileQueuesSince?: number;
}

export interface ReconcileOptions {
  /** period of the stuck-task sweep, ms; 0 = none (default: 30000) */
  everyMs?: number;
  /** the sweep checks RECEIVED/STARTED tasks unchanged this long, s (default: 60) */
  staleAfterS?: number;
  /** delay of the start-up run, ms; negative = none (default: 3000) */
  startDelayMs?: number;
  /** how long each inspect call waits for replies, ms (default: 1000) */
  inspectTimeoutMs?: number;
  /** tasks checked per run, oldest first (default: 10000) */
  maxTasks?: number;
  /** how often worker liveness is compared for online → offline, ms (default: 1000) */
  watchMs?: number;
  /** result backend lookups in flight at once (default: 32) */
  lookupConcurrency?: number;
}

export type ReconcileReason = "startup" | "sweep" | "worker-offline" | "manual";

export interface ReconcileRun {
  reason: ReconcileReason;
  /** only tasks of these workers (worker-offline) */
  workers?: string[];
  /** only tasks unchanged this long, s (sweep) */
  staleAfterS?: number;
}

export interface ReconcileReport {
  reason: ReconcileReason;
  /** tasks looked at */
  checked: number;
  /** still held by a worker, or no evidence either way */
  kept: number;
  /** final state taken from the result backend */
  resolved: number;
  /** failed with WorkerLostError */
  lost: number;
  /** changed while the run waited, left alone */
  changed: number;
  /** nodes that answered inspect */
  answered: number;
}

export interface ReconcileStats {
  runs: number;
  resolved: number;
  lost: number;
  lastRun: ReconcileReport | null;
}

const UNFINISHED = ["RECEIVED", "STARTED"] as const;
/** The inspect calls whose lists hold the tasks a worker has, as Celery's inspect sends them. */
const HOLDING_CALLS = [
  { method: "active", args: { safe: true } },
  { method: "reserved", args: {} },
  { method: "scheduled", args: {} },
] as const;

export class Reconciler {
  private readonly now: () => number;
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private online: Set<string> | null = null;
  private running = false;
  private readonly counters: ReconcileStats = { runs: 0, resolved: 0, lost: 0, lastRun: null };

  constructor(
    private readonly deps: ReconcileDeps,
    private readonly opts: ReconcileOptions = {},
  ) {
    this.now = deps.now ?? (() => Date.now() / 1000);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const timer = (fn: () => void, ms: number, repeat: boolean) => {
      const t = repeat ? setInterval(fn, ms) : setTimeout(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    const startDelay = this.opts.startDelayMs ?? 3000;
    if (startDelay >= 0) timer(() => void this.run({ reason: "startup" }), startDelay, false);
    const every = this.opts.everyMs ?? 30_000;
    if (every > 0) timer(() => void this.run({ reason: "sweep", staleAfterS: this.opts.staleAfterS ?? 60 }), every, true);
    timer(() => this.watch(), this.opts.watchMs ?? 1000, true);
  }

  /** Stop the timers and wait for a run in progress. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await this.chain.catch(() => undefined);
  }

  stats(): ReconcileStats {
    return { ...this.counters };
  }

  /** Queue a run (runs never overlap); resolves with its report, or null when it failed (logged). */
  run(r: ReconcileRun): Promise<ReconcileReport | null> {
    const next = this.chain.then(() =>
      this.runOnce(r).catch((err: unknown) => {
        this.deps.log.warn("reconciliation failed", { reason: r.reason, err: String(err) });
        return null;
      }),
    );
    this.chain = next;
    return next;
  }

  /** Workers that went offline since the last look get their tasks checked. */
  private watch(): void {
    const now = new Set<string>();
    for (const w of this.deps.state.workers()) if (w.online) now.add(w.hostname);
    const before = this.online;
    this.online = now;
    if (before === null) return;
    const gone = [...before].filter((h) => !now.has(h));
    if (gone.length > 0) void this.run({ reason: "worker-offline", workers: gone });
  }

  /** Copies of the oldest tasks matching `q` (at most maxTasks), up to the first that `older` refuses. */
  private oldest(q: TaskQuery, older: (timestamp: number) => boolean): TaskRecord[] {
    const rows = this.deps.state.queryTasks({ ...q, sort_by: "timestamp", limit: this.opts.maxTasks ?? 10_000 }).rows;
    const out: TaskRecord[] = [];
    for (const t of rows) {
      if (!older(t.timestamp ?? 0)) break; // oldest first: the rest are newer
      out.push({ ...t });
    }
    return out;
  }

  private candidates(r: ReconcileRun): TaskRecord[] {
    const q: TaskQuery = { state: [...UNFINISHED] };
    if (r.workers) q.workername = r.workers;
    const cutoff = r.staleAfterS !== undefined ? this.now() - r.staleAfterS : Infinity;
    return this.oldest(q, (ts) => ts <= cutoff);
  }

  /** PENDING tasks sent before this process started, when its broker's queues died with the last one. */
  private lostPending(r: ReconcileRun): TaskRecord[] {
    const since = this.deps.volatileQueuesSince;
    if (r.reason !== "startup" || since === undefined) return [];
    return this.oldest({ state: ["PENDING"] }, (ts) => ts < since);
  }

  private async runOnce(r: ReconcileRun): Promise<ReconcileReport> {
    const report: ReconcileReport = { reason: r.reason, checked: 0, kept: 0, resolved: 0, lost: 0, changed: 0, answered: 0 };
    const events: unknown[] = [];
    const pending = this.lostPending(r);
    // The memory:// result backend lived in the previous process too: nothing to look up.
    for (const task of pending) tally(decideLostPending(task, null, this.now()), events, report);
    const tasks = this.candidates(r);
    report.checked = pending.length + tasks.length;
    if (tasks.length > 0) {
      const versions = new Map(tasks.map((t) => [t.uuid, this.deps.state.taskVersion(t.uuid)]));
      const inspect = await this.inspect();
      report.answered = inspect.answered.size;
      const metas = await this.lookup(tasks.filter((t) => !inspect.held.has(t.uuid)).map((t) => t.uuid));
      for (const task of tasks) {
        const d = decide({ task, inspect, meta: metas.get(task.uuid) ?? null, worker: task.worker ? this.deps.state.getWorker(task.worker) : undefined, now: this.now() });
        if (d.action === "apply" && this.deps.state.taskVersion(task.uuid) !== versions.get(task.uuid)) report.changed++;
        else tally(d, events, report);
      }
    }
    if (events.length > 0) {
      this.deps.sink.inject(events);
      this.deps.sink.flush();
    }
    return this.finish(report);
  }

  private finish(report: ReconcileReport): ReconcileReport {
    this.counters.runs++;
    this.counters.resolved += report.resolved;
    this.counters.lost += report.lost;
    this.counters.lastRun = report;
    const line = { reason: report.reason, checked: report.checked, resolved: report.resolved, lost: report.lost, kept: report.kept, changed: report.changed, answered: report.answered };
    if (report.resolved + report.lost > 0) this.deps.log.info("reconciled stuck tasks", line);
    else if (report.checked > 0) this.deps.log.debug("reconciliation found nothing to change", line);
    return report;
  }

  /** Ask every worker what it holds; a call that fails counts as no answer. */
  private async inspect(): Promise<InspectView> {
    const timeout = this.opts.inspectTimeoutMs ?? 1000;
    const held = new Set<string>();
    const answered = new Set<string>();
    const replies = await Promise.all(
      HOLDING_CALLS.map((c) =>
        this.deps.broker.broadcast(controlRequest(c.method, { ...c.args }), { timeout }).catch((err: unknown) => {
          this.deps.log.warn("reconciliation: inspect failed", { method: c.method, err: String(err) });
          return [] as ControlReply[];
        }),
      ),
    );
    for (const list of replies) {
      for (const reply of list) {
        if (!reply || typeof reply !== "object") continue;
        for (const [node, value] of Object.entries(reply)) {
          answered.add(node);
          if (Array.isArray(value)) for (const item of value) addHeldId(item, held);
        }
      }
    }
    return { held, answered };
  }

  /** Result backend entries, a bounded number of lookups at a time; a failed lookup counts as none. */
  private async lookup(ids: string[]): Promise<Map<string, ResultMeta>> {
    const out = new Map<string, ResultMeta>();
    const width = Math.max(1, this.opts.lookupConcurrency ?? 32);
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        try {
          const meta = await this.deps.results.get(id);
          if (meta) out.set(id, meta);
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, ids.length) }, worker));
    if (failed > 0) this.deps.log.warn("reconciliation: result backend lookups failed", { failed });
    return out;
  }
}

/** Count a verdict in the report and queue its events. */
function tally(d: Decision, events: unknown[], report: ReconcileReport): void {
  if (d.action === "keep") {
    report.kept++;
    return;
  }
  for (const e of d.events) events.push(e);
  if (d.lost) report.lost++;
  else report.resolved++;
}

/** An active/reserved entry is a request ({id}); a scheduled one wraps it ({eta, request: {id}}). */
function addHeldId(item: unknown, held: Set<string>): void {
  if (!item || typeof item !== "object") return;
  const o = item as { id?: unknown; request?: { id?: unknown } | null };
  if (typeof o.id === "string") held.add(o.id);
  else if (o.request && typeof o.request === "object" && typeof o.request.id === "string") held.add(o.request.id);
}
