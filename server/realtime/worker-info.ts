/**
 * Pool size and queues are not in Celery's events, only in inspect replies (stats,
 * active_queues). The worker view asks the worker it shows, at most every `maxAgeMs`, through the
 * same cache GET /api/workers fills, and folds the answer into the WorkerRecord it sends.
 */
import type { WorkerRecord } from "../../lib/protocol/api";
import type { ServerContext } from "../context";
import { inspectCache, refreshWorkers } from "../http/workers";

export class WorkerInspector {
  /** moves when a reply lands, so views holding a worker resend it */
  version = 0;
  private readonly inflight = new Set<string>();
  private readonly askedAt = new Map<string, number>();

  /** (default: maxAgeMs 15000) */
  constructor(
    private readonly ctx: ServerContext,
    private readonly maxAgeMs = 15_000,
  ) {}

  enrich(w: WorkerRecord): WorkerRecord {
    if (w.online) this.refresh(w.hostname);
    const info = inspectCache(this.ctx).get(w.hostname);
    if (!info) return w;
    const pool = (info.stats as { pool?: { "max-concurrency"?: unknown } } | undefined)?.pool;
    const max = pool?.["max-concurrency"];
    const aq = info.active_queues;
    const queues = Array.isArray(aq)
      ? aq.map((q) => (q && typeof q === "object" ? (q as { name?: unknown }).name : null)).filter((n): n is string => typeof n === "string")
      : null;
    return { ...w, concurrency: typeof max === "number" ? max : (w.concurrency ?? null), queues: queues ?? w.queues ?? null };
  }

  private refresh(name: string): void {
    const now = Date.now();
    if (this.inflight.has(name) || now - (this.askedAt.get(name) ?? 0) < this.maxAgeMs) return;
    this.askedAt.set(name, now);
    this.inflight.add(name);
    refreshWorkers(this.ctx, [name])
      .then(() => void this.version++)
      .catch((err) => this.ctx.log.debug("worker inspect failed", { worker: name, err: String(err) }))
      .finally(() => this.inflight.delete(name));
  }
}
