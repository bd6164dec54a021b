/** Execution pools (`-P async|threads`) and the task module convention they load. */
export { AsyncPool } from "./async-pool";
export { ThreadPool, type ThreadPoolOptions } from "./thread-pool";
export { loadApp, resolveAppUrl, type AppRegister } from "./app-module";
export { RemoteError, serializeError, deserializeError, type SerializedError } from "./serialize";
export type { ExecutionPool, Outcome, PoolKind, PoolStats } from "./types";
