/**
 * Control actions over the Flower-compatible HTTP API. Every call resolves (never throws) to an
 * outcome the caller turns into a toast: a message on success, or what failed and why.
 */
import type { ApiError } from "@/lib/protocol/api";
import { apiUrl } from "./prefix";

export type ActionResult<T = string> = { ok: true; message: string; value: T } | { ok: false; status: number; message: string };

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

function isApiError(v: unknown): v is ApiError {
  if (typeof v !== "object" || v === null) return false;
  const e = (v as { error?: unknown }).error;
  return typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string";
}

function explainStatus(status: number): string {
  if (status === 401) return "Not authorised: log in again.";
  if (status === 403) return "Refused: the server is in read-only mode or the worker declined.";
  if (status === 404) return "Not found: it may have gone away.";
  if (status >= 500) return `Server error (${status}).`;
  return `Request failed (${status}).`;
}

/** POST to `path` with query params; parses JSON or text bodies, Petal's or Flower's error forms. */
export async function postApi(
  path: string,
  params: Record<string, string | number | boolean | undefined> = {},
  fetchImpl: Fetch = fetch,
): Promise<ActionResult<Record<string, unknown>>> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  const url = apiUrl(path) + (qs.size ? `?${qs}` : "");
  let res: Response;
  try {
    res = await fetchImpl(url, { method: "POST", headers: { accept: "application/json" }, credentials: "same-origin" });
  } catch (e) {
    return { ok: false, status: 0, message: `Network error: ${e instanceof Error ? e.message : String(e)}` };
  }
  const text = await res.text().catch(() => "");
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    if (isApiError(body)) return { ok: false, status: res.status, message: body.error.message };
    const plain = text && !text.trimStart().startsWith("<") ? text.slice(0, 300) : "";
    return { ok: false, status: res.status, message: plain || explainStatus(res.status) };
  }
  const obj = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const message = typeof obj.message === "string" ? obj.message : "Done";
  return { ok: true, message, value: obj };
}

const enc = encodeURIComponent;

export function revokeTask(id: string, terminate = false, signal = "SIGTERM", f?: Fetch) {
  return postApi(`/api/task/revoke/${enc(id)}`, terminate ? { terminate: true, signal } : {}, f);
}

/** Re-run a finished task; the value is the new task's id. */
export async function retryTask(id: string, f?: Fetch): Promise<ActionResult<string>> {
  const r = await postApi(`/api/task/retry/${enc(id)}`, {}, f);
  if (!r.ok) return r;
  const newId = r.value["task-id"];
  if (typeof newId !== "string" || !newId) return { ok: false, status: 200, message: "The server did not return the new task id." };
  return { ok: true, message: `Retried as ${newId}`, value: newId };
}

/**
 * Ask the server whether a retry would work (GET, sends nothing): it may hold the real arguments
 * in the result backend when the reprs the browser sees do not parse. null when it cannot tell.
 */
export async function checkRetry(id: string, f: Fetch = fetch): Promise<{ retryable: boolean; reason: string | null } | null> {
  try {
    const res = await f(apiUrl(`/api/task/retry/${enc(id)}`), { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (!res.ok) return null;
    const body = (await res.json()) as { retryable?: unknown; reason?: unknown };
    if (typeof body.retryable !== "boolean") return null;
    return { retryable: body.retryable, reason: typeof body.reason === "string" ? body.reason : null };
  } catch {
    return null;
  }
}

export function shutdownWorker(name: string, f?: Fetch) {
  return postApi(`/api/worker/shutdown/${enc(name)}`, {}, f);
}

export function growPool(name: string, n = 1, f?: Fetch) {
  return postApi(`/api/worker/pool/grow/${enc(name)}`, { n }, f);
}

export function shrinkPool(name: string, n = 1, f?: Fetch) {
  return postApi(`/api/worker/pool/shrink/${enc(name)}`, { n }, f);
}

export function setRateLimit(taskName: string, worker: string, ratelimit: string, f?: Fetch) {
  return postApi(`/api/task/rate-limit/${enc(taskName)}`, { workername: worker, ratelimit }, f);
}
