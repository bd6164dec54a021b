/**
 * Queues and the broker: Flower's /api/queues/length, Petal's /api/broker (the Broker page's
 * payload) and /api/dead-letters, plus the open /healthcheck and /metrics.
 */
import { DEAD_LETTERS_KEPT, type DeadLetterList } from "../../lib/broker/types";
import type { BrokerPayload } from "../../lib/protocol/api";
import type { ServerContext } from "../context";
import { redactUrl } from "../log";
import { HttpError } from "./errors";
import { parseIntArg } from "./params";
import type { HandlerInput, HandlerResult, Route } from "./types";
import { inspectCache } from "./workers";

/** The queue Celery sends to when none is named. */
export const DEFAULT_QUEUE = "celery";

/**
 * Queues worth reporting: the default one, every queue the broker knows, every queue a worker
 * consumes (engine stats and cached active_queues replies). Sorted, like Flower.
 */
export async function knownQueues(ctx: ServerContext): Promise<string[]> {
  const names = new Set<string>([DEFAULT_QUEUE]);
  for (const q of await ctx.broker.queues()) names.add(q);
  for (const q of Object.keys(ctx.queueConsumers())) names.add(q);
  for (const info of inspectCache(ctx).values()) {
    const aq = info.active_queues;
    if (!Array.isArray(aq)) continue;
    for (const q of aq) {
      const name = (q as { name?: unknown } | null)?.name;
      if (typeof name === "string") names.add(name);
    }
  }
  return [...names].sort();
}

async function queueLengths({ ctx }: HandlerInput): Promise<HandlerResult> {
  const lengths = await ctx.broker.queueLengths(await knownQueues(ctx));
  return {
    status: 200,
    body: { active_queues: lengths.map((q) => ({ name: q.name, messages: q.messages })) },
  };
}

/**
 * How long a broker read may take before the page says "disconnected" (default: 2000). While
 * Redis is down ioredis queues commands for ~30 s of retries: the page must not hang that long.
 */
export const BROKER_PROBE_TIMEOUT_MS = 2000;

/** `p`, or a rejection after `ms` (the late result is dropped). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from the broker in ${ms} ms`)), ms);
  });
  p.catch(() => undefined); // a late failure after the timeout is not an unhandled rejection
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function brokerPayload(ctx: ServerContext): Promise<BrokerPayload> {
  const url = redactUrl(ctx.broker.url);
  const transport = url.split(":", 1)[0] ?? "";
  try {
    const consumers = ctx.queueConsumers();
    const read = async () => ctx.broker.queueLengths(await knownQueues(ctx));
    const lengths = await withTimeout(read(), BROKER_PROBE_TIMEOUT_MS, "queue lengths");
    return {
      url,
      transport,
      status: "connected",
      queues: lengths.map((q) => ({
        name: q.name,
        messages: q.messages,
        ...(q.unacked !== undefined ? { unacked: q.unacked } : {}),
        ...(q.byPriority !== undefined ? { byPriority: q.byPriority } : {}),
        consumers: consumers[q.name] ?? [],
      })),
    };
  } catch (err) {
    // The broker page must still render when the broker is down: say so instead of failing.
    ctx.log.warn("broker unreachable", { error: err instanceof Error ? err.message : String(err) });
    return { url, transport, status: "disconnected", queues: [] };
  }
}

async function broker({ ctx }: HandlerInput): Promise<HandlerResult> {
  return { status: 200, body: await brokerPayload(ctx) };
}

/**
 * Newest first; `limit` (default: all that are kept). Read from the broker when the transport
 * keeps them (workers in other processes store there), else from this process's own list.
 */
async function deadLetters({ query, ctx }: HandlerInput): Promise<HandlerResult> {
  if (ctx.broker.deadLetters) {
    const limit = Math.max(0, parseIntArg(query.get("limit"), DEAD_LETTERS_KEPT));
    let read: DeadLetterList;
    try {
      read = await withTimeout(ctx.broker.deadLetters(limit), BROKER_PROBE_TIMEOUT_MS, "dead letters");
    } catch (err) {
      throw new HttpError(503, "timeout", err instanceof Error ? err.message : String(err));
    }
    const { total, entries } = read;
    const list = entries.map((e) => ({
      at: e.at,
      queue: e.queue,
      reason: e.code ? `${e.code}: ${e.reason}` : e.reason,
      code: e.code,
      worker: e.worker,
      task_id: e.taskId ?? null,
      raw: e.raw,
    }));
    return { status: 200, body: { total, dead_letters: list } };
  }
  const total = ctx.deadLetters.length;
  const n = Math.max(0, Math.min(parseIntArg(query.get("limit"), total), total));
  const list = n > 0 ? ctx.deadLetters.slice(total - n).reverse() : [];
  return { status: 200, body: { total, dead_letters: list } };
}

async function healthcheck(): Promise<HandlerResult> {
  return { status: 200, text: "OK", headers: { "Content-Type": "text/html; charset=UTF-8" } };
}

async function metrics({ ctx }: HandlerInput): Promise<HandlerResult> {
  // Exactly "text/plain" (no charset), as Flower's prometheus_client sends it.
  return { status: 200, text: ctx.state.metricsText(), headers: { "Content-Type": "text/plain" } };
}

export const brokerRoutes: Route[] = [
  { method: "GET", path: "/api/queues/length", handler: queueLengths },
  { method: "GET", path: "/api/broker", handler: broker },
  { method: "GET", path: "/api/dead-letters", handler: deadLetters },
  { method: "GET", path: "/healthcheck", handler: healthcheck, open: true },
  { method: "GET", path: "/metrics", handler: metrics, open: true },
];
