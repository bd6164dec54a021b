/**
 * Errors across the thread boundary. structuredClone keeps neither classes nor custom fields,
 * so a thread sends the Python view it would have produced in-process ({exc_type, exc_message,
 * exc_module}, the stack) and the worker rebuilds an error that gives the same exception repr,
 * result and traceback; Celery's signal errors come back as their own classes so the worker's
 * retry/reject/soft-limit handling is unchanged.
 */
import { MaxRetriesExceededError, Reject, Retry, SoftTimeLimitExceeded, toExceptionInfo } from "../errors";
import type { ExceptionInfo } from "../../protocol/types";

export interface SerializedError {
  info: ExceptionInfo;
  message: string;
  /** "" for a thrown non-Error (no frames, as in-process) */
  stack: string;
  retry?: { countdown: number | null; etaMs: number | null; exc: SerializedError | null };
  reject?: { requeue: boolean };
  softSeconds?: number;
}

/** exc_message must survive structuredClone; anything that would not is sent as its String(). */
function cloneable(args: unknown[]): unknown[] {
  return args.map((a) => {
    try {
      structuredClone(a);
      return a;
    } catch {
      return String(a);
    }
  });
}

export function serializeError(err: unknown): SerializedError {
  const info = toExceptionInfo(err);
  const out: SerializedError = {
    info: { ...info, exc_message: cloneable(info.exc_message) },
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error && typeof err.stack === "string" ? err.stack : "",
  };
  if (err instanceof Retry) {
    out.retry = { countdown: err.countdown, etaMs: err.eta ? err.eta.getTime() : null, exc: err.exc === undefined ? null : serializeError(err.exc) };
  } else if (err instanceof Reject) {
    out.reject = { requeue: err.requeue };
  } else if (err instanceof SoftTimeLimitExceeded) {
    out.softSeconds = err.seconds;
  }
  return out;
}

/** Stand-in for an error thrown in a thread: same name, module, args and stack as the original. */
export class RemoteError extends Error {
  readonly excArgs: unknown[];
  readonly excModule: string;

  constructor(s: SerializedError) {
    super(s.message);
    this.name = s.info.exc_type;
    this.excArgs = s.info.exc_message;
    this.excModule = s.info.exc_module ?? "builtins";
    this.stack = s.stack;
  }
}

export function deserializeError(s: SerializedError): Error {
  let err: Error;
  if (s.retry) {
    const r = s.retry;
    err = new Retry({
      countdown: r.etaMs === null ? (r.countdown ?? undefined) : undefined,
      eta: r.etaMs === null ? undefined : new Date(r.etaMs),
      exc: r.exc === null ? undefined : deserializeError(r.exc),
    });
  } else if (s.reject) {
    err = new Reject(s.message, s.reject.requeue);
  } else if (s.softSeconds !== undefined) {
    err = new SoftTimeLimitExceeded(s.softSeconds);
  } else if (s.info.exc_type === "MaxRetriesExceededError" && s.info.exc_module === "celery.exceptions") {
    err = new MaxRetriesExceededError(s.message, s.info.exc_message);
  } else {
    return new RemoteError(s);
  }
  err.stack = s.stack;
  return err;
}
