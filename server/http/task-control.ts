/**
 * Acting on one task: revoke (Flower's path and texts) and Petal's own retry, which re-sends a
 * finished task with its recorded arguments and links the two ids.
 */
import { READY_STATES, type TaskState } from "../../lib/protocol/types";
import { badRequest, conflict, notFound } from "./errors";
import { parseBool } from "./params";
import type { HandlerInput, HandlerResult, Route } from "./types";

/** Signals revoke?terminate may send (what a worker can deliver to a pool process). */
export const REVOKE_SIGNALS: readonly string[] = ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Celery accepts "TERM" as well as "SIGTERM", in any case. */
export function parseSignal(raw: string | null): string {
  if (raw === null || raw === "") return "SIGTERM";
  const up = raw.trim().toUpperCase();
  const sig = up.startsWith("SIG") ? up : "SIG" + up;
  if (!REVOKE_SIGNALS.includes(sig)) {
    throw badRequest(`Invalid argument '${raw}' for 'signal': use one of ${REVOKE_SIGNALS.join(", ")}`);
  }
  return sig;
}

async function revoke({ params, query, ctx }: HandlerInput): Promise<HandlerResult> {
  const id = params.id!;
  const terminate = parseBool(query.get("terminate"), false);
  const signal = parseSignal(query.get("signal"));
  // No existence check, like Flower: an id can be revoked before any worker has seen it.
  await ctx.client.revoke(id, { terminate, signal });
  return { status: 200, body: { message: `Revoked '${id}'` } };
}

async function retry({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const id = params.id!;
  const task = ctx.state.getTask(id);
  const meta = await ctx.results.get(id);
  if (!task && !meta) throw notFound(`Unknown task '${id}'`);
  // Events can lag the backend (the result is stored before task-failed is ingested).
  let state: TaskState = task ? task.state : meta!.status;
  if (!READY_STATES.has(state) && meta && READY_STATES.has(meta.status)) state = meta.status;
  if (!READY_STATES.has(state)) {
    throw conflict(`Task '${id}' is ${state}: only finished tasks (${[...READY_STATES].join(", ")}) can be retried`);
  }
  const name = task?.name ?? meta?.name ?? null;
  if (!name) throw conflict(`no task name recorded for ${id}`);
  // Event state only has repr strings; the real values come from the backend's extended meta.
  if (!meta || !Array.isArray(meta.args)) throw conflict(`no arguments recorded for ${id}`);
  const kwargs = meta.kwargs && typeof meta.kwargs === "object" ? meta.kwargs : {};
  const queue = meta.queue ?? task?.queue ?? undefined;
  const sent = await ctx.client.sendTask(name, meta.args, kwargs, { queue: queue ?? undefined, retryOf: id });
  ctx.state.linkRetry(id, sent.id);
  return { status: 200, body: { "task-id": sent.id, retry_of: id, state: "PENDING" } };
}

export const taskControlRoutes: Route[] = [
  { method: "POST", path: "/api/task/revoke/:id", handler: revoke },
  { method: "POST", path: "/api/task/retry/:id", handler: retry },
];
