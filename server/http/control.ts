/**
 * One remote-control call to one worker, mapped the way Flower maps it: `{ok}` → 200 with
 * Flower's message, `{error}` → 403 "Failed to …". Every answer also carries `replies`
 * (Petal's extra): what each worker replied.
 */
import type { ServerContext } from "../context";
import { HttpError, notFound } from "./errors";
import type { HandlerResult } from "./types";

/** How long a control command waits for the worker's reply, ms (default: 1000, Celery's). */
export const CONTROL_TIMEOUT_MS = 1000;

/** 404 unless the worker is known to the cluster state (online or not, like Flower's cache). */
export function requireWorker(ctx: ServerContext, name: string): void {
  if (!ctx.state.getWorker(name)) throw notFound(`Unknown worker '${name}'`);
}

/** 404 unless some worker registered the task name or it was seen in events. */
export function requireTaskName(ctx: ServerContext, name: string): void {
  if (!ctx.knownTaskNames().includes(name)) throw notFound(`Unknown task '${name}'`);
}

/** The worker's error text as Flower prints it (the repr of its exception). */
function errorText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export interface ControlCall {
  worker: string;
  method: string;
  args: Record<string, unknown>;
  /** message on `{ok}`; gets the ok value (some of Flower's messages echo it) */
  ok: (okValue: unknown) => string;
  /** message on `{error}`; gets the worker's reason */
  failed: (reason: string) => string;
}

export async function controlOne(ctx: ServerContext, call: ControlCall): Promise<HandlerResult> {
  const replies = await ctx.client.control(call.method, call.args, {
    destination: [call.worker],
    timeout: CONTROL_TIMEOUT_MS,
    reply: true,
  });
  const reply = replies[call.worker];
  if (reply !== null && typeof reply === "object" && !Array.isArray(reply)) {
    const r = reply as Record<string, unknown>;
    if ("ok" in r) return { status: 200, body: { message: call.ok(r.ok), replies } };
    if ("error" in r) {
      throw new HttpError(403, "worker_error", call.failed(errorText(r.error)), { extra: { replies } });
    }
  }
  if (reply === undefined) {
    throw new HttpError(504, "timeout", `No reply from '${call.worker}' within ${CONTROL_TIMEOUT_MS / 1000} s`, {
      extra: { replies },
    });
  }
  // A reply that is neither ok nor error (e.g. an older worker's plain value) counts as done.
  return { status: 200, body: { message: call.ok(reply), replies } };
}
