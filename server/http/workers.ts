/**
 * GET /api/workers: Flower's map worker-name → inspect info. Flower answers from a cache of
 * inspect replies; Petal keeps the same cache per context, fills it for workers it has never
 * inspected, refreshes it on `refresh=1`, and adds the live ClusterState record as `petal`.
 */
import type { WorkerRecord } from "../../lib/protocol/api";
import type { ServerContext } from "../context";
import { CONTROL_TIMEOUT_MS } from "./control";
import { notFound } from "./errors";
import { parseBool } from "./params";
import type { HandlerInput, HandlerResult, Route } from "./types";

/** The 8 inspect calls Flower makes, with the arguments Celery's inspect sends. */
export const INSPECT_CALLS: readonly { key: string; method: string; args: Record<string, unknown> }[] = [
  { key: "stats", method: "stats", args: {} },
  { key: "active_queues", method: "active_queues", args: {} },
  { key: "registered", method: "registered", args: { taskinfoitems: [] } },
  { key: "scheduled", method: "scheduled", args: {} },
  { key: "active", method: "active", args: { safe: true } },
  { key: "reserved", method: "reserved", args: {} },
  { key: "revoked", method: "revoked", args: {} },
  { key: "conf", method: "conf", args: { with_defaults: false } },
];

/** Key order of a worker's info in the output (Flower's varies with reply arrival). */
const INFO_KEYS = ["scheduled", "timestamp", "stats", "active_queues", "active", "registered", "reserved", "revoked", "conf"];

type WorkerInfo = Record<string, unknown>;

/** Inspect replies per worker, per context (a context is one server). */
const caches = new WeakMap<ServerContext, Map<string, WorkerInfo>>();

export function inspectCache(ctx: ServerContext): Map<string, WorkerInfo> {
  let c = caches.get(ctx);
  if (!c) {
    c = new Map();
    caches.set(ctx, c);
  }
  return c;
}

/**
 * Run the inspect calls (in parallel) and merge the replies into the cache. `destination`
 * null asks every worker and waits out the timeout, as Flower does. Returns, per node that
 * answered anything, the call keys it answered (the others did not reply in time).
 */
export async function refreshWorkers(ctx: ServerContext, destination: string[] | null): Promise<Map<string, Set<string>>> {
  const cache = inspectCache(ctx);
  const results = await Promise.all(
    INSPECT_CALLS.map(async (call) => {
      const replies = await ctx.client.control(call.method, call.args, {
        destination,
        timeout: CONTROL_TIMEOUT_MS,
        reply: true,
      });
      return { key: call.key, replies };
    }),
  );
  const now = Date.now() / 1000;
  const answered = new Map<string, Set<string>>();
  for (const { key, replies } of results) {
    for (const [node, value] of Object.entries(replies)) {
      let keys = answered.get(node);
      if (!keys) answered.set(node, (keys = new Set()));
      keys.add(key);
      let info = cache.get(node);
      if (!info) {
        info = {};
        cache.set(node, info);
      }
      info[key] = value;
      info.timestamp = now;
    }
  }
  return answered;
}

function infoOf(cached: WorkerInfo | undefined, record: WorkerRecord | null): WorkerInfo {
  const out: WorkerInfo = {};
  if (cached) for (const k of INFO_KEYS) if (k in cached) out[k] = cached[k];
  if (record) out.petal = record;
  return out;
}

async function listWorkers({ query, ctx }: HandlerInput): Promise<HandlerResult> {
  const refresh = parseBool(query.get("refresh"), false);
  const status = parseBool(query.get("status"), false);
  const only = query.get("workername") || null;
  const cache = inspectCache(ctx);
  const records = ctx.state.workers();

  if (only && !cache.has(only) && !ctx.state.getWorker(only)) throw notFound(`Unknown worker '${only}'`);

  if (status) {
    const body: Record<string, boolean> = {};
    for (const w of records) if (!only || w.hostname === only) body[w.hostname] = w.online;
    if (only && !(only in body)) body[only] = false;
    return { status: 200, body };
  }

  if (refresh) {
    await refreshWorkers(ctx, only ? [only] : null);
  } else {
    // Flower fills its cache at start-up; Petal fills it the first time a live worker is asked about.
    const missing = records.filter((w) => w.online && !cache.has(w.hostname) && (!only || w.hostname === only)).map((w) => w.hostname);
    if (missing.length) await refreshWorkers(ctx, missing);
  }

  const byName = new Map<string, WorkerRecord>();
  for (const w of records) byName.set(w.hostname, w);
  const names = only ? [only] : [...new Set([...byName.keys(), ...cache.keys()])];
  const body: Record<string, WorkerInfo> = {};
  for (const name of names) body[name] = infoOf(cache.get(name), byName.get(name) ?? null);
  return { status: 200, body };
}

export const workerRoutes: Route[] = [{ method: "GET", path: "/api/workers", handler: listWorkers }];
