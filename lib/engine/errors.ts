/**
 * Signal errors a task (or the worker) throws, and the Python-flavoured views of any error that
 * Celery's wire needs: the `{exc_type, exc_message, exc_module}` result object, the repr string
 * of events (`ValueError('boom')`) and a `Traceback (most recent call last):` text, so the
 * dashboard and Python clients see our failures exactly as they see a Celery worker's.
 */
import { pythonRepr } from "../protocol/repr";
import type { ExceptionInfo } from "../protocol/types";

/**
 * Base of the errors that mirror Celery/billiard exceptions: they carry the Python module and
 * the exception args, so `toExceptionInfo` writes what a Celery worker would.
 */
export class CeleryError extends Error {
  /** Python exception args (default: [message]) */
  readonly excArgs: unknown[];

  constructor(message: string, excArgs?: unknown[]) {
    super(message);
    this.name = new.target.name;
    this.excArgs = excArgs ?? (message === "" ? [] : [message]);
  }

  /** Python module of the exception (default: "celery.exceptions") */
  get excModule(): string {
    return "celery.exceptions";
  }
}

export interface RetryInit {
  /** seconds from now */
  countdown?: number;
  /** absolute time; wins over countdown */
  eta?: Date;
  /** the error that caused the retry (shown in task-retried's `exception`) */
  exc?: unknown;
}

/** Thrown by `ctx.retry()`: the worker re-publishes the task with retries + 1. */
export class Retry extends CeleryError {
  readonly countdown: number | null;
  readonly eta: Date | null;
  readonly exc: unknown;

  constructor(init: RetryInit = {}) {
    const when = init.eta ? `at ${init.eta.toISOString()}` : `in ${init.countdown ?? 0}s`;
    const text = init.exc !== undefined ? `Retry ${when}: ${excRepr(init.exc)}` : `Retry ${when}`;
    super(text);
    this.countdown = init.countdown ?? null;
    this.eta = init.eta ?? null;
    this.exc = init.exc;
  }
}

/** Thrown by a task to refuse its message: task-rejected, then requeued or dropped. */
export class Reject extends CeleryError {
  constructor(
    reason = "",
    readonly requeue = false,
  ) {
    super(reason);
  }
}

/** Celery's TaskRevokedError; the REVOKED result carries its args ("revoked", "expired", "terminated"). */
export class TaskRevokedError extends CeleryError {}

/** Abort reason of a task terminated by `revoke(terminate=true)`. */
export class TerminatedError extends TaskRevokedError {
  constructor(readonly signum: number = 15) {
    super("terminated");
  }
}

/** Abort reason on the soft time limit; a handler may catch it and clean up. */
export class SoftTimeLimitExceeded extends CeleryError {
  constructor(readonly seconds: number) {
    super(`SoftTimeLimitExceeded(${seconds})`, [seconds]);
  }
  override get excModule(): string {
    return "billiard.exceptions";
  }
}

/** The task ran past its hard time limit and was failed (its promise is abandoned). */
export class TimeLimitExceeded extends CeleryError {
  constructor(readonly seconds: number) {
    super(`TimeLimitExceeded(${seconds})`, [seconds]);
  }
  override get excModule(): string {
    return "billiard.exceptions";
  }
}

/** Abort reason of running tasks when a worker shuts down without waiting for them. */
export class WorkerLostError extends CeleryError {
  override get excModule(): string {
    return "billiard.exceptions";
  }
}

export class MaxRetriesExceededError extends CeleryError {}

/** No handler for this task name on the worker that received it. */
export class NotRegistered extends CeleryError {
  constructor(readonly taskName: string) {
    super(taskName);
  }
}

/** A task result could not be serialized to JSON (kombu's EncodeError). */
export class EncodeError extends CeleryError {
  override get excModule(): string {
    return "kombu.exceptions";
  }
}

// ---------------------------------------------------------------------------------------------
// Python views of an error

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  excModule?: unknown;
  excArgs?: unknown;
  stack?: unknown;
}

function excType(err: unknown): string {
  if (err instanceof Error) {
    const n = err.name || err.constructor?.name;
    return typeof n === "string" && /^[A-Za-z_][\w.]*$/.test(n) ? n : "Exception";
  }
  return "Exception";
}

