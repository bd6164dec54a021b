/** The embedded queue engine: registry, client, worker and signal errors (Celery 5 semantics). */
export { TaskRegistry, resolveTaskOptions, autoretryCountdown } from "./registry";
export type { TaskOptions, ResolvedTaskOptions, TaskContext, TaskHandler, RegisteredTask, RetryOptions } from "./registry";
export {
  CeleryError,
  Retry,
  Reject,
  TaskRevokedError,
  TaskRevokedError as Revoked,
  TerminatedError,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  WorkerLostError,
  MaxRetriesExceededError,
  NotRegistered,
  EncodeError,
  toExceptionInfo,
  excRepr,
  formatTraceback,
  signalNumber,
} from "./errors";
export type { RetryInit } from "./errors";
export { Client, AsyncResult, TaskFailedError, ResultTimeoutError } from "./client";
export type { ClientOptions, ApplyOptions, GetOptions, TaskCaller, ControlOptions, RevokeOptions, Inspect } from "./client";
export { Worker } from "./worker";
export type { StopOptions, WorkerStats } from "./worker";
export type { WorkerRunState } from "./worker-core";
export { expandHostname } from "./worker-options";
export { AsyncPool, ThreadPool, loadApp, resolveAppUrl, RemoteError } from "./pool/index";
export type { ExecutionPool, PoolKind, PoolStats, ThreadPoolOptions, AppRegister } from "./pool/index";
export type { WorkerOptions, WorkerLogger, DeadLetter } from "./worker-options";
export { parseRateLimit, TokenBucket } from "./rate-limit";
export { LimitedSet } from "./limited-set";
