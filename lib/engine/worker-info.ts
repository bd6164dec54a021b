/**
 * The data a Celery worker reports about itself, in Celery's exact shapes (PROTOCOL.md §6.3):
 * `stats`, `conf`, `active_queues`, and the request lists of active/reserved/scheduled.
 */
import type { Request } from "./request";
import type { WorkerCore } from "./worker-core";

/** Celery masks the password of URLs it reports (`redis://:**@host:6379/0`). */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][\w+.-]*:\/\/)([^:@/]*):([^@/]*)@/i, (_, scheme: string, user: string) => `${scheme}${user}:**@`);
}

function brokerInfo(url: string): Record<string, unknown> {
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    // keep the defaults below
  }
  const transport = u ? u.protocol.replace(/:$/, "") : "memory";
  const path = u ? u.pathname.replace(/^\//, "") : "";
  return {
    hostname: u?.hostname || "localhost",
    userid: u?.username || null,
    virtual_host: path || (transport === "redis" ? "0" : "/"),
    port: u?.port ? Number(u.port) : null,
    insist: false,
    ssl: transport === "rediss",
    transport,
    connect_timeout: 4,
    transport_options: {},
    login_method: null,
    uri_prefix: null,
    heartbeat: 120.0,
    failover_strategy: "round-robin",
    alternates: [],
  };
}

function rusage(): Record<string, number> {
  const r = process.resourceUsage();
  return {
    utime: r.userCPUTime / 1e6,
    stime: r.systemCPUTime / 1e6,
    maxrss: r.maxRSS,
    ixrss: r.sharedMemorySize,
    idrss: r.unsharedDataSize,
    isrss: r.unsharedStackSize,
    minflt: r.minorPageFault,
    majflt: r.majorPageFault,
    nswap: r.swappedOut,
    inblock: r.fsRead,
    oublock: r.fsWrite,
    msgsnd: r.ipcSent,
    msgrcv: r.ipcReceived,
    nsignals: r.signalsCount,
    nvcsw: r.voluntaryContextSwitches,
    nivcsw: r.involuntaryContextSwitches,
  };
}

/** `inspect stats`: `processes` lists the pool's slots (our pid per slot for async, thread ids for threads). */
export function celeryStats(w: WorkerCore): Record<string, unknown> {
  const stats: Record<string, unknown> = {
    total: Object.fromEntries(w.totals),
    pid: w.pid,
    clock: String(w.clock.value), // a string on the wire, as Celery sends it
    uptime: Math.floor((Date.now() - w.startedAt) / 1000),
    pool: {
      "max-concurrency": w.concurrency,
      processes: w.opts.pool.stats().processes,
      "max-tasks-per-child": "N/A",
      "put-guarded-by-semaphore": false,
      timeouts: [0, 0],
      writes: {
        total: w.processed,
        avg: "1.00",
        all: "1.00",
        raw: String(w.processed),
        strategy: "fair",
        inqueues: { total: w.concurrency, active: w.active.size },
      },
    },
    broker: brokerInfo(w.opts.broker.url),
    prefetch_count: w.prefetch,
    rusage: rusage(),
  };
  if (w.autoscale) {
    stats.autoscaler = { max: w.autoscale.max, min: w.autoscale.min, current: w.concurrency, qty: w.reservedCount };
  }
  return stats;
}

/** `inspect conf`: the settings that differ from Celery's defaults. */
export function celeryConf(w: WorkerCore): Record<string, unknown> {
  return {
    broker_url: maskUrl(w.opts.broker.url),
    worker_send_task_events: w.taskEvents,
    task_send_sent_event: true,
    result_extended: true,
    worker_concurrency: w.concurrency,
    worker_prefetch_multiplier: w.opts.prefetchMultiplier,
    task_default_queue: w.queues[0] ?? "celery",
    timezone: "UTC",
  };
}

export function activeQueue(name: string): Record<string, unknown> {
  return {
    name,
    exchange: {
      name,
      type: "direct",
      arguments: null,
      durable: true,
      passive: false,
      auto_delete: false,
      delivery_mode: null,
      no_declare: false,
    },
    routing_key: name,
    queue_arguments: null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: true,
    exclusive: false,
    auto_delete: false,
    no_ack: false,
    alias: null,
    bindings: [],
    no_declare: null,
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: null,
  };
}

export function activeRequests(w: WorkerCore, safe: boolean): Record<string, unknown>[] {
  return [...w.active].map((r) => r.info(w.hostname, w.pid, safe));
}

/** Prefetched and not running, ETA tasks excluded (those are `scheduled`). */
export function reservedRequests(w: WorkerCore): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of w.requests) if (r.state === "ready" || r.state === "rate") out.push(r.info(w.hostname, w.pid));
  return out;
}

export function scheduledRequests(w: WorkerCore): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of w.requests) {
    if (r.state === "eta") out.push({ eta: r.eta, priority: r.priority, request: r.info(w.hostname, w.pid) });
  }
  return out;
}

function stateName(r: Request): "active" | "reserved" | "scheduled" | null {
  if (r.state === "active") return "active";
  if (r.state === "eta") return "scheduled";
  if (r.state === "ready" || r.state === "rate") return "reserved";
  return null;
}

/** `query_task`: `{id: [state, request]}` for the ids this worker holds. */
export function queryTasks(w: WorkerCore, ids: string[]): Record<string, unknown> {
  const wanted = new Set(ids);
  const out: Record<string, unknown> = {};
  for (const r of w.requests) {
    if (!wanted.has(r.id)) continue;
    const s = stateName(r);
    if (s) out[r.id] = [s, r.info(w.hostname, w.pid)];
  }
  return out;
}
