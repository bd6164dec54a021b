/**
 * What server/compose.ts builds and every server part (http, realtime, ingest, demo) receives.
 * One object, concrete implementations picked in one place (compose.ts).
 */
import type { Broker, ResultBackend } from "../lib/broker/types";
import type { ClusterState } from "../lib/state";
import type { Client } from "../lib/engine";

export interface PetalConfig {
  /** (default: 5555) */
  port: number;
  /** (default: "127.0.0.1") */
  address: string;
  /** (default: "memory://") */
  broker: string;
  /** run the demo workload (default: true for memory://, false otherwise) */
  demo: boolean;
  /** "user:pass[,user2:pass2]" or null (default: null) */
  basicAuth: string | null;
  /** refuse control actions (default: false) */
  readOnly: boolean;
  /** tasks kept in memory (default: 100000) */
  maxTasks: number;
  /** serve under a path prefix, e.g. "/flower" (default: "") */
  urlPrefix: string;
  /** Next dev mode instead of the production build (default: false) */
  dev: boolean;
  /** log level (default: "info") */
  logLevel: "debug" | "info" | "warn" | "error";
  /** follow Petal's event stream on Redis, resuming after the saved cursor (default: true) */
  eventStream?: boolean;
  /** entries the event stream keeps when this process publishes events; 0 = pub/sub only (default: 100000) */
  eventStreamMaxLen?: number;
  /** Celery's broker global_keyprefix, before every broker key and channel; not results (default: none) */
  globalKeyprefix?: string;
}

/** A message a worker could not parse, kept so nothing is lost silently (shown on /broker). */
export interface DeadLetter {
  at: number;
  queue: string;
  reason: string;
  raw: string;
}

export interface ServerContext {
  config: PetalConfig;
  broker: Broker;
  results: ResultBackend;
  state: ClusterState;
  client: Client;
  version: string;
  /** the last N dead-lettered messages (bounded) */
  deadLetters: DeadLetter[];
  /** workers known to have consumed each queue (from engine stats / active_queues), for /broker */
  queueConsumers(): Record<string, string[]>;
  /** task names the cluster can run (registered by embedded workers, plus names seen in events) */
  knownTaskNames(): string[];
  log: Logger;
}

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}
