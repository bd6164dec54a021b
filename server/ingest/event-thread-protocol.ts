/** Messages and shared counters between the event-decoding thread and Ingest (main thread). */

/** Int32 slots of the SharedArrayBuffer both threads update with Atomics. */
export const SLOT_INFLIGHT_BATCHES = 0;
/** body text posted but not yet applied, in units of 1024 characters */
export const SLOT_INFLIGHT_KCHARS = 1;
export const SLOT_COUNT = 2;

export interface EventThreadData {
  /** boot file → the worker module to import */
  entry: string;
  /** the broker URL (redis://, rediss://, sentinel://), credentials included */
  url: string;
  /** Celery's global_keyprefix (default: "") */
  globalKeyprefix: string;
  counters: SharedArrayBuffer;
  /** post a batch once it holds this many events, whatever the main thread is doing */
  maxBatchEvents: number;
  /** keep posting while fewer batches than this wait on the main thread */
  maxInflightBatches: number;
  /** drop payloads (counted) while this much body text waits on the main thread, kchars */
  maxQueuedKChars: number;
  /** leave out payloads also appended to this event stream (skipStreamed), or null */
  skipStreamKey: string | null;
  /** CLIENT SETNAME of the subscriber, so CLIENT LIST shows who it is */
  connectionName: string;
}

export type FromThread =
  | { t: "ready" }
  | { t: "batch"; text: string; events: number; rejected: number; dropped: number; kchars: number }
  | { t: "status"; status: "ready" | "reconnecting" | "error"; reconnects: number; error?: string }
  | { t: "closed" };

export type ToThread = { t: "close" };
