// Entry of the event-decoding thread (event-thread.ts). A worker thread does not inherit the
// parent's `--import tsx` loader on Node 20, so register it here when the entry is TypeScript.
import { workerData } from "node:worker_threads";

const entry = workerData?.entry;
if (typeof entry !== "string") throw new Error("event thread: workerData.entry is missing");
if (entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(entry);
