/**
 * Worker control on Flower's paths (all POST; query string or form body), with Flower's texts.
 * Unlike Flower, a missing `queue` is a 400 instead of a list sent to (and crashing) the worker.
 */
import { controlOne, requireTaskName, requireWorker } from "./control";
import { badRequest } from "./errors";
import { optionalFloat, parseIntArg, requiredString } from "./params";
import type { HandlerInput, HandlerResult, Route } from "./types";

async function shutdown({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  requireWorker(ctx, w);
  // Flower does not wait for a reply: the worker is going away and may never answer.
  await ctx.client.control("shutdown", {}, { destination: [w], reply: false });
  return { status: 200, body: { message: "Shutting down!", replies: {} } };
}

async function poolRestart({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "pool_restart",
    args: { reload: false },
    ok: () => `Restarting '${w}' worker's pool`,
    failed: (r) => `Failed to restart the '${w}' pool: ${r}`,
  });
}

function positive(n: number, raw: string | null, name: string): number {
  if (n < 1) throw badRequest(`Invalid argument '${raw}' for '${name}': must be >= 1`);
  return n;
}

async function poolGrow({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  const n = positive(parseIntArg(query.get("n"), 1), query.get("n"), "n");
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "pool_grow",
    args: { n },
    ok: () => `Growing '${w}' worker's pool by ${n}`,
    failed: (r) => `Failed to grow '${w}' worker's pool: ${r}`,
  });
}

async function poolShrink({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  const n = positive(parseIntArg(query.get("n"), 1), query.get("n"), "n");
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "pool_shrink",
    args: { n },
    ok: () => `Shrinking '${w}' worker's pool by ${n}`,
    failed: (r) => `Failed to shrink '${w}' worker's pool: ${r}`,
  });
}

async function autoscale({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  const min = parseIntArg(query.get("min"));
  const max = parseIntArg(query.get("max"));
  if (min < 0 || max < min) throw badRequest(`Invalid autoscale range (min=${min}, max=${max}): need 0 <= min <= max`);
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "autoscale",
    args: { max, min },
    ok: () => `Autoscaling '${w}' worker (min=${min}, max=${max})`,
    failed: (r) => `Failed to autoscale '${w}' worker: ${r}`,
  });
}

async function addConsumer({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  const queue = requiredString(query, "queue");
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "add_consumer",
    args: { queue, exchange: null, exchange_type: "direct", routing_key: null },
    ok: (ok) => (typeof ok === "string" ? ok : `add consumer ${queue}`),
    failed: (r) => `Failed to add '${queue}' consumer to '${w}' worker: ${r}`,
  });
}

async function cancelConsumer({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const w = params.worker!;
  const queue = requiredString(query, "queue");
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "cancel_consumer",
    args: { queue },
    ok: (ok) => (typeof ok === "string" ? ok : `no longer consuming from ${queue}`),
    failed: (r) => `Failed to cancel '${queue}' consumer from '${w}' worker: ${r}`,
  });
}

async function rateLimit({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const name = params.name!;
  const w = requiredString(query, "workername");
  const limit = requiredString(query, "ratelimit");
  requireTaskName(ctx, name);
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "rate_limit",
    args: { task_name: name, rate_limit: limit },
    ok: (ok) => (typeof ok === "string" ? ok : "new rate limit set successfully"),
    failed: (r) => `Failed to set rate limit: '${r}'`,
  });
}

async function timeLimit({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const name = params.name!;
  const w = requiredString(query, "workername");
  const soft = optionalFloat(query.get("soft"));
  const hard = optionalFloat(query.get("hard"));
  requireTaskName(ctx, name);
  requireWorker(ctx, w);
  return controlOne(ctx, {
    worker: w,
    method: "time_limit",
    args: { task_name: name, hard, soft },
    ok: (ok) => (typeof ok === "string" ? ok : "time limits set successfully"),
    failed: (r) => `Failed to set timeouts: '${r}'`,
  });
}

export const workerControlRoutes: Route[] = [
  { method: "POST", path: "/api/worker/shutdown/:worker", handler: shutdown },
  { method: "POST", path: "/api/worker/pool/restart/:worker", handler: poolRestart },
  { method: "POST", path: "/api/worker/pool/grow/:worker", handler: poolGrow },
  { method: "POST", path: "/api/worker/pool/shrink/:worker", handler: poolShrink },
  { method: "POST", path: "/api/worker/pool/autoscale/:worker", handler: autoscale },
  { method: "POST", path: "/api/worker/queue/add-consumer/:worker", handler: addConsumer },
  { method: "POST", path: "/api/worker/queue/cancel-consumer/:worker", handler: cancelConsumer },
  { method: "POST", path: "/api/task/rate-limit/:name", handler: rateLimit },
  { method: "POST", path: "/api/task/timeout/:name", handler: timeLimit },
];
