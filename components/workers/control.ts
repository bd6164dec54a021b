/**
 * Worker and task control on Flower's paths, for the worker page. Each answer carries `replies`
 * ({node: {ok} | {error}}); the toast lists what every worker replied.
 */
import { postApi, type ActionResult } from "../realtime/actions";

const enc = encodeURIComponent;
type R = Promise<ActionResult<Record<string, unknown>>>;

export const autoscalePool = (w: string, min: number, max: number): R => postApi(`/api/worker/pool/autoscale/${enc(w)}`, { min, max });
export const restartPool = (w: string): R => postApi(`/api/worker/pool/restart/${enc(w)}`);
export const addConsumer = (w: string, queue: string): R => postApi(`/api/worker/queue/add-consumer/${enc(w)}`, { queue });
export const cancelConsumer = (w: string, queue: string): R => postApi(`/api/worker/queue/cancel-consumer/${enc(w)}`, { queue });
export const setTimeLimit = (task: string, w: string, soft: number | undefined, hard: number | undefined): R =>
  postApi(`/api/task/timeout/${enc(task)}`, { workername: w, soft, hard });

/** "w1@host: pool will grow; w2@host: error: …" from a control answer's `replies`. */
export function describeReplies(replies: unknown): string {
  if (typeof replies !== "object" || replies === null) return "";
  const parts: string[] = [];
  for (const [node, r] of Object.entries(replies as Record<string, unknown>)) {
    if (typeof r === "object" && r !== null && "ok" in r) parts.push(`${node}: ${text((r as { ok: unknown }).ok)}`);
    else if (typeof r === "object" && r !== null && "error" in r) parts.push(`${node}: error: ${text((r as { error: unknown }).error)}`);
    else parts.push(`${node}: ${text(r)}`);
  }
  return parts.join("; ");
}

function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Toast body: the server's message, then each worker's reply. */
export function answerBody(r: { message: string; value: Record<string, unknown> }): string {
  const replies = describeReplies(r.value.replies);
  return replies ? `${r.message}. Replies: ${replies}` : r.message;
}
