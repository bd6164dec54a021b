/** What the worker and its pool threads say to each other (structured-clone safe shapes). */
import type { SerializedError } from "./serialize";

/** workerData of a pool thread */
export interface ThreadData {
  /** file: URL of the task module */
  app: string;
}

export interface RunRequest {
  type: "run";
  id: string;
  name: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  retries: number;
  hostname: string;
  eta: string | null;
  expires: string | null;
  parentId: string | null;
  rootId: string | null;
}

export type ToThread = RunRequest | { type: "soft"; id: string; seconds: number } | { type: "aborted"; ask: number; value: boolean };

export type FromThread =
  | { type: "ready"; names: string[] }
  | { type: "init-error"; error: SerializedError }
  | { type: "done"; id: string; ok: true; value: unknown }
  | { type: "done"; id: string; ok: false; error: SerializedError }
  | { type: "log"; id: string; message: string }
  /** ctx.isAborted() in the thread: the worker reads the result backend and answers `ask` */
  | { type: "is-aborted"; id: string; ask: number };