function excModule(err: unknown): string | null {
  if (err instanceof Error) {
    const m = (err as ErrorLike).excModule;
    if (typeof m === "string" && m !== "") return m;
    return "builtins";
  }
  return "builtins";
}

function excArgs(err: unknown): unknown[] {
  if (err instanceof Error) {
    const a = (err as ErrorLike).excArgs;
    if (Array.isArray(a)) return a;
    return err.message === "" ? [] : [err.message];
  }
  if (err === undefined || err === null) return [];
  if (typeof err === "string") return [err];
  if (typeof err === "number" || typeof err === "boolean") return [err];
  return [String(err)];
}

/**
 * The Python-style exception object a FAILURE/REVOKED result stores, so Python clients can
 * rebuild it. Plain JS errors are reported under "builtins" (a Python client makes a stand-in
 * class for names it does not know, e.g. `Error`); an error may set `excModule`/`excArgs`.
 */
export function toExceptionInfo(err: unknown): ExceptionInfo {
  return { exc_type: excType(err), exc_message: excArgs(err), exc_module: excModule(err) };
}

/** Python repr of an exception, as events show it: `ValueError('boom')`, `Retry()`; "None" for none. */
export function excRepr(err: unknown): string {
  if (err === undefined || err === null) return "None";
  const args = excArgs(err);
  return `${excType(err)}(${args.map((a) => pythonRepr(a)).join(", ")})`;
}

/** The last line of a Python traceback: `ValueError: boom`, `celery.exceptions.Retry: Retry in 1s`. */
function lastLine(err: unknown): string {
  const mod = excModule(err);
  const type = excType(err);
  const qualified = mod && mod !== "builtins" ? `${mod}.${type}` : type;
  const args = excArgs(err);
  // Python's str(exc): the lone arg as text, several as a tuple.
  let text = "";
  if (args.length === 1) text = typeof args[0] === "string" ? args[0] : pythonRepr(args[0]);
  else if (args.length > 1) text = "(" + args.map((a) => pythonRepr(a)).join(", ") + ")";
  return text === "" ? qualified : `${qualified}: ${text}`;
}

const FRAME_WITH_FN = /^\s*at (?:async )?(.*?) \((.*?):(\d+):\d+\)$/;
const FRAME_BARE = /^\s*at (?:async )?(.*?):(\d+):\d+$/;

/**
 * A Python-looking traceback built from the JS stack (most recent call last, as Python prints
 * it), so the UI renders ours and Celery's the same way. Node internals are left out.
 */
export function formatTraceback(err: unknown): string {
  const frames: string[] = [];
  const stack = err instanceof Error && typeof err.stack === "string" ? err.stack : "";
  for (const line of stack.split("\n")) {
    let file: string;
    let lineNo: string;
    let fn: string;
    const m = FRAME_WITH_FN.exec(line);
    if (m) {
      [, fn, file, lineNo] = m;
    } else {
      const b = FRAME_BARE.exec(line);
      if (!b) continue;
      [, file, lineNo] = b;
      fn = "<module>";
    }
    if (file.startsWith("node:")) continue;
    if (file.startsWith("file://")) file = decodeURI(file.slice(7));
    frames.push(`  File "${file}", line ${lineNo}, in ${fn.replace(/^Object\./, "") || "<module>"}\n`);
  }
  frames.reverse();
  return "Traceback (most recent call last):\n" + frames.join("") + lastLine(err) + "\n";
}

/** Signal numbers by name, for task-revoked's `signum` (Linux numbering, as Celery reports). */
const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** "SIGKILL" / "KILL" / "9" / 9 → 9; unknown names fall back to SIGTERM (15) like a plain revoke. */
export function signalNumber(signal: string | number | null | undefined): number {
  if (typeof signal === "number" && Number.isInteger(signal) && signal > 0) return signal;
  if (typeof signal !== "string" || signal === "") return 15;
  const s = signal.toUpperCase();
  if (/^\d+$/.test(s)) return Number(s);
  return SIGNALS[s] ?? SIGNALS["SIG" + s] ?? 15;
}
