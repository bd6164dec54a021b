/**
 * Acting on one task: revoke and abort (Flower's paths and texts) and Petal's own retry, which
 * re-sends a finished task with its recorded arguments and links the two ids.
 */
import type { TaskRecord } from "../../lib/protocol/api";
import { parseArgsRepr, parseKwargsRepr } from "../../lib/protocol/pyliteral";
import { READY_STATES, type ResultMeta, type ResultState } from "../../lib/protocol/types";
import { getTaskWithHistory } from "../../lib/history/attach";
import { naiveUtcIso } from "../../lib/engine/time";
import { HttpError, badRequest, conflict, notFound } from "./errors";
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

/**
 * Flower's abort: the result backend says ABORTED, which a Celery AbortableTask (and a Petal
 * task, ctx.isAborted()) reads and stops on; nothing is sent to workers. Never over a stored
 * SUCCESS, as Celery's backend refuses it too. No existence check, like Flower.
 */
async function abort({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const id = params.id!;
  await ctx.results.store({ status: "ABORTED", result: null, traceback: null, children: [], date_done: naiveUtcIso(Date.now()), task_id: id });
  return { status: 200, body: { message: `Aborted '${id}'` } };
}

interface RetryPlan {
  name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  queue: string | undefined;
  /** where the arguments come from */
  source: "result_backend" | "repr";
}

/** What a retry of `id` would send; throws notFound / conflict (with the reason) when it cannot. */
async function planRetry(ctx: HandlerInput["ctx"], id: string): Promise<RetryPlan> {
  // Tasks past the in-memory window are in history.
  const task = getTaskWithHistory(ctx.state, id) ?? undefined;
  const meta = await ctx.results.get(id);
  if (!task && !meta) throw notFound(`Unknown task '${id}'`);
  // Events can lag the backend (the result is stored before task-failed is ingested).
  let state: ResultState = task ? task.state : meta!.status;
  if (!READY_STATES.has(state) && meta && READY_STATES.has(meta.status)) state = meta.status;
  if (!READY_STATES.has(state)) {
    throw conflict(`Task '${id}' is ${state}: only finished tasks (${[...READY_STATES].join(", ")}) can be retried`);
  }
  const name = task?.name ?? meta?.name ?? null;
  if (!name) throw conflict(`no task name recorded for ${id}`);
  const { args, kwargs } = recoverArguments(id, task, meta);
  // Where the task went first; sendTask falls back to the registered queue, else "celery".
  // Empty strings count as unknown: events of a minimal message carry "" for what is missing.
  const queue = meta?.queue || task?.queue || task?.routing_key || undefined;
  return { name, args, kwargs, queue, source: meta && Array.isArray(meta.args) ? "result_backend" : "repr" };
}

async function retry({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const id = params.id!;
  const plan = await planRetry(ctx, id);
  const sent = await ctx.client.sendTask(plan.name, plan.args, plan.kwargs, { queue: plan.queue, retryOf: id });
  ctx.state.linkRetry(id, sent.id);
  return { status: 200, body: { "task-id": sent.id, retry_of: id, state: "PENDING" } };
}

/**
 * Dry run of retry, for the Retry button: the browser can only read the reprs, while the
 * server may also have the real arguments in the result backend (result_extended, Petal's own
 * workers). 200 either way; `reason` says why not.
 */
async function retryCheck({ params, ctx }: HandlerInput): Promise<HandlerResult> {
  const id = params.id!;
  try {
    const plan = await planRetry(ctx, id);
    return { status: 200, body: { retryable: true, source: plan.source } };
  } catch (e) {
    if (e instanceof HttpError && e.status === 409) return { status: 200, body: { retryable: false, reason: e.message } };
    throw e;
  }
}

/**
 * The arguments to re-send: the backend's extended meta holds the real values (result_extended);
 * otherwise the event reprs, when they read back as Python literals. Truncated or non-literal
 * reprs are refused rather than guessed, since a wrong re-run is worse than none.
 */
export function recoverArguments(
  id: string,
  task: TaskRecord | undefined,
  meta: ResultMeta | null | undefined,
): { args: unknown[]; kwargs: Record<string, unknown> } {
  if (meta && Array.isArray(meta.args)) {
    const kwargs = meta.kwargs && typeof meta.kwargs === "object" && !Array.isArray(meta.kwargs) ? (meta.kwargs as Record<string, unknown>) : {};
    return { args: meta.args, kwargs };
  }
  if (!task || (!task.args && !task.kwargs)) throw conflict(`no arguments recorded for ${id}`);
  const args = parseArgsRepr(task.args);
  if (!args.ok) throw conflict(`cannot retry ${id}: its args cannot be recovered from ${clip(task.args)}: ${args.reason}`);
  const kwargs = parseKwargsRepr(task.kwargs);
  if (!kwargs.ok) throw conflict(`cannot retry ${id}: its kwargs cannot be recovered from ${clip(task.kwargs)}: ${kwargs.reason}`);
  return { args: args.value, kwargs: kwargs.value };
}

function clip(repr: string | null): string {
  if (repr === null) return "nothing";
  return JSON.stringify(repr.length > 60 ? repr.slice(0, 60) + "…" : repr);
}

export const taskControlRoutes: Route[] = [
  { method: "POST", path: "/api/task/revoke/:id", handler: revoke },
  { method: "POST", path: "/api/task/abort/:id", handler: abort },
  { method: "POST", path: "/api/task/retry/:id", handler: retry },
  { method: "GET", path: "/api/task/retry/:id", handler: retryCheck },
];
