/**
 * Sending tasks on Flower's paths: async-apply (name checked), send-task (name unchecked) and
 * apply (waits for the result). The body is Flower's: `{args, kwargs, ...apply_async options}`.
 */
import { z } from "zod";
import { badRequest, HttpError, notFound } from "./errors";
import { resultBody } from "./format";
import { parseBodyDate, parseFloatArg } from "./params";
import type { HandlerInput, HandlerResult, Route } from "./types";

/** How long POST /api/task/apply waits for the result unless `?timeout=` says otherwise, s (default: 300). */
export const DEFAULT_APPLY_TIMEOUT_S = 300;

const dateOrSeconds = z.union([z.number().finite(), z.string()]);

const sendBodySchema = z.object({
  args: z.array(z.unknown()).nullish(),
  kwargs: z.record(z.string(), z.unknown()).nullish(),
  countdown: z.number().finite().nullish(),
  eta: dateOrSeconds.nullish(),
  expires: dateOrSeconds.nullish(),
  queue: z.string().min(1).nullish(),
  priority: z.number().int().min(0).max(255).nullish(),
  task_id: z.string().min(1).max(200).nullish(),
});

export interface SendRequest {
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: {
    countdown?: number;
    eta?: Date;
    /** seconds from now, or an absolute time */
    expires?: number | Date;
    queue?: string;
    priority?: number;
    taskId?: string;
  };
}

/** Validate Flower's send body (other apply_async keys are ignored); 400 with the reason. */
export function parseSendBody(body: unknown): SendRequest {
  if (body === undefined || body === null) return { args: [], kwargs: {}, options: {} };
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("Body must be a JSON object");
  const r = sendBodySchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length ? `'${issue.path.join(".")}': ` : "";
    throw badRequest(`Invalid body: ${where}${issue?.message ?? "invalid value"}`);
  }
  const b = r.data;
  const options: SendRequest["options"] = {};
  if (b.countdown != null) options.countdown = b.countdown;
  if (b.eta != null) options.eta = typeof b.eta === "number" ? new Date(b.eta * 1000) : parseBodyDate(b.eta, "eta");
  if (b.expires != null) options.expires = typeof b.expires === "number" ? b.expires : parseBodyDate(b.expires, "expires");
  if (b.queue != null) options.queue = b.queue;
  if (b.priority != null) options.priority = b.priority;
  if (b.task_id != null) options.taskId = b.task_id;
  return { args: b.args ?? [], kwargs: b.kwargs ?? {}, options };
}

function checkKnown(input: HandlerInput, name: string): void {
  if (!input.ctx.knownTaskNames().includes(name)) throw notFound(`Unknown task '${name}'`);
}

async function send(input: HandlerInput, checkName: boolean): Promise<string> {
  const name = input.params.name!;
  const req = parseSendBody(input.body);
  if (checkName) checkKnown(input, name);
  const result = await input.ctx.client.sendTask(name, req.args, req.kwargs, req.options);
  return result.id;
}

async function asyncApply(input: HandlerInput): Promise<HandlerResult> {
  return { status: 200, body: { "task-id": await send(input, true), state: "PENDING" } };
}

async function sendTask(input: HandlerInput): Promise<HandlerResult> {
  return { status: 200, body: { "task-id": await send(input, false), state: "PENDING" } };
}

async function apply(input: HandlerInput): Promise<HandlerResult> {
  const raw = input.query.get("timeout");
  const timeout = raw === null || raw === "" ? DEFAULT_APPLY_TIMEOUT_S : parseFloatArg(raw);
  if (timeout <= 0) throw badRequest(`Invalid argument '${raw}' for 'timeout': must be > 0`);
  const id = await send(input, true);
  const meta = await input.ctx.results.wait(id, Math.round(timeout * 1000));
  if (!meta) {
    throw new HttpError(504, "timeout", `Timed out after ${timeout} s waiting for the result of '${id}'`, {
      extra: { "task-id": id },
    });
  }
  return { status: 200, body: resultBody(id, meta, true) };
}

export const sendRoutes: Route[] = [
  { method: "POST", path: "/api/task/async-apply/:name", handler: asyncApply, body: "json" },
  { method: "POST", path: "/api/task/send-task/:name", handler: sendTask, body: "json" },
  { method: "POST", path: "/api/task/apply/:name", handler: apply, body: "json" },
];
