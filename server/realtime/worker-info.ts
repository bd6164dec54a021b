/**
 * Pool size, queues, running requests and the rest are not in Celery's events, only in inspect
 * replies. The worker view asks the worker it shows (at once on the first look, then at most every
 * `maxAgeMs`) through the same cache GET /api/workers fills, and attaches the answer to the
 * WorkerRecord it sends. Only the single-worker view goes through `enrich`: the list stays light.
 *
 * No timer of its own: an online worker heartbeats (every 2 s by Celery's default), which moves
 * `workersVersion` and makes every view of it call `enrich` again, so refreshes keep pace while
 * someone looks and stop when nobody does.
 */
import type { InspectQueue, InspectRequest, InspectScheduled, WorkerInspect, WorkerRecord } from "../../lib/protocol/api";
import type { ServerContext } from "../context";
import { INSPECT_CALLS, inspectCache, refreshWorkers } from "../http/workers";

/** Most requests kept per list (active/reserved/scheduled) sent to the browser (default: 200). */
const MAX_REQUESTS = 200;
/** Most revoked ids / registered names sent to the browser (default: 1000). */
const MAX_NAMES = 1000;

type Info = Record<string, unknown>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function request(v: unknown): InspectRequest | null {
  if (!isObj(v) || typeof v.id !== "string") return null;
  return { ...(v as unknown as InspectRequest), name: typeof v.name === "string" ? v.name : typeof v.type === "string" ? v.type : "unknown" };
}

function requests(v: unknown): InspectRequest[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: InspectRequest[] = [];
  for (const x of v) {
    const r = request(x);
    if (r) out.push(r);
    if (out.length >= MAX_REQUESTS) break;
  }
  return out;
}

function scheduled(v: unknown): InspectScheduled[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: InspectScheduled[] = [];
  for (const x of v) {
    if (!isObj(x)) continue;
    const r = request(x.request);
    if (!r) continue;
    out.push({ eta: typeof x.eta === "string" ? x.eta : null, priority: typeof x.priority === "number" ? x.priority : null, request: r });
    if (out.length >= MAX_REQUESTS) break;
  }
  return out;
}

function strings(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  // Celery's registered may carry "name [rate_limit=…]" items when asked for taskinfoitems; keep the text.
  return v.filter((x): x is string => typeof x === "string").slice(0, MAX_NAMES);
}

function queues(v: unknown): InspectQueue[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter((q): q is InspectQueue => isObj(q) && typeof q.name === "string");
}

/** Replies are untrusted (any worker on the broker may answer): keep only the expected shapes. */
export function toWorkerInspect(info: Info, missing: string[]): WorkerInspect {
  const out: WorkerInspect = { timestamp: typeof info.timestamp === "number" ? info.timestamp : 0, missing };
  if (isObj(info.stats)) out.stats = info.stats;
  if (isObj(info.conf)) out.conf = info.conf;
  const active = requests(info.active);
  if (active) out.active = active;
  const reserved = requests(info.reserved);
  if (reserved) out.reserved = reserved;
  const sched = scheduled(info.scheduled);
  if (sched) out.scheduled = sched;
  const registered = strings(info.registered);
  if (registered) out.registered = registered;
  const revoked = strings(info.revoked);
  if (revoked) out.revoked = revoked;
  const aq = queues(info.active_queues);
  if (aq) out.active_queues = aq;
  return out;
}

const ALL_CALLS = INSPECT_CALLS.map((c) => c.key);

export class WorkerInspector {
  /** moves when a reply lands, so views holding a worker resend it */
  version = 0;
  private readonly inflight = new Set<string>();
  private readonly askedAt = new Map<string, number>();
  /** calls that did not answer on the last round, per worker */
  private readonly missing = new Map<string, string[]>();
  /** built once per reply, shared by every socket viewing the worker */
  private readonly built = new Map<string, { version: number; value: WorkerInspect }>();

  /** (default: maxAgeMs 5000) */
  constructor(
    private readonly ctx: ServerContext,
    private readonly maxAgeMs = 5_000,
  ) {}

  enrich(w: WorkerRecord): WorkerRecord {
    if (w.online) this.refresh(w.hostname);
    const info = inspectCache(this.ctx).get(w.hostname);
    if (!info) return w;
    const pool = (info.stats as { pool?: { "max-concurrency"?: unknown } } | undefined)?.pool;
    const max = pool?.["max-concurrency"];
    const inspect = this.inspectOf(w.hostname, info);
    const names = inspect.active_queues?.map((q) => q.name) ?? null;
    return { ...w, concurrency: typeof max === "number" ? max : (w.concurrency ?? null), queues: names ?? w.queues ?? null, inspect };
  }

  private inspectOf(name: string, info: Info): WorkerInspect {
    const b = this.built.get(name);
    if (b && b.version === this.version) return b.value;
    const value = toWorkerInspect(info, this.missing.get(name) ?? []);
    this.built.set(name, { version: this.version, value });
    return value;
  }

  private refresh(name: string): void {
    const now = Date.now();
    if (this.inflight.has(name) || now - (this.askedAt.get(name) ?? 0) < this.maxAgeMs) return;
    this.askedAt.set(name, now);
    this.inflight.add(name);
    refreshWorkers(this.ctx, [name])
      .then((answered) => {
        const got = answered.get(name);
        this.missing.set(name, got ? ALL_CALLS.filter((k) => !got.has(k)) : ALL_CALLS.slice());
        this.version++;
      })
      .catch((err) => this.ctx.log.debug("worker inspect failed", { worker: name, err: String(err) }))
      .finally(() => this.inflight.delete(name));
  }
}
